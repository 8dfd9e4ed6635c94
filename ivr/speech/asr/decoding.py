"""Guards for short-window Whisper decoding: a token cap and a loop detector.

Why: Whisper is trained on 30 s windows.  Decoding a short answer zero-padded to a 10 s
window is ~3x faster (the encoder cost scales with the window) and as accurate on most
utterances, but now and then the decoder loops ("1.5.5.5.5...") and writes dozens of
digits nobody said (issue 14).  Two cheap guards catch that: a cap on the tokens an
utterance of this length can need, and a detector for text that is longer than a person
can say in the time or repeats itself; the engine then decodes again on the full window.
"""
from __future__ import annotations

import math

from .phonetic import normalise_text

#: Tokens per second of speech an answer may take ("sembilan" is up to 4 BPE tokens, and
#: Whisper adds commas). Development set (tuning speakers): median 6.4/s, p99 11.9/s; an
#: answer over the cap is decoded again on the full window (slower, not wrong).
TOKENS_PER_S = 9.0
TOKEN_MARGIN = 10
#: Fastest digit rate a caller reaches (digits per second of speech, plus 2 digits of
#: slack): development set (tuning speakers) median 2.7/s, p99 4.2/s, max 4.4/s.
MAX_DIGITS_PER_S = 5.0
#: A unit repeated this many times in a row is a loop, not speech (real numbers have at
#: most 4-5 equal digits in a row: "0000" in a phone number).
MAX_REPEATS = 6
MAX_PHRASE_REPEATS = 3   # a 2-4 word phrase said 3 times in a row


def token_cap(speech_s: float, grammar_cap: int | None = None) -> int:
    """Most tokens an utterance with `speech_s` seconds of speech may decode to."""
    cap = TOKEN_MARGIN + int(math.ceil(TOKENS_PER_S * max(0.0, speech_s)))
    return min(cap, grammar_cap) if grammar_cap else cap


def _units(text: str) -> list[str]:
    """Words, with numerals split into single digits ("492" -> 4 9 2)."""
    out: list[str] = []
    for w in normalise_text(text):
        out.extend(list(w) if w.isdigit() else [w])
    return out


def _digit_count(units: list[str]) -> int:
    from ivr.grammar import DIGIT_WORDS

    return sum(1 for u in units if u.isdigit() or u in DIGIT_WORDS)


def degenerate(text: str, speech_s: float, n_tokens: int = 0, cap: int = 0) -> str:
    """Why the transcript looks like a decoder loop ("" when it looks like speech).

    * "cap": the decode used every token it was allowed (it did not end by itself);
    * "rate": more digits than anyone says in `speech_s` seconds;
    * "repeat": one word repeated MAX_REPEATS times, or a 2-4 word phrase
      MAX_PHRASE_REPEATS times, in a row.
    """
    if cap and n_tokens >= cap:
        return "cap"
    units = _units(text)
    if _digit_count(units) > 2 + MAX_DIGITS_PER_S * max(0.0, speech_s):
        return "rate"
    run = 1
    for a, b in zip(units, units[1:]):
        run = run + 1 if a == b else 1
        if run >= MAX_REPEATS:
            return "repeat"
    for n in (2, 3, 4):
        for i in range(len(units) - n * MAX_PHRASE_REPEATS + 1):
            unit = units[i:i + n]
            if len(set(unit)) > 1 and all(units[i + k * n:i + (k + 1) * n] == unit for k in range(MAX_PHRASE_REPEATS)):
                return "repeat"
    return ""

