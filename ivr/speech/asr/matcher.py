"""Map a free transcript onto what the current listen accepts (phonetically).

A large-vocabulary recogniser (Whisper) writes whatever it hears; the grammar of the node
says what may be answered.  This module finds the grammar answer closest in *sound* to the
transcript, or says nomatch when even the closest one is far:

* menus: the whole (filler-stripped) transcript against every phrase of every choice;
  a menu whose keys are digits also accepts the digit word ("dua" picks option "2");
* digit collects: a looped-grammar alignment (digit words, or one global phrase such as
  "ulangi") over the transcript's phone string, so merged words ("digadarapan"), numerals
  ("4,9,2", "492") and dropped sounds all align, and repeated digits stay repeated.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ivr.grammar import DIGIT_SHORT_FORMS, DIGIT_WORDS, Grammar

from .phonetic import NUMERAL_WORDS, indel_cost, normalise_text, phones, similarity, spelled, sub_cost

# Words callers add around an answer ("saya mau pendaftaran"); dropped unless the grammar
# itself uses them.
FILLERS = frozenset(
    "eh em ehm hmm hm mm mmm uh um ah oh saya mau ingin pilih yang tolong aja saja deh dong "
    "nih pak bu ibu bapak mbak mas minta".split()
)
DEFAULT_MIN_SIMILARITY = 0.75  # the threshold measured on real speakers in issue 7
WORD_PENALTY = 0.35  # per word in the digit loop: prefer fewer, longer words when equal


@dataclass(frozen=True)
class Match:
    """What a transcript means under a grammar. `similarity` is 0..1 (1 = same phones)."""

    choice: str | None
    digits: str | None
    words: tuple[str, ...]
    similarity: float
    nomatch: bool
    reason: str = ""  # why nomatch: empty, weak, ambiguous, length, mixed, out of grammar


_NUMERAL_RE = re.compile(r"[0-9]")
_EXACT_NONWORD_RE = re.compile(r"[^\w\s]+")


def exact_words(text: str) -> list[str]:
    """Words of text that is meant literally (typed, or a grammar-restricted recogniser's
    output): lower case, punctuation dropped, numerals said digit by digit as in
    `normalise_text`, but letters of any script kept (a Vosk grammar may be Korean)."""
    t = _NUMERAL_RE.sub(lambda m: f" {NUMERAL_WORDS[m.group(0)]} ", text.lower().replace("-", " "))
    return _EXACT_NONWORD_RE.sub(" ", t).split()


class GrammarMatcher:
    """Phonetic matcher for one grammar (build once per listen; matching is ~10 ms)."""

    def __init__(self, grammar: Grammar, min_similarity: float = DEFAULT_MIN_SIMILARITY,
                 digit_keys: bool = True, margin: float = 0.03):
        self.grammar = grammar
        self.min_similarity = min_similarity
        self.margin = margin
        # (phrase, token) for choices
        items: list[tuple[str, str]] = []
        for c in grammar.choices:
            for p in c.phrases:
                items.append((" ".join(normalise_text(p)), c.token))
        if digit_keys and not grammar.digits:
            tokens = set(grammar.tokens())
            for w, d in DIGIT_WORDS.items():
                if d in tokens:
                    items.append((w, d))
        # acronyms may be said (and transcribed) letter by letter: "er je te pe" for RJTP
        variants = [(sp, t) for p, t in items if (sp := spelled(p))]
        self._variants = {p for p, _ in variants}
        items += variants
        self.choice_items = [(p, t) for p, t in items if p]
        self.vocab_words = {w for p, _ in self.choice_items for w in p.split()}
        if grammar.digits:
            self.vocab_words |= set(DIGIT_WORDS) | set(DIGIT_SHORT_FORMS)
        # exact mode (`match_exact`): the same answers, spelled as written; first phrase wins
        self.exact_table: dict[str, str] = {}
        for c in grammar.choices:
            for p in c.phrases:
                self.exact_table.setdefault(" ".join(exact_words(p)), c.token)
        for p, t in items:
            if p in DIGIT_WORDS and p not in self.exact_table and not grammar.digits:
                self.exact_table[p] = t     # a menu key said as its digit word
        self.exact_table.pop("", None)
        self.exact_vocab = {w for p in self.exact_table for w in p.split()}
        if grammar.digits:
            self.exact_vocab |= set(DIGIT_WORDS)
        self._memo: dict[str, Match] = {}

    # ------------------------------------------------------------------ public
    def words_for_prompt(self) -> list[str]:
        """Every phrase a caller may say, for a recogniser prompt or a grammar file."""
        out = [p for p, _ in self.choice_items if p not in self._variants]
        if self.grammar.digits:
            out += list(DIGIT_WORDS)
        seen: set[str] = set()
        return [w for w in out if not (w in seen or seen.add(w))]

    def clean_words(self, text: str) -> list[str]:
        return [w for w in normalise_text(text) if w in self.vocab_words or w not in FILLERS]

    def digits_fit(self, digits: str) -> bool:
        """Is a spoken digit string as long as the listen accepts?"""
        return self.grammar.min_digits <= len(digits) <= self.grammar.max_digits

    def match_exact(self, text: str) -> Match:
        """Exact mode, for text meant literally: a scenario's typed `say:`, or a recogniser
        that can only output grammar words (Vosk). The same answers as `match` (phrases,
        menu keys said as digit words, digit strings and their length rule, fillers dropped)
        but no phonetic tolerance: similarity 1, or a no-match."""
        words = [w for w in exact_words(text) if w in self.exact_vocab or w not in FILLERS]
        if not words:
            return Match(None, None, (), 0.0, True, "empty")
        phrase = " ".join(words)
        token = self.exact_table.get(phrase)
        if token is not None and not (self.grammar.digits and phrase in DIGIT_WORDS):
            return Match(token, None, (phrase,), 1.0, False)
        if self.grammar.digits and all(w in DIGIT_WORDS for w in words):
            digits = "".join(DIGIT_WORDS[w] for w in words)
            ok = self.digits_fit(digits)
            return Match(None, digits, tuple(words), 1.0, not ok, "" if ok else "length")
        return Match(None, None, tuple(words), 0.0, True, "out of grammar")

    def match(self, text: str) -> Match:
        """The grammar answer `text` means (memoised: a decode's N-best lists, its speed
        copies' and the rescorer repeat the same texts, ~35 matches of ~4 ms each for an
        unsure digit string, most of them seen before)."""
        m = self._memo.get(text)
        if m is None:
            if len(self._memo) >= 256:
                self._memo.clear()
            m = self._memo[text] = self._match(text)
        return m

    def _match(self, text: str) -> Match:
        words = self.clean_words(text)
        if not words:
            return Match(None, None, (), 0.0, True, "empty")
        key = phones(" ".join(words))
        if not key:
            return Match(None, None, (), 0.0, True, "empty")
        if self.grammar.digits:
            return self._match_digits(key)
        return self._match_menu(key)

    # ------------------------------------------------------------------ menus
    def _match_menu(self, key: str) -> Match:
        if not self.choice_items:
            return Match(None, None, (), 0.0, True, "empty grammar")
        scored = sorted(((similarity(key, phones(p)), p, t) for p, t in self.choice_items), reverse=True)
        best_sim, best_phrase, best_tok = scored[0]
        rival = next((s for s, _, t in scored[1:] if t != best_tok), 0.0)
        if best_sim < self.min_similarity:
            return Match(None, None, (best_phrase,), best_sim, True, "weak")
        if best_sim - rival < self.margin:
            return Match(None, None, (best_phrase,), best_sim, True, "ambiguous")
        return Match(best_tok, None, (best_phrase,), best_sim, False)

    # ------------------------------------------------------------------ digits
    @functools.cached_property
    def _digit_vocab(self) -> tuple[list[tuple[str, str, str]], list[str], int]:
        """(word, digits, phones) of every item a digit string may be made of, their phones,
        and how many of them are digit words and short forms (they come first); built once
        per listen, not per match."""
        vocab: list[tuple[str, str, str]] = [(w, d, phones(w)) for w, d in DIGIT_WORDS.items()]
        vocab += [(w, "".join(DIGIT_WORDS[x] for x in w.split()), phones(short)) for short, w in DIGIT_SHORT_FORMS.items()]
        n_digit_items = len(vocab)
        vocab += [(p, t, phones(p)) for p, t in self.choice_items]
        return vocab, [v[2] for v in vocab], n_digit_items

    def _match_digits(self, key: str) -> Match:
        vocab, vocab_phones, n_digit_items = self._digit_vocab
        cost, labels = align_loop(key, vocab_phones)
        chosen = [vocab[i] for i in labels]
        path_len = sum(len(v[2]) for v in chosen)
        raw = cost - WORD_PENALTY * len(chosen)
        sim = max(0.0, 1.0 - raw / max(len(key), path_len, 1))
        tokens = [v[1] for v in chosen]
        is_digit = [i < n_digit_items for i in labels]
        # a short form standing for several digit words ("nono") counts as those words
        words = tuple(x for v, d in zip(chosen, is_digit) for x in (v[0].split() if d else [v[0]]))
        if all(is_digit):
            digits = "".join(tokens)
            if sim < self.min_similarity:
                return Match(None, digits, words, sim, True, "weak")
            if not self.digits_fit(digits):
                return Match(None, digits, words, sim, True, "length")
            return Match(None, digits, words, sim, False)
        if len(chosen) == 1:
            if sim < self.min_similarity:
                return Match(None, None, words, sim, True, "weak")
            return Match(tokens[0], None, words, sim, False)
        return Match(None, None, words, sim, True, "mixed")


def align_loop(key: str, vocab: list[str], word_penalty: float = WORD_PENALTY) -> tuple[float, list[int]]:
    """Best sequence of vocabulary items (indices) whose concatenated phones align with `key`.

    Levenshtein against a looped grammar: states are (item, position in item); a finished
    item may be followed by any item.  Spaces in the transcript are ignored, so word
    boundaries the recogniser put in the wrong place cost nothing.
    """
    INF = float("inf")
    sizes = [len(v) for v in vocab]
    # cost[w][j], hist[w][j]: hist is a linked list (item, parent) of finished items
    cost = [[INF] * (L + 1) for L in sizes]
    hist: list[list] = [[None] * (L + 1) for L in sizes]

    def close(c: list[list[float]], h: list[list]) -> tuple[float, object]:
        """Deletions along each item, then the best finished item."""
        def chain(w: int) -> None:
            v, cw, hw = vocab[w], c[w], h[w]
            for j in range(1, len(v) + 1):
                d = cw[j - 1] + indel_cost(v[j - 1])
                if d < cw[j]:
                    cw[j], hw[j] = d, hw[j - 1]

        best, best_h = INF, None
        for w, v in enumerate(vocab):
            chain(w)
            end = c[w][len(v)] + word_penalty
            if end < best:
                best, best_h = end, (w, h[w][len(v)])
        # the next item may start here (with its first sounds dropped)
        for w in range(len(vocab)):
            if best < c[w][0]:
                c[w][0], h[w][0] = best, best_h
                chain(w)
        return best, best_h

    for w in range(len(vocab)):
        cost[w][0] = 0.0
    end, end_h = close(cost, hist)
    for t in key:
        ins = indel_cost(t)
        new = [[INF] * (L + 1) for L in sizes]
        newh: list[list] = [[None] * (L + 1) for L in sizes]
        for w, v in enumerate(vocab):
            cw, hw, nw, nh = cost[w], hist[w], new[w], newh[w]
            for j in range(len(v) + 1):
                c = cw[j]
                if c == INF:
                    continue
                if c + ins < nw[j]:
                    nw[j], nh[j] = c + ins, hw[j]
                if j < len(v):
                    s = c + sub_cost(t, v[j])
                    if s < nw[j + 1]:
                        nw[j + 1], nh[j + 1] = s, hw[j]
        cost, hist = new, newh
        end, end_h = close(cost, hist)
    labels: list[int] = []
    node = end_h
    while node is not None:
        labels.append(node[0])
        node = node[1]
    labels.reverse()
    return end, labels
