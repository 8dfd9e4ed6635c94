"""Offline text-to-speech for prompts: pyttsx3 driving espeak-ng, with a content-addressed
cache of rendered WAVs so each prompt is synthesised once.

Why it looks the way it does (pyttsx3 2.99 + espeak-ng 1.51 as shipped by Debian):

- The espeak driver writes the file only when an utterance ends, and keeps one pending
  file name: several `save_to_file` calls before one `runAndWait` write only the last
  file.  So every file gets its own `runAndWait`.
- espeak-ng delivers the audio from its own thread, and `runAndWait` can return before the
  utterance has ended (it always may on an engine's first use, when the queued commands
  end the loop before synthesis starts), leaving an empty file.  So we wait for pyttsx3's
  "finished-utterance" notification, which comes after the file is written.
- pyttsx3 ends every `runAndWait` with the driver's `stop()`, which calls `espeak_Cancel`
  while espeak still counts as playing; espeak-ng then restores the speech parameters of
  the *previous* utterance, so a rate change made between two files is silently lost.  We
  wait for every utterance to finish ourselves, so there is nothing to stop: the engine's
  driver gets a no-op `stop`.
- An unknown voice is not an error in pyttsx3 (the exception goes to an "error" callback
  and the previous voice stays), so voices are checked against the engine's voice list.
- The driver prints "Audio saved to ..." on stdout; that is swallowed.
- espeak-ng initialises once per process and pyttsx3 caches engines weakly: one engine is
  created on first use and kept for the life of the process, behind a lock.

The cache key is sha256 of (verbalized text, voice, rate, engine version), so changing
the verbalizer, the voice, the rate or upgrading pyttsx3/espeak-ng renders afresh.  Writes
go to a temporary file in the cache directory that is fsynced and renamed over the final
name, so a crash leaves at worst a stray `.tmp-*` file, never a truncated entry.

Personalised prompts (a caller's name, class, bill, card number read back: `personal=True`,
decided by the call runtime from the prompt's template) are never cached: each is rendered
into a private temporary folder (0700, removed at once), and only its samples are kept, in
memory, for the call that says it. The cache holds only what every caller hears.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.speech.verbalize import verbalize

__all__ = [
    "Tts", "TtsError", "TtsUnavailable", "RenderStats", "default_cache_dir",
    "DEFAULT_VOICE", "DEFAULT_RATE", "SAMPLE_RATE", "MIN_RATE", "MAX_RATE",
]

DEFAULT_VOICE = "poz/id"       # espeak-ng's Indonesian voice
DEFAULT_RATE = 165             # words/min; espeak's 175-200 is too fast over a phone line
MIN_RATE, MAX_RATE = 80, 450   # espeak-ng's usable range
SAMPLE_RATE = 22050            # what the espeak driver writes: mono, 16-bit
SYNTH_TIMEOUT_S = 30.0         # per file, plus 0.1 s per character
CACHE_FORMAT = "1"             # bump when the stored file layout changes


class TtsError(Exception):
    """Synthesis failed or was asked for something impossible (unknown voice, bad rate)."""


class TtsUnavailable(TtsError):
    """pyttsx3 or the espeak-ng library is missing: offline TTS cannot run here."""


@dataclass(frozen=True)
class RenderStats:
    """What `Tts.render_many` did: prompts synthesised (misses) and found in the cache."""
    hits: int
    misses: int
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.hits + self.misses


def default_cache_dir() -> Path:
    """$IVR_CACHE/tts when IVR_CACHE is set (the root of all ivr caches), else
    ~/.cache/ivr/tts."""
    root = os.environ.get("IVR_CACHE")
    return Path(root) / "tts" if root else Path.home() / ".cache" / "ivr" / "tts"


# ------------------------------------------------------------------ the process-wide engine

class _Engine:
    """The one pyttsx3 engine of this process, made on first use."""

    _lock = threading.Lock()
    _engine = None
    _voices: dict[str, str] | None = None
    _version: str | None = None
    _errors: list[BaseException] = []
    _done = threading.Event()

    @classmethod
    def version(cls) -> str:
        """"pyttsx3-2.99/espeak-ng-1.51": part of every cache key."""
        if cls._version is None:
            try:
                from importlib.metadata import version

                from pyttsx3.drivers import _espeak  # loads libespeak-ng
                espeak = _espeak.Info()
                espeak = espeak.decode() if isinstance(espeak, bytes) else str(espeak)
                cls._version = f"pyttsx3-{version('pyttsx3')}/espeak-ng-{espeak}"
            except Exception as exc:  # ImportError, OSError from ctypes, ...
                raise _unavailable(exc) from None
        return cls._version

    @classmethod
    def get(cls):
        if cls._engine is None:
            try:
                import pyttsx3

                engine = pyttsx3.init("espeak")
            except Exception as exc:
                raise _unavailable(exc) from None
            # See the module docstring: stop() would undo the rate set for the next file.
            engine.proxy._driver.stop = lambda: None
            engine.connect("error", lambda name=None, exception=None, **_: cls._errors.append(exception))
            engine.connect("finished-utterance", lambda **_: cls._done.set())
            cls._voices = {v.id.lower(): (v.name or v.id) for v in engine.getProperty("voices")}
            cls._engine = engine
        return cls._engine

    @classmethod
    def voices(cls) -> dict[str, str]:
        cls.get()
        return dict(cls._voices or {})

    @classmethod
    def synthesise(cls, text: str, voice: str, rate: int, path: Path) -> None:
        """Write `text` spoken with `voice` at `rate` to the WAV file `path`."""
        with cls._lock:
            engine = cls.get()
            if voice not in (cls._voices or {}):
                near = sorted(v for v in (cls._voices or {}) if v.endswith("/" + voice.split("/")[-1]))
                hint = f"; did you mean {', '.join(near)}?" if near else "; list them with `ivr tts voices`"
                raise TtsError(f"unknown voice {voice!r}{hint}")
            cls._errors.clear()
            cls._done.clear()
            engine.setProperty("voice", voice)
            engine.setProperty("rate", rate)
            # espeak-ng delivers audio from its own thread, and runAndWait may return before
            # the utterance ends (always so on an engine's first use), so wait for pyttsx3's
            # "finished-utterance", which comes after the file is written.  stdout stays
            # redirected until then: the "Audio saved to" line is printed from that thread.
            with contextlib.redirect_stdout(io.StringIO()):
                engine.save_to_file(text, str(path))
                engine.runAndWait()
                finished = cls._done.wait(timeout=SYNTH_TIMEOUT_S + len(text) / 10)
            if cls._errors:
                raise TtsError(f"espeak-ng failed: {cls._errors[0]}")
            if not finished:
                raise TtsError("espeak-ng did not finish speaking in time")


def _unavailable(exc: BaseException) -> TtsUnavailable:
    return TtsUnavailable(
        f"offline TTS is not available ({type(exc).__name__}: {exc}); "
        "install pyttsx3 (pip) and espeak-ng (apt-get install espeak-ng)")


# ------------------------------------------------------------------ renderer + cache

class Tts:
    """Renders prompt text to cached WAV files.

    >>> tts = Tts(rate=165)
    >>> path = tts.render("Tekan 1 untuk Kelas 1 Rp150.000.")   # synthesised once
    >>> samples, rate = tts.load("Tekan 1 untuk Kelas 1 Rp150.000.")  # from the cache
    """

    def __init__(self, voice: str = DEFAULT_VOICE, rate: int = DEFAULT_RATE,
                 cache_dir: str | Path | None = None):
        if not isinstance(rate, int) or isinstance(rate, bool) or not MIN_RATE <= rate <= MAX_RATE:
            raise TtsError(f"rate must be a whole number of words per minute from {MIN_RATE} to {MAX_RATE}, got {rate!r}")
        voice = str(voice).strip().lower()
        if not voice:
            raise TtsError("voice must not be empty")
        self.voice = voice
        self.rate = rate
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.synthesised = 0   # files this instance synthesised (for stats and tests)

    # -- keys and paths
    def spoken(self, text: str) -> str:
        """What is actually said for `text` (see ivr.speech.verbalize)."""
        return verbalize(text)

    def key(self, text: str) -> str:
        spoken = self.spoken(text)
        if not spoken.strip():
            raise TtsError("nothing to say: the prompt text is empty")
        material = "\x1f".join([CACHE_FORMAT, spoken, self.voice, str(self.rate), _Engine.version()])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def path_for(self, text: str) -> Path:
        """Where the rendering of `text` lives in the cache (whether or not it exists yet)."""
        return self.cache_dir / f"{self.key(text)}.wav"

    def is_cached(self, text: str) -> bool:
        return _valid_entry(self.path_for(text))

    # -- rendering
    def render(self, text: str) -> Path:
        """The cached WAV for `text`, synthesising it first if needed."""
        path, _ = self._render(text)
        return path

    def _render(self, text: str) -> tuple[Path, bool]:
        path = self.path_for(text)
        if _valid_entry(path):
            return path, True
        self._synthesise_to(self.spoken(text), path)
        return path, False

    def _synthesise_to(self, spoken: str, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=path.parent)
        except OSError as exc:
            raise TtsError(f"cannot write the TTS cache in {path.parent}: {exc.strerror or exc}") from None
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _Engine.synthesise(spoken, self.voice, self.rate, tmp)
            _check_wav(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            self.synthesised += 1
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def render_many(self, texts: Iterable[str], progress: bool = True,
                    on_done: Callable[[str, bool], None] | None = None) -> RenderStats:
        """Render every distinct text (cache hits cost a stat() each).  With `progress`, a
        rich progress bar on stderr."""
        unique = list(dict.fromkeys(texts))
        t0 = time.perf_counter()
        hits = misses = 0
        bar = None
        if progress and unique:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(TextColumn("rendering prompts"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        with bar if bar is not None else contextlib.nullcontext():
            task = bar.add_task("tts", total=len(unique)) if bar is not None else None
            for text in unique:
                _, hit = self._render(text)
                hits += hit
                misses += not hit
                if on_done:
                    on_done(text, hit)
                if bar is not None:
                    bar.advance(task)
        return RenderStats(hits=hits, misses=misses, seconds=time.perf_counter() - t0)

    def load(self, text: str, personal: bool = False) -> tuple[np.ndarray, int]:
        """(float32 samples in [-1, 1], sample rate) of `text`, rendered if needed.  An
        entry damaged by something outside this module is dropped and rendered again.
        A `personal` text is rendered afresh and leaves nothing on disk (module docstring)."""
        if personal:
            return self._load_transient(text)
        path = self.render(text)
        try:
            return read_wav(path)
        except TtsError:
            path.unlink(missing_ok=True)
            return read_wav(self.render(text))

    def _load_transient(self, text: str) -> tuple[np.ndarray, int]:
        spoken = self.spoken(text)
        if not spoken.strip():
            raise TtsError("nothing to say: the prompt text is empty")
        with tempfile.TemporaryDirectory(prefix="ivr-tts-") as folder:   # 0700, removed on exit
            path = Path(folder) / "prompt.wav"
            self._synthesise_to(spoken, path)
            return read_wav(path)

    @staticmethod
    def voices() -> dict[str, str]:
        """Voice id -> name, as espeak-ng lists them."""
        return _Engine.voices()


# ------------------------------------------------------------------ WAV helpers

def _valid_entry(path: Path) -> bool:
    """A cache entry exists and is at least a WAV header plus some audio.  Entries are only
    ever created by rename after a full check, so existence is nearly proof; the size test
    guards against a file truncated by something outside this module."""
    try:
        return path.stat().st_size > 44
    except OSError:
        return False


def _check_wav(path: Path) -> None:
    try:
        with wave.open(str(path), "rb") as w:
            frames, rate, channels, width = w.getnframes(), w.getframerate(), w.getnchannels(), w.getsampwidth()
    except (wave.Error, EOFError, OSError) as exc:
        raise TtsError(f"espeak-ng wrote no usable audio ({exc or 'empty file'})") from None
    if frames == 0 or channels != 1 or width != 2:
        raise TtsError(f"espeak-ng wrote unexpected audio: {frames} frames, {channels} channel(s), {8 * width}-bit")
    if rate != SAMPLE_RATE:
        raise TtsError(f"espeak-ng wrote {rate} Hz audio, expected {SAMPLE_RATE} Hz")


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A mono 16-bit WAV as float32 samples in [-1, 1] and its sample rate."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                raise TtsError(f"{path}: expected 16-bit audio")
            rate, channels = w.getframerate(), w.getnchannels()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise TtsError(f"{path}: not a readable WAV file ({exc or 'truncated'})") from None
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples, rate
