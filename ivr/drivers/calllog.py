"""Structured call log: one JSON object per line (JSONL).

Every event the engine received, every action it returned, and a final `end` record with
the outcome, node path and duration. Personal data (NIK, card and phone numbers) is masked
before anything touches the disk: the log is meant to be shared with QA and trainers.
"""
from __future__ import annotations

import dataclasses
import errno
import json
import os
from pathlib import Path
from typing import IO

from ivr.grammar import Grammar
from ivr.privacy import field_kind, mask_input, mask_pii, mask_readback, mask_value, open_private, private_dir


def _plain(obj):
    if isinstance(obj, Grammar):
        return {"name": obj.name, "choices": [c.token for c in obj.choices], "digits": obj.digits}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):   # a named field (nik, tgl_lahir, hp, ...) is masked by its kind
        return {str(k): mask_value(str(k), v) if isinstance(v, str) and field_kind(k) else _plain(v)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, str):
        return mask_pii(obj)
    return obj


def _mask_input_event(name: str, ev, data: dict) -> dict:
    """The caller's own input in a logged event, hidden (masking, kept apart from writing)."""
    if name == "Digit" and ev.key.isdigit():
        return {"key": "*", "masked": True}
    if name == "Speech" and isinstance(data.get("result"), dict):
        r = ev.result
        res = dict(data["result"])
        res["text"] = mask_input(r.text or "")
        res["digits"] = None if r.digits is None else "*" * len(r.digits)
        res["words"] = [mask_input(w) for w in r.words]
        if isinstance(res.get("extra"), dict):
            res["extra"] = {k: v if k in _SPEECH_EXTRA_LABELS else _mask_strings(v) for k, v in res["extra"].items()}
        return {**data, "result": res, "masked": True}
    return data


#: Recogniser details that are labels, never what the caller said; every other string in a
#: result's `extra` (N-best alternatives, second opinions, partials) is speech and is masked.
_SPEECH_EXTRA_LABELS = frozenset({"reason", "window", "decoder", "engine"})


def _mask_strings(obj):
    if isinstance(obj, str):
        return mask_input(obj)
    if isinstance(obj, dict):
        return {k: _mask_strings(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_mask_strings(v) for v in obj]
    return obj


def default_log_dir() -> Path:
    home = os.environ.get("IVR_HOME")
    base = Path(home) if home else Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "ivr"
    return base / "logs"


#: Records that report something the caller was told and that must survive a crash: a
#: service result carrying one of these variables (a request committed with its ticket)
#: and the call's `end` record are also fsync'ed, not only flushed.
DURABLE_VARS = ("tiket",)


class CallLog:
    """Append-only JSONL writer with masking. Use as a context manager or call close().

    Every record is flushed to the OS as it is written (a killed process loses nothing it
    logged) and the records in DURABLE_VARS / `end` are fsync'ed. A log that cannot be
    written (disk full, /dev/full, a vanished folder) never ends the call: the first error
    is kept in `error`, later records are dropped, and the driver reports it at the end
    (`ivr call` exits with LOG_FAILED_EXIT)."""

    def __init__(self, path: str | Path | None = None, stream: IO[str] | None = None):
        self.path = Path(path) if path else None
        if stream is not None:
            self._f = stream
        else:
            assert self.path is not None
            # personal data (even masked, a log is a caller's history): 0600 in a 0700 folder
            private_dir(self.path.parent, tighten=self.path.parent == default_log_dir())
            self._f = open_private(self.path, "a")
        self._digits: list[str] = []
        self.error: OSError | None = None   # the first write error; the log stops there

    @property
    def error_text(self) -> str | None:
        """The write error in one line (`/dev/full: No space left on device`), or None."""
        if self.error is None:
            return None
        return f"{self.path or 'call log'}: {self.error.strerror or self.error}"

    def _fail(self, exc: OSError) -> None:
        if self.error is None:
            self.error = exc
        try:   # drop what is still buffered: closing would only fail again
            self._f.close()
        except (OSError, ValueError):
            pass

    def write(self, t: float, rec: str, **data) -> None:
        """One record: `t` (seconds on the call's clock), `rec` (start, event, action, queue,
        end) and the record's own fields."""
        if self.error is not None:
            return
        line = {"t": round(float(t), 3), "rec": rec, **_plain(data)}
        vars_ = line.get("vars")
        durable = rec == "end" or (isinstance(vars_, dict) and any(vars_.get(k) for k in DURABLE_VARS))
        try:
            self._f.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._f.flush()
            if durable:
                self._sync()
        except OSError as exc:
            self._fail(exc)

    def _sync(self) -> None:
        try:
            fd = self._f.fileno()
        except (AttributeError, OSError, ValueError):
            return   # an in-memory stream: nothing to sync
        try:
            os.fsync(fd)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EROFS):   # a pipe or tty cannot be synced
                raise

    def event(self, ev, sensitive: bool = False) -> None:
        """Log an event. `sensitive`: the caller's input is personal data here (see
        `CallRuntime.private_input`): a digit key is logged as `*` (one key is harmless,
        sixteen of them are a NIK), and a speech result's text, digits and words are
        hidden (`ivr.privacy.mask_input`) -- a NIK read out in groups is still a NIK."""
        name = type(ev).__name__
        data = _plain(ev)
        data.pop("at", None)
        if sensitive:
            data = _mask_input_event(name, ev, data)
        self.write(ev.at, "event", type=name, **data)

    def action(self, a, t: float, private: bool = False) -> None:
        """Log an action. `private`: a prompt that reads the caller's input back (see
        `ivr.privacy.prompt_is_private`): its digits are hidden like the input's."""
        data = _plain(a)
        if private and isinstance(data.get("text"), str):
            data["text"] = mask_readback(a.text)
        self.write(t, "action", type=type(a).__name__, **data)

    def close(self) -> None:
        if self.path is not None and self.error is None:
            try:
                self._f.close()
            except OSError as exc:
                self._fail(exc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
