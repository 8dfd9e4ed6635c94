"""Speak prompts through the sound device during an interactive keypad call.

Prompts are queued and played one after another in a background output stream, so the
keypad loop keeps reading keys (barge-in stops the queue at once). Without an output device
or without TTS the keypad call shows prompts as text, after a one-line notice.
"""
from __future__ import annotations

import sys
import threading

import numpy as np


class TtsSpeaker:
    def __init__(self, voice, device=None, rate: int = 22050):
        import sounddevice as sd

        self.voice = voice
        self.rate = rate
        self._buf = np.zeros(0, dtype=np.float32)
        self._lock = threading.Lock()
        self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32",
                                       device=device, callback=self._callback)
        self._stream.start()

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

    def _callback(self, out, frames, _time, _status) -> None:
        with self._lock:
            n = min(frames, len(self._buf))
            out[:n, 0] = self._buf[:n]
            out[n:, 0] = 0.0
            self._buf = self._buf[n:]

    def play(self, text: str) -> float:
        """Queue a prompt; returns its length in seconds."""
        audio = self.voice.render(text, self.rate)
        with self._lock:
            self._buf = np.concatenate([self._buf, audio])
        return len(audio) / self.rate

    def stop(self) -> None:
        with self._lock:
            self._buf = np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        self.stop()
        self._stream.stop()
        self._stream.close()
