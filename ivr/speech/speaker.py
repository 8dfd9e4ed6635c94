"""Speak prompts through the sound device, without blocking the caller's input.

`OutputQueue` is a buffered output stream: prompts are queued and played one after another
in the stream's callback, and `stop` empties the queue at once (barge-in). The keypad call
uses it through `TtsSpeaker`; the microphone call feeds it directly. Without an output device
or without TTS the keypad call shows prompts as text, after a one-line notice.
"""
from __future__ import annotations

import sys
import threading
import time

import numpy as np


class OutputQueue:
    def __init__(self, device=None, rate: int = 22050, blocksize: int = 0):
        import sounddevice as sd

        self.rate = rate
        self._buf = np.zeros(0, dtype=np.float32)
        self._lock = threading.Lock()
        self.stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32", device=device,
                                      callback=self._callback, blocksize=blocksize)
        self.stream.start()

    def _callback(self, out, frames, _time, _status) -> None:
        with self._lock:
            n = min(frames, len(self._buf))
            out[:n, 0] = self._buf[:n]
            out[n:, 0] = 0.0
            self._buf = self._buf[n:]

    def play(self, audio: np.ndarray) -> float:
        """Queue audio at `self.rate`; returns its length in seconds."""
        with self._lock:
            self._buf = np.concatenate([self._buf, np.asarray(audio, dtype=np.float32)])
        return len(audio) / self.rate

    def stop(self) -> None:
        with self._lock:
            self._buf = np.zeros(0, dtype=np.float32)

    @property
    def busy(self) -> bool:
        with self._lock:
            return len(self._buf) > 0

    def drain(self, limit_s: float = 30.0) -> None:
        """Wait until what is queued has been played (at most `limit_s`): the goodbye is
        heard before the line drops."""
        end = time.monotonic() + limit_s
        while self.busy and time.monotonic() < end:
            time.sleep(0.05)

    def close(self) -> None:
        self.stop()
        self.stream.stop()
        self.stream.close()


class TtsSpeaker:
    """Prompt text -> TTS audio -> OutputQueue (the keypad driver's `Speaker`)."""

    def __init__(self, voice, device=None, rate: int = 22050):
        self.voice = voice
        self.out = OutputQueue(device, rate)

    @classmethod
    def create(cls, device=None):
        """A speaker, or None (after a one-line notice) when TTS or a device is missing."""
        try:
            from ivr.speech.playback import has_output_device
            from ivr.speech.voice import TtsVoice

            if not has_output_device(device):
                print("ivr: no sound output device; prompts are shown as text only", file=sys.stderr)
                return None
            return cls(TtsVoice.create(), device)
        except Exception as exc:  # no TTS, no PortAudio: text is still a complete call
            print(f"ivr: prompts are shown as text only ({exc})", file=sys.stderr)
            return None

    def play(self, text: str) -> float:
        """Queue a prompt; returns its length in seconds."""
        return self.out.play(self.voice.render(text, self.out.rate))

    def stop(self) -> None:
        self.out.stop()

    def close(self) -> None:
        self.out.close()
