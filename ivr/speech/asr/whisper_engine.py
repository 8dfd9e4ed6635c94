"""Whisper (faster-whisper / CTranslate2) behind the recogniser interface.

Why these choices (see issue 7's measurements):
* beam 5 with an `initial_prompt` that lists the allowed words lifts connected-digit
  accuracy from 0.85 to 0.95 on real speakers; the digit words are listed in a scrambled
  order, because a prompt "satu dua tiga ..." made Whisper continue the sequence;
* Whisper writes numerals as often as words, so the transcript is normalised and matched to
  the grammar phonetically (matcher.py), and a weak best match is a nomatch;
* the encoder always runs on a 30 s window (~0.6 s of the ~0.8 s per utterance on 2 cores),
  so speed comes from starting the decode when a pause begins (speculation) and keeping it
  if the caller does not resume; the caller then waits only the decode, not the endpointer.
"""
from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ivr.engine.grammar import DIGIT_WORDS, Grammar, RecognitionResult

from .base import RATE, Partial, Recognizer, RecognizerError
from .endpoint import EndpointConfig
from .matcher import DEFAULT_MIN_SIMILARITY, GrammarMatcher
from .models import ModelError, resolve_whisper_model
from .phonetic import normalise_text

# Digit words in an order with no two neighbours differing by one (no "counting" cue).
PROMPT_DIGITS = ("kosong", "tujuh", "dua", "sembilan", "nol", "lima", "satu", "delapan", "empat", "enam", "tiga")
assert sorted(PROMPT_DIGITS) == sorted(DIGIT_WORDS)

_MODELS: dict[tuple, object] = {}
_MODELS_LOCK = threading.Lock()


