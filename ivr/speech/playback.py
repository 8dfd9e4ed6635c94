"""Play rendered prompts through the sound device, for the interactive drivers.

Headless machines (CI, containers, SSH sessions) have no output device, and PortAudio may
not even be installed; that is normal, not an error.  `has_output_device()` answers without
raising, and `play()` prints a single notice per process and returns False so the driver
keeps going with text only.
"""
from __future__ import annotations

import sys
from typing import TextIO

import numpy as np

__all__ = ["has_output_device", "play", "PlaybackUnavailable"]

_notice_given = False


class PlaybackUnavailable(Exception):
    """No sound output here (no sounddevice/PortAudio, or no output device)."""


def _sounddevice():
    try:
        import sounddevice
    except (ImportError, OSError) as exc:   # OSError: PortAudio library missing
        raise PlaybackUnavailable(f"sounddevice is not usable ({exc})") from None
    return sounddevice


def _output_device(device=None):
    sd = _sounddevice()
    try:
        info = sd.query_devices(device, kind="output") if device is not None else sd.query_devices(kind="output")
    except Exception as exc:  # PortAudioError, ValueError for a bad device name
        raise PlaybackUnavailable(f"no sound output device ({exc})") from None
    if not info or int(info.get("max_output_channels", 0)) < 1:
        raise PlaybackUnavailable("no sound output device")
    return info


def has_output_device(device=None) -> bool:
    """True when audio can be played (on `device`, or the default output)."""
    try:
        _output_device(device)
    except PlaybackUnavailable:
        return False
    return True


def play(samples: np.ndarray, rate: int, device=None, *, blocking: bool = True,
         notice_to: TextIO | None = None) -> bool:
    """Play float samples in [-1, 1] at `rate` Hz.  Returns True if played; False (after a
    one-line notice, once per process) when there is no output device."""
    global _notice_given
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim not in (1, 2):
        raise ValueError(f"samples must be 1-D (mono) or 2-D (frames x channels), got shape {samples.shape}")
    if not isinstance(rate, (int, np.integer)) or rate <= 0:
        raise ValueError(f"sample rate must be a positive integer, got {rate!r}")
    try:
        _output_device(device)
        sd = _sounddevice()
        sd.play(np.clip(samples, -1.0, 1.0), int(rate), device=device, blocking=blocking)
    except PlaybackUnavailable as exc:
        if not _notice_given:
            print(f"ivr: {exc}; prompts are shown as text only", file=notice_to or sys.stderr)
            _notice_given = True
        return False
    return True
