"""Settling a spoken number the decodes disagree on: a vote of reordered-prompt decodes, then
Whisper's own judgement of candidates built from what the number must be.

Why (issue 14, development set, tuning speakers): when Whisper's decodes of an utterance
(as is, and at 0.9x and 1.1x speed) do not agree on a valid answer, the right number is
still among a small set of candidates in 98 % of utterances: the digit strings of every
N-best hypothesis, plus -- for a collect of a fixed length -- each string one digit short
with one of its digits said twice (Whisper base merges "dua dua" into "dua") and each
string one digit long with one digit dropped.  Whisper can score any text against the
audio (the probability of every token given the ones before it, which CTranslate2's
`align` returns), so the candidate the model finds most probable *as a whole* wins, even
one its beam search never wrote out.  A narrow margin over the runner-up is a no-match.

That judgement turned out weak on a larger sample (see `MIN_MARGIN`), so the engine first
asks the model again ``VOTERS`` times, greedily, on the encoder output it already has, each
time with the prompt's words in another order (a fixed order per voter), and takes the
valid answer most of these decodes gave (`vote`): how often the model says a number when
its context is shaken is a better estimate of its belief than one beam's ranking, and
unlike sampling (CTranslate2's random generator is per thread and cannot be reseeded) the
same audio gets the same answer.  Tuning speakers, 51 utterances that reached rescoring (40
per speaker, both rates): 16 right, 15 wrong, 20 no-matches before; 31 right, 12 wrong, 8
no-matches with the vote first and the margin rule only where the vote does not decide.

This module is pure (candidates and the decisions); the engine runs the model.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ivr.grammar import DIGIT_WORDS

#: Log-probability margin of the best candidate over the runner-up below which a rescored
#: answer is a no-match. Tuning speakers (20 rescored of 400, both rates): above 3.8, 10
#: right and 1 wrong; between 2.3 and 2.8, 3 wrong and none right; below 2, left alone.
#: A larger sample of the same speakers (40 each, 51 rescored of 1,600) does not bear the
#: margin out: above 3.0, 16 right and 15 wrong; between 1.0 and 3.0, 4 right and 5 wrong.
#: So the vote (`vote`) now decides first; the margin rule only where the vote does not
#: (with it after the vote: 31 right, 12 wrong, 8 no-matches of the 51), and a rescored
#: answer's confidence stays capped, so a collect that reads unsure answers back reads it.
MIN_MARGIN = 3.0
#: A rescored answer's confidence is at most this: it was found by rescoring, not agreed
#: on, so a collect that reads unsure answers back reads it back.
MAX_CONFIDENCE = 0.75
#: Most candidates scored at once (a 16-digit collect one digit short gives ~16).
MAX_CANDIDATES = 48
#: Greedy decodes per rescoring, each with the prompt in its own order, and the votes a
#: winner needs (it must also lead the runner-up).  Tuning speakers (51 rescorings, with
#: the margin rule after): 8 voters 23 right / 17 wrong, 16 voters 28 / 16, 32 voters
#: 31 / 12; 3 votes 29 / 12 with 2 more no-matches.  (Sampling at temperature 0.8 instead:
#: 30 / 13 with 32 samples, but not reproducible.)  32 voters cost ~1.5-2 s on 2 cores,
#: on the ~3 % of digit answers that reach rescoring.
VOTERS = 32
MIN_VOTES = 2

#: How a candidate is written for scoring: digit words, space separated ("nol" for 0).
_WORD = {d: w for w, d in DIGIT_WORDS.items() if w != "kosong"}


def spoken(digits: str) -> str:
    """The text a candidate is scored as: "805" -> "delapan nol lima"."""
    return " ".join(_WORD[d] for d in digits)


def candidates(seen: Iterable[str], length: int | None, check: Callable[[str], bool]) -> list[str]:
    """Valid candidates from the digit strings the decodes wrote (`seen`, best first).

    With a fixed `length`, a string one short also yields each of its digits doubled, and
    one long each string with one digit dropped: the two errors Whisper base makes most
    on connected digits.  Order: first seen first, then the variants (stable, so ties in
    score go to what the decoder itself wrote)."""
    out: list[str] = []

    def add(s: str) -> None:
        if s and s not in out and check(s):
            out.append(s)

    seen = [s for s in seen if s]
    for s in seen:
        add(s)
    if length:
        for s in seen:
            if len(s) == length - 1:
                for i in range(len(s)):
                    add(s[:i + 1] + s[i] + s[i + 1:])
            elif len(s) == length + 1:
                for i in range(len(s)):
                    add(s[:i] + s[i + 1:])
    return out[:MAX_CANDIDATES]


@dataclass(frozen=True)
class Rescored:
    """The outcome of rescoring: the best candidate, its margin and confidence."""

    digits: str | None        # None: no candidate, or too close to call
    margin: float             # lead over the runner-up: log probability, or votes (inf: the only one)
    confidence: float
    scored: int               # how many candidates were scored, or decodes voted
    how: str = "align"        # "align": scored candidates; "vote": the voting decodes


def shuffled(words: list[str], voters: int = VOTERS) -> list[list[str]]:
    """The prompt's words in `voters` fixed orders (one per voter, the same every time)."""
    return [[words[i] for i in np.random.default_rng(k).permutation(len(words))] for k in range(voters)]


def vote(answers: list[str], min_votes: int = MIN_VOTES) -> Rescored | None:
    """The valid answer most voters gave (`answers`: one per voting decode, "" where it
    gave nothing valid), if it got `min_votes` and more than any other; else None (the
    margin rule decides).  Its confidence is ``MAX_CONFIDENCE`` whatever the share: the
    share does not tell right from wrong (tuning speakers: of 7 answers 24 or more of 32
    voters gave, 5 were wrong; of 7 that 2 gave, 5 were right), and the voted answers were
    right about that often overall (27 of 35 tuning, 12 of 17 held-out)."""
    ranked = Counter(a for a in answers if a).most_common(2)
    if not ranked or ranked[0][1] < min_votes or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    best, n = ranked[0]
    lead = n - ranked[1][1] if len(ranked) > 1 else math.inf
    return Rescored(best, float(lead), MAX_CONFIDENCE, len(answers), "vote")


def decide(scores: dict[str, float], min_margin: float = MIN_MARGIN) -> Rescored:
    """The best-scoring candidate if it leads the runner-up by `min_margin`."""
    if not scores:
        return Rescored(None, 0.0, 0.0, 0)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    best, top = ranked[0]
    margin = top - ranked[1][1] if len(ranked) > 1 else math.inf
    # the best candidate's share of the belief among the candidates, capped
    z = sum(math.exp(s - top) for _, s in ranked)
    conf = min(MAX_CONFIDENCE, 1.0 / z)
    if margin <= min_margin:
        return Rescored(None, margin, conf, len(ranked))
    return Rescored(best, margin, conf, len(ranked))
