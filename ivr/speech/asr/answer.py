"""What a spoken answer must be, and choosing it among the recogniser's alternatives.

Why: Whisper's first hypothesis for a digit string is often one digit off while the right
string sits lower in its N-best list (issue 14: best-of-3 0.972 digit accuracy against 0.949
for the first).  A collect knows what its value must be -- a NIK has a province code and a
birth date, a card number has 13 digits, a phone number starts 08 -- so among the
hypotheses we take the best one that *could* be the answer, and when none could, or the
alternatives disagree too much, we return a no-match rather than a guess: the engine then
asks again, which costs a turn; a wrong number accepted costs a wrong record.

Pure functions only (no I/O, no model): the Whisper engine feeds its hypotheses in, tests
feed synthetic ones.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ivr.grammar import Grammar
from ivr.engine.validators import VALIDATORS, validate

from .matcher import GrammarMatcher, Match

#: Length from which a validator can judge a digit string (shorter: a group of a number
#: read in parts, which only the joined number can be checked on).
FULL_LENGTH = {"nik": 16, "card": 13, "date": 8, "phone": 10, "npwp": 15, "kelas": 1}
#: Defaults tuned on the development set's tuning speakers (README, "Speech recognition").
MIN_CONFIDENCE = 0.5
MIN_SUPPORT = 0.05


@dataclass(frozen=True)
class Hypothesis:
    """One alternative transcript: `logprob` is Whisper's total log probability."""

    text: str
    logprob: float = 0.0


def plausible_birth_date(digits: str, today: dt.date | None = None) -> bool:
    """DDMMYYYY that the collect's `date` validator accepts on `today` (a real date, not in
    the future, not before ivr.rules.identifiers.EARLIEST_BIRTH_YEAR): the one date rule,
    for keyed and spoken dates alike."""
    return validate("date", digits, today or dt.date.today())[0]


class AnswerCheck:
    """The one test a recogniser applies to a digit hypothesis: the grammar's length, not a
    number the caller just rejected and, once long enough to judge, the collect's validator
    (ivr.engine.validators)."""

    def __init__(self, grammar: Grammar, today: dt.date | None = None):
        name = getattr(grammar, "validator", "none") or "none"
        self.validator = name if name in VALIDATORS else "none"
        self.min_digits, self.max_digits = grammar.min_digits, grammar.max_digits
        self.full = FULL_LENGTH.get(self.validator, grammar.max_digits)
        self.today = today
        self.exclude = frozenset(getattr(grammar, "exclude", ()))

    def __call__(self, digits: str) -> bool:
        if not (self.min_digits <= len(digits) <= self.max_digits) or digits in self.exclude:
            return False
        if self.validator == "none" or len(digits) < self.full:
            return True
        return self._valid(digits)

    def _valid(self, digits: str) -> bool:
        if self.validator == "date":
            return plausible_birth_date(digits, self.today)
        return validate(self.validator, digits, self.today)[0]

    def complete(self, digits: str) -> bool:
        """A whole answer: the grammar's maximum length, or a value its validator passes."""
        if not self(digits):
            return False
        return len(digits) >= self.max_digits or (self.validator != "none" and len(digits) >= self.full)


def answer_check(grammar: Grammar, today: dt.date | None = None) -> AnswerCheck:
    return AnswerCheck(grammar, today)


@dataclass(frozen=True)
class Choice:
    """The answer picked from an N-best list."""

    match: Match
    index: int            # which hypothesis (0 = Whisper's first); -1 when none was valid
    confidence: float     # share of the valid hypotheses' posterior giving this answer, x similarity
    valid: int            # how many hypotheses were valid answers
    support: float = 0.0  # share of the whole N-best posterior giving this answer


def _key(m: Match) -> str | None:
    if m.nomatch:
        return None
    return f"d:{m.digits}" if m.digits is not None else f"c:{m.choice}"


def posteriors(hyps: Sequence[Hypothesis]) -> list[float]:
    """Softmax of the total log probabilities: how the recogniser shares its belief."""
    if not hyps:
        return []
    top = max(h.logprob for h in hyps)
    w = [math.exp(h.logprob - top) for h in hyps]
    s = sum(w)
    return [x / s for x in w]


def choose(hyps: Sequence[Hypothesis], matcher: GrammarMatcher, check: Callable[[str], bool],
           min_confidence: float = MIN_CONFIDENCE, min_support: float = MIN_SUPPORT) -> Choice:
    """Best valid hypothesis, with a confidence; a no-match when none is valid or unsure.

    A hypothesis is valid when the matcher maps it onto the grammar (menus: a choice;
    collects: digits) and, for digits, `check` accepts them.  Its confidence is the share
    of the *valid* hypotheses' posterior held by those giving the same answer (an invalid
    value cannot be the answer, so its belief is not a rival), times the matcher's
    similarity: Whisper agreeing with itself across alternatives is what "sure" means here.
    An answer found only far down the list (`support`: its share of the *whole* posterior
    below `min_support`) is not taken either: gibberish often has one digit-like
    alternative.
    """
    if not hyps:
        return Choice(matcher.match(""), -1, 0.0, 0)
    post = posteriors(hyps)
    matches = [matcher.match(h.text) for h in hyps]
    ok = [(not m.nomatch) and (m.digits is None or check(m.digits)) for m in matches]
    mass: dict[str, float] = {}
    for m, p, v in zip(matches, post, ok):
        if v:
            mass[_key(m)] = mass.get(_key(m), 0.0) + p
    if not mass:
        m0 = matches[0]
        reason = m0.reason if m0.nomatch else "invalid"
        return Choice(replace(m0, nomatch=True, reason=reason), -1, 0.0, 0)
    # Whisper's best valid hypothesis (its ranking is length-normalised, which suits digit
    # strings better than the summed mass: measured on the tuning speakers)
    i = next(i for i, v in enumerate(ok) if v)
    best_key = _key(matches[i])
    m = matches[i]
    conf = mass[best_key] / sum(mass.values()) * m.similarity
    support = mass[best_key]
    if conf < min_confidence or support < min_support:
        return Choice(replace(m, nomatch=True, reason="unsure"), i, conf, sum(ok), support)
    return Choice(m, i, conf, sum(ok), support)
