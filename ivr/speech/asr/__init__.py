"""Speech recognition: one recogniser interface (base.Recognizer) with Whisper (default),
PocketSphinx and Vosk engines, grammar-aware phonetic matching and an energy endpointer."""
from .base import Partial, Recognizer, RecognizerError, UnsupportedLanguage
from .engines import DEFAULT_ENGINE, ENGINES, create_recognizer

__all__ = ["Partial", "Recognizer", "RecognizerError", "UnsupportedLanguage", "DEFAULT_ENGINE", "ENGINES", "create_recognizer"]
