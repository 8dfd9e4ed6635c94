"""Pick and build a recogniser by name (CLI flag, tree setting)."""
from __future__ import annotations

from .base import Recognizer, RecognizerError

ENGINES = ("whisper", "pocketsphinx", "vosk")
DEFAULT_ENGINE = "whisper"  # best measured accuracy on real Indonesian speech (issue 7)


def create_recognizer(engine: str = DEFAULT_ENGINE, *, whisper_model: str | None = None,
                      vosk_model: str | None = None, language: str = "id", **options) -> Recognizer:
    """Build one recogniser; models are loaded once per process and shared."""
    if engine == "whisper":
        from .whisper_engine import WhisperRecognizer
        return WhisperRecognizer(model=whisper_model, language=language, **options)
    if engine == "pocketsphinx":
        from .sphinx_engine import PocketSphinxRecognizer
        return PocketSphinxRecognizer(**options)
    if engine == "vosk":
        from .vosk_engine import VoskRecognizer
        return VoskRecognizer(model=vosk_model, **options)
    raise RecognizerError(f"unknown speech engine {engine!r}; choose one of {', '.join(ENGINES)}")
