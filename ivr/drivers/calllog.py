"""Structured call log: one JSON object per line (JSONL).

Every event the engine received, every action it returned, and a final `end` record with
the outcome, node path and duration. Personal data (NIK, card and phone numbers) is masked
before anything touches the disk: the log is meant to be shared with QA and trainers.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import IO

from ivr.engine.grammar import Grammar
from ivr.privacy import mask_pii


def _plain(obj):
    if isinstance(obj, Grammar):
        return {"name": obj.name, "choices": [c.token for c in obj.choices], "digits": obj.digits}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, str):
        return mask_pii(obj)
    return obj


def default_log_dir() -> Path:
    home = os.environ.get("IVR_HOME")
    base = Path(home) if home else Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "ivr"
    return base / "logs"


class CallLog:
    """Append-only JSONL writer with masking. Use as a context manager or call close()."""

    def __init__(self, path: str | Path | None = None, stream: IO[str] | None = None):
        self.path = Path(path) if path else None
        if stream is not None:
            self._f = stream
        else:
            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "a", encoding="utf-8")
        self._digits: list[str] = []

    def write(self, t: float, rec: str, **data) -> None:
        """One record: `t` (seconds on the call's clock), `rec` (start, event, action, queue,
        end) and the record's own fields."""
        line = {"t": round(float(t), 3), "rec": rec, **_plain(data)}
        self._f.write(json.dumps(line, ensure_ascii=False) + "\n")

    def event(self, ev, sensitive: bool = False) -> None:
        """Log an event. `sensitive` digits (keys typed into a collect, e.g. a NIK key by
        key) are logged as `*`: one key is harmless, sixteen of them are a NIK."""
        name = type(ev).__name__
        data = _plain(ev)
        data.pop("at", None)
        if name == "Digit" and sensitive and ev.key.isdigit():
            data = {"key": "*", "masked": True}
        self.write(ev.at, "event", type=name, **data)

    def action(self, a, t: float) -> None:
        self.write(t, "action", type=type(a).__name__, **_plain(a))

    def close(self) -> None:
        if self.path is not None:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
