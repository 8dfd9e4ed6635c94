"""The engine's name for `ivr.grammar` (where `Grammar`, `Choice`, `RecognitionResult` and
`DIGIT_WORDS` live, a leaf module both the tree and the engine import). Kept so that the
recognisers and drivers that import `ivr.engine.grammar` go on working; new code imports
`ivr.grammar`."""
from __future__ import annotations

from ivr.grammar import DIGIT_WORDS, Choice, Grammar, RecognitionResult

__all__ = ["DIGIT_WORDS", "Choice", "Grammar", "RecognitionResult"]
