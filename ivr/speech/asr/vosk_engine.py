"""Vosk (Kaldi) behind the recogniser interface: any model directory, grammar from the node.

No Indonesian Vosk model exists (the only packaged one is Korean), so this engine is for
users who bring a model for their language: `--vosk-model PATH` or `IVR_VOSK_MODEL`.  The
grammar of the listen becomes Vosk's word list; words the model does not know can never be
recognised, so they are listed once in a warning instead of failing silently.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from contextlib import contextmanager

import numpy as np

from ivr.grammar import Grammar, RecognitionResult

from .base import Partial, Recognizer, RecognizerError
from .endpoint import EndpointConfig
from .matcher import GrammarMatcher, Match
from .models import ModelError, resolve_vosk_model

log = logging.getLogger("ivr.asr.vosk")
_MISSING_RE = re.compile(r"missing in vocabulary: '(.*)'")
_MODELS: dict[str, object] = {}
_LOCK = threading.Lock()


@contextmanager
def _capture_stderr():
    """Collect what native code writes to fd 2 (Kaldi logs) instead of spilling it."""
    lines: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines += tmp.read().decode("utf-8", "replace").splitlines()


def load_model(path: str | None = None):
    """Load a Vosk model once per process (the Korean one takes ~2.5 s and 550 MB)."""
    try:
        import vosk
    except ImportError as exc:  # pragma: no cover
        raise RecognizerError(f"vosk is not installed ({exc}); pip install vosk") from None
    try:
        p = str(resolve_vosk_model(path))
    except ModelError as exc:
        raise RecognizerError(str(exc)) from None
    with _LOCK:
        if p not in _MODELS:
            with _capture_stderr() as lines:
                try:
                    _MODELS[p] = vosk.Model(p)
                except Exception as exc:  # vosk raises plain Exception
                    err = next((ln for ln in lines if "ERROR" in ln), str(exc))
                    raise RecognizerError(f"{p}: cannot load Vosk model ({err.strip()})") from None
        return _MODELS[p]


class VoskRecognizer(Recognizer):
    """Grammar-restricted Vosk with streaming partials and word confidences."""

    name = "vosk"

    def __init__(self, model: str | None = None, endpoint: EndpointConfig | None = None,
                 min_confidence: float = 0.5):
        super().__init__(endpoint)
        import vosk

        self._vosk = vosk
        self.model_path = model
        self.model = load_model(model)
        self.min_confidence = min_confidence
        self.warned: set[str] = set()
        self.missing_words: tuple[str, ...] = ()
        self._rec = None
        self._finals: list[dict] = []
        self._last_partial = ""

    def _on_start(self, grammar: Grammar) -> None:
        # Vosk can only output grammar words, so its results go through the one matcher's
        # exact mode, whose vocabulary is the word list given to Vosk
        self.matcher = GrammarMatcher(grammar)
        words = sorted(self.matcher.exact_vocab)
        with _capture_stderr() as lines:
            rec = self._vosk.KaldiRecognizer(self.model, 16000, json.dumps(words + ["[unk]"], ensure_ascii=False))
        missing = []
        for ln in lines:
            m = _MISSING_RE.search(ln)
            if m and m.group(1) != "[unk]":
                missing.append(m.group(1))
        self.missing_words = tuple(missing)
        new = [w for w in missing if w not in self.warned]
        if new:
            self.warned.update(new)
            log.warning("vosk model %s does not know %d grammar word(s), they can never be recognised: %s",
                        str(self.model_path or os.environ.get("IVR_VOSK_MODEL", "(default)")), len(new), ", ".join(new))
        if len(missing) == len(words):
            log.warning("vosk: none of the grammar's words is in the model's vocabulary (wrong language model?)")
        rec.SetWords(True)
        self._rec = rec
        self._finals = []
        self._last_partial = ""

    def _on_audio(self, x: np.ndarray, events: list) -> Partial | None:
        pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        if self._rec.AcceptWaveform(pcm):
            self._finals.append(json.loads(self._rec.Result()))
            self._last_partial = ""
            return Partial(self._text(), tuple(self._text().split()), self.duration)
        part = json.loads(self._rec.PartialResult()).get("partial", "")
        if part and part != self._last_partial:
            self._last_partial = part
            text = (self._text() + " " + part).strip()
            return Partial(text, tuple(text.split()), self.duration)
        return None

    def _text(self) -> str:
        return " ".join(f.get("text", "") for f in self._finals if f.get("text")).strip()

    def finish(self) -> RecognitionResult:
        if self.grammar is None or self._rec is None:
            raise RecognizerError("finish() before start(grammar)")
        self._finals.append(json.loads(self._rec.FinalResult()))
        words = [w for f in self._finals for w in f.get("result", [])]
        text = self._text()
        conf = float(np.mean([w.get("conf", 0.0) for w in words])) if words else 0.0
        m = self._parse(text.split())
        if not m.nomatch and conf < self.min_confidence:
            m = Match(m.choice, m.digits, m.words, m.similarity, True, "low confidence")
        return self._result(text, m, conf, missing_words=list(self.missing_words))

    def _parse(self, words: list[str]) -> Match:
        """Vosk only outputs grammar words, so parsing is exact (`GrammarMatcher.match_exact`)."""
        if not words:
            return Match(None, None, (), 0.0, True, "no result")
        if "[unk]" in words:
            return Match(None, None, tuple(words), 0.0, True, "out of grammar")
        return self.matcher.match_exact(" ".join(words))
