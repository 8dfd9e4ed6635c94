"""DTMF signal generator (vectorised), used by `ivr dtmf gen`, tests, fixtures and the bench.

Conventions (the same as the detector's): `level_dbfs` is the level of the *low-group*
tone, a sine of amplitude 10**(level/20) (full-scale sine = 0 dBFS); `twist_db` is
high-group level minus low-group level, so the high tone is at ``level_dbfs + twist_db``.
`snr_db` is the DTMF power (both tones, while sounding) over white-noise power in the
whole band.  Frequency offsets are in percent of the nominal frequency.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ivr.dsp.dtmf import key_freqs


#: Tone samples synthesised at once (bounds the temporaries to ~60 MB).
_BLOCK = 1 << 20


def _as_array(v, n: int) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return np.broadcast_to(a, (n,)).copy() if a.ndim == 0 else a.astype(np.float64)


def synth_tones(
    keys: Sequence[str],
    starts: Sequence[float] | np.ndarray,
    durations: Sequence[float] | np.ndarray,
    rate: int,
    total: float,
    *,
    level_dbfs: float | np.ndarray = -10.0,
    twist_db: float | np.ndarray = 0.0,
    low_offset_pct: float | np.ndarray = 0.0,
    high_offset_pct: float | np.ndarray = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Render many (non-overlapping) DTMF tones into one float32 buffer of `total` seconds.

    Every per-tone argument may be a scalar or an array with one value per tone.  Start
    phases are random (from `rng`), so repeated trials are not bit-identical.
    """
    n_t = len(keys)
    out = np.zeros(int(round(total * rate)), dtype=np.float32)
    if n_t == 0:
        return out
    rng = rng or np.random.default_rng()
    fl = np.array([key_freqs(k)[0] for k in keys]) * (1 + _as_array(low_offset_pct, n_t) / 100)
    fh = np.array([key_freqs(k)[1] for k in keys]) * (1 + _as_array(high_offset_pct, n_t) / 100)
    al = 10 ** (_as_array(level_dbfs, n_t) / 20)
    ah = al * 10 ** (_as_array(twist_db, n_t) / 20)
    s0 = np.round(np.asarray(starts, dtype=np.float64) * rate).astype(np.int64)
    n = np.round(np.asarray(durations, dtype=np.float64) * rate).astype(np.int64)
    n = np.clip(n, 0, None)
    if np.any(s0 < 0) or np.any(s0 + n > len(out)):
        raise ValueError("tone outside the buffer: make `total` longer")
    ends = np.cumsum(n)
    first = ends - n
    pl, ph = rng.uniform(0, 2 * np.pi, n_t), rng.uniform(0, 2 * np.pi, n_t)
    # the tone samples a block at a time: each sample needs ~7 float64/int64 temporaries
    # (3.5 GB for 100,000 keys, 2.5 GB for 2 one-minute tones at 384 kHz, done at once)
    n_all = int(ends[-1])
    for a in range(0, n_all, _BLOCK):
        k = np.arange(a, min(a + _BLOCK, n_all))
        tone_of = np.searchsorted(ends, k, side="right")
        local = k - first[tone_of]
        t = local / rate
        sig = al[tone_of] * np.sin(2 * np.pi * fl[tone_of] * t + pl[tone_of])
        sig += ah[tone_of] * np.sin(2 * np.pi * fh[tone_of] * t + ph[tone_of])
        out[s0[tone_of] + local] = sig
    return out


def add_white_noise(x: np.ndarray, snr_db: float, signal_power: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """x + white Gaussian noise whose power is `signal_power` / 10**(snr_db/10)."""
    rng = rng or np.random.default_rng()
    sigma = np.sqrt(signal_power / 10 ** (snr_db / 10))
    return (x + rng.standard_normal(len(x)).astype(np.float32) * np.float32(sigma)).astype(np.float32)


def dtmf_power(level_dbfs: float, twist_db: float = 0.0) -> float:
    """Mean power of a DTMF pair while it sounds (for SNR calculations)."""
    al = 10 ** (level_dbfs / 20)
    ah = al * 10 ** (twist_db / 20)
    return (al * al + ah * ah) / 2


def generate(
    digits: str,
    rate: int = 8000,
    on_ms: float = 80.0,
    off_ms: float = 80.0,
    level_dbfs: float = -10.0,
    twist_db: float = 0.0,
    freq_offset_pct: float | tuple[float, float] = 0.0,
    *,
    lead_ms: float | None = None,
    trail_ms: float | None = None,
    snr_db: float | None = None,
    seed: int | None = 0,
) -> np.ndarray:
    """A key sequence as float32 mono: `lead` silence, tone/pause pairs, `trail` silence.

    `freq_offset_pct` applies to both tones, or give (low, high).  With `snr_db`, white
    noise is added relative to the tones' power.  Letters are case-insensitive; spaces
    and '-' in `digits` are ignored so "0811-8-165" works.
    """
    keys = [c.upper() for c in digits if c not in " -"]
    for k in keys:
        key_freqs(k)  # validates
    lead = off_ms if lead_ms is None else lead_ms
    trail = off_ms if trail_ms is None else trail_ms
    on, step = on_ms / 1000, (on_ms + off_ms) / 1000
    starts = lead / 1000 + step * np.arange(len(keys))
    total = lead / 1000 + len(keys) * on + max(len(keys) - 1, 0) * off_ms / 1000 + trail / 1000
    lo, hi = (freq_offset_pct, freq_offset_pct) if np.isscalar(freq_offset_pct) else freq_offset_pct
    rng = np.random.default_rng(seed)
    x = synth_tones(keys, starts, np.full(len(keys), on), rate, total + 1.0 / rate,
                    level_dbfs=level_dbfs, twist_db=twist_db, low_offset_pct=lo, high_offset_pct=hi, rng=rng)
    if snr_db is not None:
        x = add_white_noise(x, snr_db, dtmf_power(level_dbfs, twist_db), rng)
    return x