def load_model(path: str | None = None, threads: int | None = None, compute_type: str = "int8"):
    """Load (once per process) a CTranslate2 Whisper model; the packaged base by default."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:  # pragma: no cover - depends on install
        raise RecognizerError(f"faster-whisper is not installed ({exc}); pip install faster-whisper") from None
    try:
        model_dir = resolve_whisper_model(path)
    except ModelError as exc:
        raise RecognizerError(str(exc)) from None
    threads = threads or min(4, os.cpu_count() or 1)
    key = (str(model_dir), threads, compute_type)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                _MODELS[key] = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type,
                                            cpu_threads=threads, num_workers=1)
            except (RuntimeError, ValueError, OSError) as exc:
                raise RecognizerError(f"{model_dir}: cannot load Whisper model ({str(exc).splitlines()[0]})") from None
        return _MODELS[key]


def build_prompt(matcher: GrammarMatcher) -> str:
    """Allowed words, comma separated, digits scrambled (never in counting order)."""
    words = [p for p in matcher.words_for_prompt() if p not in DIGIT_WORDS]
    if matcher.grammar.digits or any(p in DIGIT_WORDS for p in matcher.words_for_prompt()):
        digits = [d for d in PROMPT_DIGITS if d in matcher.words_for_prompt()]
        words = digits + words
    return ", ".join(words) + "."


def copies_prompt(text: str, prompt: str, n: int = 4) -> bool:
    """True when `text` contains a run of `n` consecutive words of `prompt`."""
    t = normalise_text(text)
    p = normalise_text(prompt)
    grams = {tuple(p[i:i + n]) for i in range(len(p) - n + 1)}
    return any(tuple(t[i:i + n]) in grams for i in range(len(t) - n + 1))


@dataclass
class _Decode:
    future: Future
    speech_end: float      # audio time the speech stopped, as known at submission
    detected_at: float     # audio time the pause was detected
    samples: int           # audio decoded: [0, samples)
    stale: bool = False


class WhisperRecognizer(Recognizer):
    """Grammar-constrained Whisper with speculative decoding at pauses."""

    name = "whisper"

    def __init__(self, model: str | None = None, language: str = "id", beam_size: int = 5,
                 min_similarity: float = DEFAULT_MIN_SIMILARITY, speculative: bool = True,
                 threads: int | None = None, endpoint: EndpointConfig | None = None,
                 prompt: bool = True):
        super().__init__(endpoint)
        self.model = load_model(model, threads)
        self.language = language
        self.beam_size = beam_size
        self.min_similarity = min_similarity
        self.speculative = speculative
        self.use_prompt = prompt
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper") if speculative else None
        self._spec: _Decode | None = None
        self.matcher: GrammarMatcher | None = None

    # ------------------------------------------------------------------ hooks
    def _on_start(self, grammar: Grammar) -> None:
        self.matcher = GrammarMatcher(grammar, self.min_similarity)
        self._prompt = build_prompt(self.matcher) if self.use_prompt else None
        # an answer is short: cap the tokens so a runaway decode cannot cost seconds
        self._max_tokens = 16 + (6 * grammar.max_digits if grammar.digits else 24)
        self._cancel_spec()

    def _on_audio(self, x: np.ndarray, events: list) -> Partial | None:
        for ev in events:
            if ev.kind == "pause" and self._pool is not None:
                self._cancel_spec()
                audio = self.audio().copy()
                fut = self._pool.submit(self._decode, audio)
                self._spec = _Decode(fut, ev.at, ev.detected_at, len(audio))
            elif ev.kind == "resume":
                self._cancel_spec()
        s = self._spec
        if s is not None and not s.stale and s.future.done() and s.future.exception() is None:
            text = s.future.result()[0]
            return Partial(text, tuple(self.matcher.clean_words(text)), s.speech_end)
        return None

    def _cancel_spec(self) -> None:
        if self._spec is not None:
            self._spec.stale = True
            self._spec.future.cancel()
            self._spec = None

    # ------------------------------------------------------------------ decode
    def _transcribe(self, audio: np.ndarray, prompt: str | None):
        segments, _info = self.model.transcribe(
            audio, language=self.language, beam_size=self.beam_size,
            initial_prompt=prompt, without_timestamps=True,
            condition_on_previous_text=False, temperature=0.0, vad_filter=False,
            max_new_tokens=self._max_tokens,
        )
        segs = list(segments)
        return segs, " ".join(s.text.strip() for s in segs).strip()

    def _decode(self, audio: np.ndarray) -> tuple[str, dict]:
        """Transcribe `audio` (speech region plus margins); returns text and decode info.

        If the transcript copies a run of 4+ words of the prompt (Whisper sometimes
        "continues" the prompt's word list after a long digit string), decode again without
        the prompt: a copied list would otherwise become invented digits."""
        t0 = time.perf_counter()
        start = self._ep.speech_start
        if start is not None:
            a = max(0, int((start - 0.3) * RATE))
            audio = audio[a:]
        segs, text = self._transcribe(audio, self._prompt)
        copied = bool(self._prompt) and copies_prompt(text, self._prompt)
        if copied:
            segs, text = self._transcribe(audio, None)
        lp = [s.avg_logprob for s in segs]
        meta = {
            "avg_logprob": round(float(np.mean(lp)), 3) if lp else None,
            "no_speech_prob": round(float(max((s.no_speech_prob for s in segs), default=1.0)), 3),
            "decode_s": round(time.perf_counter() - t0, 3),
            "prompt_copied": copied,
        }
        return text, meta

    def early_result(self) -> RecognitionResult | None:
        """The speculative result, if ready and already a complete answer (a menu choice, or
        a digit string of the maximum length): the caller need not wait for the endpoint."""
        s = self._spec
        if s is None or s.stale or not s.future.done() or s.future.exception() is not None:
            return None
        res = self._finish_from(s.future.result(), s)
        g = self.grammar
        if res.nomatch:
            return None
        if res.choice is not None or (g.digits and res.digits and len(res.digits) >= g.max_digits):
            return res
        return None

    def finish(self) -> RecognitionResult:
        if self.grammar is None:
            raise RecognizerError("finish() before start(grammar)")
        s = self._spec
        self._spec = None
        if self._ep.speech_start is None:
            return self._result("", self.matcher.match(""), 0.0, reason="silence", latency=0.0)
        speech_end = self._ep.speech_end or self.duration
        if s is not None and not s.stale and s.speech_end >= speech_end - 1e-6:
            try:
                decoded = s.future.result()
                return self._finish_from(decoded, s)
            except Exception:  # noqa: BLE001 - fall back to a fresh decode
                pass
        decoded = self._decode(self.audio())
        return self._finish_from(decoded, None)

    def _finish_from(self, decoded: tuple[str, dict], spec: _Decode | None) -> RecognitionResult:
        text, meta = decoded
        m = self.matcher.match(text)
        conf = m.similarity
        if meta.get("avg_logprob") is not None and meta["no_speech_prob"] > 0.8 and meta["avg_logprob"] < -1.0:
            conf = 0.0  # Whisper itself thinks this was not speech
        if conf < self.min_similarity and not m.nomatch:
            from dataclasses import replace
            m = replace(m, nomatch=True, reason="no speech")
        extra = dict(meta)
        if spec is not None:
            extra["speculative"] = True
            extra["pause_delay"] = round(spec.detected_at - spec.speech_end, 3)
            extra["latency"] = round(extra["pause_delay"] + meta["decode_s"], 3)
        else:
            extra["speculative"] = False
            ends = [e for e in self._ep.events if e.kind == "end"]
            delay = ends[-1].detected_at - ends[-1].at if ends else 0.0
            extra["latency"] = round(delay + meta["decode_s"], 3)
        extra["prompt"] = self._prompt
        if extra.get("avg_logprob") is not None:
            extra["p_token"] = round(math.exp(extra["avg_logprob"]), 3)
        return self._result(text, m, conf, **extra)

    def close(self) -> None:
        self._cancel_spec()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
