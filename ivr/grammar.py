"""What a caller may answer at one listen, independent of how it is recognised.

The tree builds a `Grammar` for each listening node (menu options and their spoken keywords,
or a digit string for a collect; `Tree.grammar_for`) and the engine puts it in its `Listen`
action. Detectors (DTMF, speech recognisers) only read it; they never look at the tree, which
keeps the flow one-directional.

This module is a leaf (it imports nothing from ivr) so that the tree, the engine and the
recognisers can all use it without an import cycle (issue 11: engine -> tree.model ->
engine.grammar used to be hidden by a function-local import).
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Indonesian digit words. "nol" and "kosong" both mean 0.
DIGIT_WORDS: dict[str, str] = {
    "nol": "0", "kosong": "0", "satu": "1", "dua": "2", "tiga": "3", "empat": "4",
    "lima": "5", "enam": "6", "tujuh": "7", "delapan": "8", "sembilan": "9",
}
#: Spoken short forms of digit words (Jakarta speech: "lapan" for delapan, "pat" for
#: empat, "nam" for enam); Whisper writes them as heard.  Without them "lapan lapan"
#: aligns to a single "delapan" and a digit is lost (development set, issue 14).  Also
#: how Whisper writes "delapan" off a telephone line: "dua pan" / "dua ban" (8 kHz
#: mu-law, 3 of 20 tuning speakers), which otherwise aligns to "dua" + "pat" (2 4); and
#: "milan" for "sembilan" (its first syllable swallowed: tuning speakers at both rates),
#: which after "dua" otherwise aligns to one "delapan".  A form may stand for several digit
#: words: "nono" is "nol nol" said fast (tuning speaker FOC, "pat nam nono" for 4600), which
#: otherwise aligns to a single "nol" and loses a digit.
DIGIT_SHORT_FORMS: dict[str, str] = {"lapan": "delapan", "pat": "empat", "nam": "enam", "duapan": "delapan",
                                     "milan": "sembilan", "nono": "nol nol"}
#: Digit words Whisper writes in English now and then for an Indonesian caller ("satu, dua,
#: lima, nine, tujuh"): read as the Indonesian word (exact words only, never phonetically).
DIGIT_ENGLISH: dict[str, str] = {
    "zero": "nol", "one": "satu", "two": "dua", "three": "tiga", "four": "empat", "five": "lima",
    "six": "enam", "seven": "tujuh", "eight": "delapan", "nine": "sembilan",
}


@dataclass(frozen=True)
class Choice:
    """One thing the caller may pick: `token` is what the engine receives (a menu key such
    as "1", or a global action such as "repeat"/"back"/"agent"); `phrases` are the words
    or short phrases that select it by voice (lower case)."""

    token: str
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grammar:
    """The answers accepted at one listen.

    * menus: `choices` lists the options (by key token) and their spoken phrases;
    * collects: `digits` is True and the caller may speak or key a digit string of
      `min_digits`..`max_digits` digits.
    Global choices (repeat/back/agent) appear in `choices` too.
    """

    choices: tuple[Choice, ...] = ()
    digits: bool = False
    min_digits: int = 1
    max_digits: int = 1
    name: str = ""  # node id, for logs
    validator: str = "none"  # collects: what the value must be (ivr.engine.validators), for recognisers
    # collects: digit strings the caller has just said are wrong (a rejected read-back); a
    # recogniser takes its next-best valid answer instead of hearing the same number again
    exclude: tuple[str, ...] = ()

    def phrases(self) -> dict[str, str]:
        """phrase -> token, for every spoken phrase of every choice (plus digit words when
        digits are accepted)."""
        out: dict[str, str] = {}
        for c in self.choices:
            for p in c.phrases:
                out[p.lower()] = c.token
        if self.digits:
            for w, d in DIGIT_WORDS.items():
                out.setdefault(w, d)
        return out

    def tokens(self) -> tuple[str, ...]:
        return tuple(c.token for c in self.choices)


@dataclass(frozen=True)
class RecognitionResult:
    """A recogniser's final answer for one utterance.

    `choice` is the token of the matched choice (menus), `digits` the digit string
    (collects); `nomatch` is True when the speech was out of grammar or too unsure, which
    the engine treats as a no-match (its own prompt), never as a wrong choice."""

    text: str
    choice: str | None = None
    digits: str | None = None
    words: tuple[str, ...] = ()
    confidence: float = 0.0
    nomatch: bool = True
    engine: str = ""
    start: float = 0.0   # seconds, on the audio timeline of the utterance
    end: float = 0.0
    extra: dict = field(default_factory=dict)
