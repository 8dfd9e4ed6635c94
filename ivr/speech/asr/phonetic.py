"""Indonesian phonetic keys and a phone-weighted edit distance.

Why not plain string similarity: a recogniser that mishears Indonesian mostly swaps sounds
that are close (t/d, k/g, e/i, o/u, l/r, a dropped h), merges words ("digadarapan" for
"tiga delapan") or writes numerals ("4,9,2").  Spelling is almost phonemic in Indonesian,
so a few letter rules give a phone string, and an edit distance whose substitution cost
follows articulatory closeness scores "dlapan" near "delapan" but "halo" far from "ulangi".
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ivr.grammar import DIGIT_ENGLISH, DIGIT_WORDS

# Digit -> the word used when a recogniser writes a numeral ("0" -> "nol").
NUMERAL_WORDS: dict[str, str] = {
    "0": "nol", "1": "satu", "2": "dua", "3": "tiga", "4": "empat", "5": "lima",
    "6": "enam", "7": "tujuh", "8": "delapan", "9": "sembilan",
}
assert all(DIGIT_WORDS[w] == d for d, w in NUMERAL_WORDS.items())

# Multi-letter spellings first; single phones are one character each in the key.
_DIGRAPHS = (
    ("ng", "N"), ("ny", "Y"), ("sy", "S"), ("kh", "h"), ("ph", "f"), ("th", "t"),
    ("dh", "d"), ("ch", "C"), ("ai", "aI"), ("au", "aU"), ("oi", "oI"),
)
_SINGLE = {
    "c": "C", "j": "J", "q": "k", "x": "ks", "v": "f", "z": "s", "y": "I", "w": "U",
}
VOWELS = frozenset("aeiouIU")
# Groups of phones that sound alike; substitution inside a group is cheap.
_GROUPS: tuple[tuple[str, float], ...] = (
    ("pb", 0.3), ("td", 0.3), ("kg", 0.3), ("fp", 0.5), ("CJ", 0.3), ("SsC", 0.4),
    ("mnNY", 0.4), ("lr", 0.4), ("ei", 0.3), ("ou", 0.3), ("ea", 0.45), ("iI", 0.1),
    ("uU", 0.1), ("ao", 0.5), ("au", 0.6), ("ai", 0.6), ("hk", 0.6),
)
_SUB: dict[tuple[str, str], float] = {}
for _chars, _cost in _GROUPS:
    for _a in _chars:
        for _b in _chars:
            if _a != _b:
                _SUB[(_a, _b)] = min(_cost, _SUB.get((_a, _b), 1.0))


def sub_cost(a: str, b: str) -> float:
    """Cost of hearing phone `b` where `a` was meant (symmetric, 0..1)."""
    if a == b:
        return 0.0
    c = _SUB.get((a, b))
    if c is not None:
        return c
    return 1.0 if (a in VOWELS) == (b in VOWELS) else 1.2


def indel_cost(p: str) -> float:
    """Cost of a phone inserted or dropped: h and schwa-like e vanish easily in speech."""
    if p == "h":
        return 0.4
    if p == "e":
        return 0.5
    if p in VOWELS:
        return 0.7
    return 0.9


# Letter names, for acronyms said letter by letter (RJTP = "er je te pe", SMS = "es em es").
LETTER_NAMES = {
    "a": "a", "b": "be", "c": "ce", "d": "de", "e": "e", "f": "ef", "g": "ge", "h": "ha", "i": "i",
    "j": "je", "k": "ka", "l": "el", "m": "em", "n": "en", "o": "o", "p": "pe", "q": "ki", "r": "er",
    "s": "es", "t": "te", "u": "u", "v": "fe", "w": "we", "x": "eks", "y": "ye", "z": "zet",
}


def is_acronym(word: str) -> bool:
    """No vowel, or a short word ending in a consonant pair Indonesian never ends with."""
    w = word.lower()
    if not re.search(r"[aiueo]", w):
        return True
    return len(w) <= 5 and bool(re.search(r"[^aiueo]{2}$", w)) and not w.endswith(("ng", "ny", "ks", "rs"))


def spelled(phrase: str) -> str | None:
    """The phrase with its acronyms said letter by letter ("rawat jalan rjtp" ->
    "rawat jalan er je te pe"), or None when it has no acronym."""
    words = phrase.split()
    if not any(w.isalpha() and is_acronym(w) for w in words):
        return None
    return " ".join(" ".join(LETTER_NAMES[c] for c in w) if w.isalpha() and is_acronym(w) else w for w in words)


_NUM_RE = re.compile(r"\d+")
_NONWORD_RE = re.compile(r"[^a-z0-9\s]+")


def normalise_text(text: str) -> list[str]:
    """Lower-case words with numerals spelled digit by digit ("4,9,2" and "492" both give
    "empat sembilan dua"; a phone number read as digits is what a caller says), and
    English digit words as the Indonesian ones ("nine" -> "sembilan")."""
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = t.replace("-", " ")
    t = _NUM_RE.sub(lambda m: " " + " ".join(NUMERAL_WORDS[d] for d in m.group(0)) + " ", t)
    t = _NONWORD_RE.sub(" ", t)
    return [DIGIT_ENGLISH.get(w, w) for w in t.split()]


@lru_cache(maxsize=4096)
def phones(word: str) -> str:
    """Phone key of one word or phrase (spaces dropped): one character per phone."""
    # doubled letters collapse inside a word only: "delapan nol" keeps both n's, so the
    # digit loop does not drop a word that begins with the sound the last one ended with
    return "".join(_word_phones(w) for w in normalise_text(word))


def _word_phones(w: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(w):
        two = w[i:i + 2]
        for src, dst in _DIGRAPHS:
            if two == src:
                out.append(dst)
                i += 2
                break
        else:
            ch = w[i]
            out.append(_SINGLE.get(ch, ch))
            i += 1
    s = "".join(out)
    # doubled letters are one phone ("Allah", "ss"); word-final k is a glottal stop
    s = re.sub(r"(.)\1+", r"\1", s)
    return s


def distance(a: str, b: str) -> float:
    """Weighted Levenshtein distance between two phone keys."""
    n, m = len(a), len(b)
    prev = [0.0] * (m + 1)
    for j in range(1, m + 1):
        prev[j] = prev[j - 1] + indel_cost(b[j - 1])
    for i in range(1, n + 1):
        ai = a[i - 1]
        cur = [prev[0] + indel_cost(ai)] + [0.0] * m
        da = indel_cost(ai)
        for j in range(1, m + 1):
            bj = b[j - 1]
            cur[j] = min(prev[j - 1] + sub_cost(ai, bj), prev[j] + da, cur[j - 1] + indel_cost(bj))
        prev = cur
    return prev[m]


def similarity(a: str, b: str) -> float:
    """1.0 for the same phones, about 0 for unrelated strings of equal length."""
    if not a and not b:
        return 1.0
    d = distance(a, b)
    return max(0.0, 1.0 - d / max(len(a), len(b)))
