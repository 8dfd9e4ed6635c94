"""The speech engines: one registry every command reads (`ivr call --speech`, `ivr asr
--engine`, `ivr serve --speech`, the benches), so adding an engine is one module with a
`Recognizer` subclass plus one `EngineSpec` line in `ENGINES` -- no if-chain, no flag declared
in several parsers (pipecat's one-folder services are the model).

Engine modules are imported only when that engine is built: each pulls in a large native
library (CTranslate2, PocketSphinx, Vosk/Kaldi) that a DTMF-only call never needs.
"""
from __future__ import annotations

import argparse
import importlib
import os
from dataclasses import dataclass

from .base import Recognizer, RecognizerError


@dataclass(frozen=True)
class EngineSpec:
    """One speech engine: its name, where its `Recognizer` class lives ("module:Class",
    relative to this package), and the model option it takes, if any (`--NAME-model DIR`,
    passed to the class as `model=`)."""

    name: str
    cls: str
    about: str
    model_help: str = ""
    #: which of the common hints (HINTS) the engine understands; others are dropped for it
    hints: tuple[str, ...] = ()

    @property
    def model_option(self) -> str | None:
        return f"--{self.name}-model" if self.model_help else None

    @property
    def model_dest(self) -> str:
        return f"{self.name}_model"

    def load(self) -> type[Recognizer]:
        module, _, cls = self.cls.partition(":")
        return getattr(importlib.import_module(module, __package__), cls)


#: Options any command may give whatever the engine: `language` (a language code), `live`
#: (False: an offline run, e.g. `ivr asr`, with no decoding thread) and `parallel` (how many
#: decodes may run at once: a server's calls share one model).
HINTS = ("language", "live", "parallel")


def usable_cores() -> int:
    """The cores this process may run on (a container's or `taskset`'s share, not the host's):
    what `parallel` should be for a server whose calls share them."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: The registry. Order is the order in help texts; the first is the default.
ENGINES: dict[str, EngineSpec] = {s.name: s for s in (
    EngineSpec("whisper", ".whisper_engine:WhisperRecognizer",
               "Whisper base (CTranslate2), best measured on real Indonesian speech",
               "a CTranslate2 Whisper model directory (default: the packaged base model)",
               ("language", "live", "parallel")),
    EngineSpec("pocketsphinx", ".sphinx_engine:PocketSphinxRecognizer", "PocketSphinx (en-us acoustic model)"),
    EngineSpec("vosk", ".vosk_engine:VoskRecognizer", "Vosk / Kaldi",
               "a Vosk model directory (or env IVR_VOSK_MODEL)"),
)}
DEFAULT_ENGINE = next(iter(ENGINES))


def create_recognizer(engine: str = DEFAULT_ENGINE, *, model: str | None = None, **options) -> Recognizer:
    """Build one recogniser; models are loaded once per process and shared. `model` is the
    engine's model option (`--whisper-model`, ...); older keyword names still work."""
    spec = ENGINES.get(engine)
    if spec is None:
        raise RecognizerError(f"unknown speech engine {engine!r}; choose one of {', '.join(ENGINES)}")
    for other in ENGINES.values():   # whisper_model=..., vosk_model=...: only the chosen one counts
        value = options.pop(other.model_dest, None)
        if other is spec and model is None:
            model = value
    for hint in HINTS:
        if hint not in spec.hints:
            options.pop(hint, None)
    if spec.model_help:
        options["model"] = model
    return spec.load()(**options)


def add_engine_arguments(p: argparse.ArgumentParser, flag: str, default: str | None = DEFAULT_ENGINE,
                         allow_off: bool = True) -> None:
    """The engine choice (`flag`, e.g. --speech or --engine) and each engine's model option,
    declared once for every command that recognises speech."""
    names = list(ENGINES) + (["off"] if allow_off else [])
    p.add_argument(flag, default=default, metavar="ENGINE", dest="speech_engine",
                   help=f"speech engine: {' | '.join(names)} (default: %(default)s)")
    for spec in ENGINES.values():
        if spec.model_option:
            p.add_argument(spec.model_option, metavar="DIR", dest=spec.model_dest, help=spec.model_help)


def recognizer_from_args(args: argparse.Namespace, **options) -> Recognizer | None:
    """The recogniser the command line asked for; None for `off`. RecognizerError names the
    problem (unknown engine, model missing) in one line."""
    name = args.speech_engine
    if name == "off":
        return None
    if name not in ENGINES:
        raise RecognizerError(f"unknown engine '{name}' (choose {', '.join(list(ENGINES) + ['off'])})")
    spec = ENGINES[name]
    model = getattr(args, spec.model_dest, None) if spec.model_help else None
    return create_recognizer(name, model=model, **options)
