"""G.711 mu-law (PCMU) and A-law (PCMA), vectorised with lookup tables.

Python's `audioop` is gone in 3.13, so the codec is here: encoding is one table lookup per
sample over all 65536 int16 values (tables built once at import, ~130 kB each), decoding one
lookup over the 256 codes. Signals are float32 in [-1, 1] as everywhere else in ivr.
"""
from __future__ import annotations

import numpy as np

_BIAS = 0x84


def _ulaw_encode_scalar(pcm: np.ndarray) -> np.ndarray:
    """Reference mu-law encoder (ITU-T G.711 on 14-bit magnitudes, as Sun's g711.c)."""
    s = pcm.astype(np.int32) >> 2
    mask = np.where(s < 0, 0x7F, 0xFF)
    mag = np.minimum(np.where(s < 0, -s, s), 8159) + 0x21
    raw = np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 5
    seg = np.clip(raw, 0, 7)
    uval = np.where(raw >= 8, 0x7F, (seg << 4) | ((mag >> (seg + 1)) & 0x0F))
    return (uval ^ mask).astype(np.uint8)


def _ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exp = (u >> 4) & 0x07
    mant = u & 0x0F
    mag = (((mant << 3) + _BIAS) << exp) - _BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def _alaw_encode_scalar(pcm: np.ndarray) -> np.ndarray:
    s = pcm.astype(np.int32) >> 3           # A-law works on 13-bit magnitudes
    sign = np.where(s >= 0, 0x80, 0)
    mag = np.where(s >= 0, s, -s - 1)
    mag = np.minimum(mag, 0x0FFF)
    seg = np.where(mag < 32, 0, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 4)
    seg = np.clip(seg, 0, 7)
    mant = np.where(seg == 0, mag >> 1, mag >> seg) & 0x0F
    return ((sign | (seg << 4) | mant) ^ 0x55).astype(np.uint8)


def _alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    sign = a & 0x80
    seg = (a >> 4) & 0x07
    mant = a & 0x0F
    mag = np.where(seg == 0, (mant << 4) + 8, ((mant << 4) + 0x108) << np.maximum(seg - 1, 0))
    return np.where(sign != 0, mag, -mag).astype(np.int16)


_ALL = np.arange(-32768, 32768, dtype=np.int32)
_ULAW_ENC = _ulaw_encode_scalar(_ALL)
_ALAW_ENC = _alaw_encode_scalar(_ALL)
_ULAW_DEC = _ulaw_decode_table().astype(np.float32) / 32768.0
_ALAW_DEC = _alaw_decode_table().astype(np.float32) / 32768.0

CODECS = {"PCMU": 0, "PCMA": 8}   # name -> static RTP payload type (RFC 3551)


def _to_int16_index(x: np.ndarray) -> np.ndarray:
    return (np.clip(np.round(np.asarray(x, dtype=np.float32) * 32768.0), -32768, 32767).astype(np.int32) + 32768)


def encode(x: np.ndarray, codec: str) -> bytes:
    """float32 samples -> G.711 payload bytes."""
    table = _ULAW_ENC if codec == "PCMU" else _ALAW_ENC
    return table[_to_int16_index(x)].tobytes()


def decode(payload: bytes, codec: str) -> np.ndarray:
    """G.711 payload bytes -> float32 samples."""
    table = _ULAW_DEC if codec == "PCMU" else _ALAW_DEC
    return table[np.frombuffer(payload, dtype=np.uint8)]


def silence(codec: str, n: int) -> bytes:
    """`n` samples of digital silence (0xFF in mu-law, 0xD5 in A-law)."""
    return (b"\xff" if codec == "PCMU" else b"\xd5") * n
