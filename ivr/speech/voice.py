"""Prompts as rendered audio for drivers that keep their own timeline (WAV calls).

A prompt lasts exactly as long as its rendered WAV, and the call recording contains those
very samples; rendering goes through the TTS cache, so each prompt is synthesised once.
"""
from __future__ import annotations

import numpy as np

from ivr.speech.tts import Tts
from ivr.dsp.audio import resample


class TtsVoice:
    def __init__(self, tts: Tts):
        self.tts = tts
        self._audio: dict[str, tuple[np.ndarray, int]] = {}
        # Is this prompt text personalised (a caller's data filled in)? Then it is not cached
        # on disk (see ivr.speech.tts). The driver sets it to CallRuntime.personal_text.
        self.personal = lambda text: False

    @classmethod
    def create(cls, **kw) -> "TtsVoice":
        tts = Tts(**kw)
        voice = cls(tts)
        voice.duration("Tes.")   # fail now, with a clear error, if TTS cannot work here
        return voice

    def _load(self, text: str) -> tuple[np.ndarray, int]:
        got = self._audio.get(text)
        if got is None:
            got = self._audio[text] = self.tts.load(text, personal=self.personal(text))
        return got

    def duration(self, text: str) -> float:
        samples, rate = self._load(text)
        return len(samples) / rate

    def render(self, text: str, rate: int) -> np.ndarray:
        samples, src = self._load(text)
        x = samples if samples.ndim == 1 else samples[:, 0]
        return resample(x.astype(np.float32), src, rate) if src != rate else x.astype(np.float32)
