"""PocketSphinx behind the recogniser interface: en-us acoustic model, Indonesian lexicon.

No Indonesian acoustic model exists for PocketSphinx, so the lexicon maps Indonesian
spelling to the closest en-us phones by rule (Indonesian spelling is nearly phonemic) and
the node's grammar becomes a JSGF grammar.  It is fast (~0.04 s per utterance) but on real
speakers far less accurate than Whisper (issue 7: digits 0.66 vs 0.95); use it for hints,
as a fallback, or where CPU is scarce.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ivr.grammar import DIGIT_WORDS, Grammar, RecognitionResult

from .base import Partial, Recognizer, RecognizerError
from .endpoint import EndpointConfig
from .matcher import GrammarMatcher, Match
from .phonetic import LETTER_NAMES, is_acronym, normalise_text

# Indonesian letters -> CMU (en-us) phones.  Schwa and /e/ share the letter "e"; schwa is
# far more common in the words an IVR uses (empat, enam, delapan, sembilan, pendaftaran).
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ng", ("NG",)), ("ny", ("N", "Y")), ("sy", ("SH",)), ("kh", ("HH",)), ("ai", ("AY",)),
    ("au", ("AW",)), ("oi", ("OY",)), ("a", ("AA",)), ("i", ("IY",)), ("u", ("UW",)),
    ("e", ("AH",)), ("o", ("OW",)), ("b", ("B",)), ("c", ("CH",)), ("d", ("D",)),
    ("f", ("F",)), ("g", ("G",)), ("h", ("HH",)), ("j", ("JH",)), ("k", ("K",)),
    ("l", ("L",)), ("m", ("M",)), ("n", ("N",)), ("p", ("P",)), ("q", ("K",)),
    ("r", ("R",)), ("s", ("S",)), ("t", ("T",)), ("v", ("F",)), ("w", ("W",)),
    ("x", ("K", "S")), ("y", ("Y",)), ("z", ("Z",)),
)


def g2p(word: str) -> list[str]:
    """Indonesian word -> en-us phones, e.g. "tujuh" -> T UW JH UW HH."""
    w = "".join(normalise_text(word))
    if w and w.isalpha() and is_acronym(w):
        return [ph for ch in w for ph in g2p(LETTER_NAMES[ch])]
    out: list[str] = []
    i = 0
    while i < len(w):
        for src, ph in _RULES:
            if w.startswith(src, i):
                if not (out and len(ph) == 1 and out[-1] == ph[0] and src not in "aiueo"):
                    out.extend(ph)  # doubled consonant letters are one phone
                i += len(src)
                break
        else:
            i += 1
    if len(out) > 2 and out[-1] == "HH":  # word-final h is barely audible
        out.pop()
    return out


# Common words that are nobody's answer: a garbage path in the grammar, so that speech
# outside the grammar can land somewhere other than the nearest answer (a nomatch).
GARBAGE = ("halo", "selamat", "pagi", "siang", "malam", "terima", "kasih", "apa", "baik", "bisa",
           "sudah", "belum", "begini", "kenapa", "bagaimana", "dengan", "ini", "itu", "kartu",
           "rumah", "sakit", "obat", "bulan", "tahun", "orang")


GARBAGE_WEIGHT = 1e-10


def _jsgf(matcher: GrammarMatcher) -> tuple[str, set[str]]:
    """JSGF text for the grammar and the set of single words it uses."""
    g = matcher.grammar
    phrases = [p for p, _ in matcher.choice_items]
    alts = [" ".join(p.split()) for p in phrases]
    words = {w for p in phrases for w in p.split()}
    garbage = [w for w in GARBAGE if w not in words]
    words |= set(garbage)
    body: list[str] = []
    if g.digits:
        words |= set(DIGIT_WORDS)
        body.append("<digit>+")
    body += alts
    text = "#JSGF V1.0;\ngrammar ivr;\n"
    if g.digits:
        text += "<digit> = " + " | ".join(DIGIT_WORDS) + ";\n"
    text += "<garbage> = " + " | ".join(garbage) + ";\n"
    alts_txt = " | ".join(f"/1/ ( {b} )" for b in body)
    text += f"public <answer> = {alts_txt} | /{GARBAGE_WEIGHT}/ ( <garbage>+ );\n"
    return text, words


class PocketSphinxRecognizer(Recognizer):
    """JSGF-constrained PocketSphinx; streaming partials from the live hypothesis."""

    name = "pocketsphinx"

    def __init__(self, endpoint: EndpointConfig | None = None, min_similarity: float = 0.0):
        super().__init__(endpoint)
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover
            raise RecognizerError(f"pocketsphinx is not installed ({exc})") from None
        self._ps = pocketsphinx
        self._tmp = tempfile.TemporaryDirectory(prefix="ivr-sphinx-")
        self._decoder = None
        self._dict_words: set[str] = set()
        self.matcher: GrammarMatcher | None = None
        self._last_partial = ""
        self._in_utt = False   # between start_utt and end_utt

    def _end_utt(self) -> None:
        if self._in_utt:
            self._decoder.end_utt()
            self._in_utt = False

    def _on_start(self, grammar: Grammar) -> None:
        self.matcher = GrammarMatcher(grammar, digit_keys=True)
        jsgf, words = _jsgf(self.matcher)
        tmp = Path(self._tmp.name)
        (tmp / "g.gram").write_text(jsgf, encoding="utf-8")
        if self._decoder is None:
            lines = [f"{w} {' '.join(g2p(w))}" for w in sorted(words) if g2p(w)]
            (tmp / "ivr.dict").write_text("\n".join(lines) + "\n", encoding="utf-8")
            self._dict_words = set(words)
            try:
                cfg = self._ps.Config(hmm=str(Path(self._ps.get_model_path()) / "en-us" / "en-us"),
                                      dict=str(tmp / "ivr.dict"), jsgf=str(tmp / "g.gram"),
                                      loglevel="FATAL", samprate=16000)
                self._decoder = self._ps.Decoder(cfg)
            except (RuntimeError, ValueError) as exc:
                raise RecognizerError(f"pocketsphinx failed to start: {exc}") from None
        else:
            # a listen restarted before its finish() (a DTMF tone mutes it, a new node): the
            # decoder refuses to switch search inside an utterance ("Unable to set search")
            self._end_utt()
            for w in sorted(words - self._dict_words):
                ph = g2p(w)
                if ph:
                    self._decoder.add_word(w, " ".join(ph), True)
            self._dict_words |= words
            self._decoder.add_jsgf_file("ivr", str(tmp / "g.gram"))
            self._decoder.activate_search("ivr")
        self._decoder.start_utt()
        self._in_utt = True
        self._last_partial = ""

    def _on_audio(self, x: np.ndarray, events: list) -> Partial | None:
        pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        self._decoder.process_raw(pcm, False, False)
        hyp = self._decoder.hyp()
        text = hyp.hypstr if hyp else ""
        if text and text != self._last_partial:
            self._last_partial = text
            return Partial(text, tuple(text.split()), self.duration)
        return None

    def finish(self) -> RecognitionResult:
        if self.grammar is None:
            raise RecognizerError("finish() before start(grammar)")
        self._end_utt()
        hyp = self._decoder.hyp()
        text = hyp.hypstr.strip() if hyp else ""
        if not text:
            m = Match(None, None, (), 0.0, True, "no result")
            return self._result("", m, 0.0)
        if any(w in GARBAGE and w not in self.matcher.vocab_words for w in text.split()):
            return self._result(text, Match(None, None, (), 0.0, True, "out of grammar"), 0.0)
        m = self.matcher.match(text)
        # the JSGF search computes no posterior; the words are in-grammar by construction
        return self._result(text, m, 0.8 if not m.nomatch else 0.0)

    def close(self) -> None:
        self._tmp.cleanup()
