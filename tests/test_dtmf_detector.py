"""Streaming behaviour and API of the DTMF detector and generator."""
from __future__ import annotations

import numpy as np
import pytest

from ivr.dsp.dtmf import KEYS, DtmfConfig, DtmfDetector, detect, detect_channels, digits_string, key_freqs
from ivr.dsp.dtmf_gen import generate

ALL = "0123456789*#ABCD"


@pytest.mark.parametrize("rate", [8000, 16000, 11025, 22050, 44100, 48000, 6000])
def test_every_key_at_any_rate(rate):
    x = generate(ALL, rate=rate, on_ms=50, off_ms=50)
    digits = detect(x, rate)
    assert digits_string(digits) == ALL
    for i, d in enumerate(digits):  # generated: lead 50 ms, then every 100 ms
        assert abs(d.start - (0.05 + 0.1 * i)) < 0.002 and abs(d.end - (0.1 + 0.1 * i)) < 0.002
        assert abs(d.level_dbfs + 10) < 0.3


@pytest.mark.parametrize("rate", [8000, 44100])
@pytest.mark.parametrize("max_chunk", [7, 160, 4000])
def test_streaming_gives_identical_results_for_any_chunking(rate, max_chunk):
    reps = 1 if max_chunk < 100 else 3  # tiny chunks are slow to feed; keep the test quick
    x = generate(ALL * reps, rate=rate, on_ms=45, off_ms=40, snr_db=12, seed=3)
    ref = DtmfDetector(rate)
    whole = ref.feed(x) + ref.flush()
    whole_starts = ref.pop_starts()
    assert digits_string(whole) == ALL * reps and [s.digit for s in whole_starts] == list(ALL * reps)
    rng = np.random.default_rng(max_chunk)
    det, got, starts, i = DtmfDetector(rate), [], [], 0
    while i < len(x):
        n = int(rng.integers(1, max_chunk + 1))
        got += det.feed(x[i : i + n])
        starts += det.pop_starts()
        i += n
    got += det.flush()
    assert got == whole
    assert starts + det.pop_starts() == whole_starts


def test_batching_small_chunks_gives_the_same_digits():
    x = generate(ALL, rate=16000, on_ms=45, off_ms=45, snr_db=15, seed=4)
    det = DtmfDetector(16000, batch_ms=100)
    got = []
    for i in range(0, len(x), 320):  # 20 ms chunks
        got += det.feed(x[i : i + 320])
    assert got + det.flush() == detect(x, 16000)


def test_digits_come_out_while_streaming_not_only_at_flush():
    x = generate("123", rate=8000, on_ms=80, off_ms=200)
    det = DtmfDetector(8000)
    early = det.feed(x)
    assert digits_string(early) == "123"  # 200 ms of silence after each key closes it
    assert det.flush() == []


def test_tone_active_and_start_events_for_barge_in():
    x = generate("5", rate=8000, on_ms=200, off_ms=100, lead_ms=100)
    det = DtmfDetector(8000)
    det.feed(x[:800])  # 100 ms silence
    assert not det.tone_active and det.pop_starts() == []
    det.feed(x[800:800 + 400])  # 50 ms into the tone
    assert det.tone_active and det.active_digit == "5"
    (ev,) = det.pop_starts()
    assert ev.digit == "5" and abs(ev.time - 0.1) <= 0.006 and ev.detected_at <= 0.15
    assert det.pop_starts() == []  # each start reported once
    (d,) = det.feed(x[1200:])  # 100 ms of silence after the tone: the digit is complete
    assert not det.tone_active and det.flush() == []
    assert d.digit == "5" and abs(d.duration - 0.2) < 0.003


def test_flush_resets_for_a_new_stream():
    det = DtmfDetector(16000)
    x = generate("7", rate=16000)
    assert digits_string(det.feed(x) + det.flush()) == "7"
    again = det.feed(x) + det.flush()
    assert digits_string(again) == "7" and abs(again[0].start - 0.08) < 0.002


def test_detect_channels_keeps_channels_apart():
    a = generate("123", rate=8000, seed=1)
    b = generate("ABCD", rate=8000, seed=2)
    n = max(len(a), len(b))
    st = np.zeros((n, 2), np.float32)
    st[: len(a), 0], st[: len(b), 1] = a, b
    left, right = detect_channels(st, 8000)
    assert digits_string(left) == "123" and {d.channel for d in left} == {0}
    assert digits_string(right) == "ABCD" and {d.channel for d in right} == {1}


def test_silence_noise_and_plain_tones_give_nothing():
    rng = np.random.default_rng(0)
    t = np.arange(8000 * 2) / 8000
    for x in (np.zeros(16000), 0.3 * rng.standard_normal(16000), 0.5 * np.sin(2 * np.pi * 697 * t),
              0.3 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 350 * t)):  # dial tone
        assert detect(x.astype(np.float32), 8000) == []


def test_second_harmonic_check_rejects_harmonic_rich_pairs():
    """A DTMF pair whose tones carry strong second harmonics (a voice-like source) is not a key."""
    t = np.arange(8000) / 8000
    fl, fh = key_freqs("5")
    clean = 0.3 * np.sin(2 * np.pi * fl * t) + 0.3 * np.sin(2 * np.pi * fh * t)
    rich = clean + 0.1 * np.sin(2 * np.pi * 2 * fl * t) + 0.1 * np.sin(2 * np.pi * 2 * fh * t)
    assert digits_string(detect(clean.astype(np.float32), 8000)) == "5"
    assert detect(rich.astype(np.float32), 8000) == []


def test_config_thresholds_are_used():
    x = generate("1", rate=8000, level_dbfs=-40)
    assert digits_string(detect(x, 8000)) == "1"
    assert detect(x, 8000, DtmfConfig(min_level_dbfs=-30)) == []


def test_generator_options():
    x = generate("1 2-3", rate=8000, on_ms=100, off_ms=50, level_dbfs=-6, twist_db=-4)
    assert len(x) == int(round(0.05 + 3 * 0.1 + 2 * 0.05 + 0.05, 6) * 8000) + 1
    (d, *_rest) = detect(x, 8000)
    assert abs(d.low_dbfs + 6) < 0.3 and abs(d.twist_db + 4) < 0.3
    assert generate("1", seed=1).tolist() != generate("1", seed=2).tolist()  # random phases
    with pytest.raises(ValueError, match="not a DTMF key"):
        generate("12E")


def test_bad_input_is_rejected_clearly():
    with pytest.raises(ValueError, match="sample rate"):
        DtmfDetector(100)
    with pytest.raises(ValueError, match="one channel"):
        DtmfDetector(8000).feed(np.zeros((100, 2)))
    assert len(KEYS) == 16 and key_freqs("d") == (941.0, 1633.0)


def test_gliding_whistle_pair_is_not_a_key():
    """Two tones sweeping -2 % -> +2 % (each window within tolerance) wander too much."""
    rate, dur = 8000, 0.12
    t = np.arange(int(rate * dur)) / rate
    fl, fh = key_freqs("8")
    sweep = lambda f: 2 * np.pi * f * (0.98 * t + 0.04 * t * t / (2 * dur))  # noqa: E731
    x = np.zeros(int(rate * 0.4), np.float32)
    x[800 : 800 + len(t)] = 0.3 * np.sin(sweep(fl)) + 0.3 * np.sin(sweep(fh))
    assert detect(x, rate) == []
    steady = x.copy()
    steady[800 : 800 + len(t)] = 0.3 * np.sin(2 * np.pi * fl * t) + 0.3 * np.sin(2 * np.pi * fh * t)
    assert digits_string(detect(steady, rate)) == "8"


def test_a_faint_same_key_right_after_a_press_is_its_room_tail():
    """``tail_drop_db``: a press's reverberation (with an overlay over it) can name the key
    again 15-20 ms after it ends, 20-30 dB down; a keypad sends every press at one level, so
    a same-key digit that soon and 15 dB or more under the press is its tail, not a
    second press.  The same presses at one level stay two digits (Q.24, 40 ms pause),
    and so does a faint press of another key."""
    from ivr.dsp.dtmf_gen import synth_tones

    rate = 8000
    rng = np.random.default_rng(3)
    starts, on = np.array([0.2, 0.34, 0.7, 0.86]), np.array([0.1, 0.07, 0.12, 0.06])
    tails = synth_tones(["1", "1", "7", "7"], starts, on, rate, 1.2,
                        level_dbfs=np.array([-14.0, -40.0, -14.0, -38.0]), rng=rng)
    assert [d.digit for d in detect(tails, rate)] == ["1", "7"]
    assert [d.digit for d in detect(tails, rate, DtmfConfig(tail_drop_db=None))] == ["1", "1", "7", "7"]
    same = synth_tones(["1", "1", "7", "7"], starts, on, rate, 1.2, level_dbfs=-14.0, rng=rng)
    assert [d.digit for d in detect(same, rate)] == ["1", "1", "7", "7"]
    other = synth_tones(["1", "4"], starts[:2], on[:2], rate, 0.6, level_dbfs=np.array([-14.0, -40.0]), rng=rng)
    assert [d.digit for d in detect(other, rate)] == ["1", "4"]


def test_hiss_around_a_harmonic_is_background_not_a_voice():
    """``harmonic_flank``: speech and music under a key are not white.  A fricative or a
    cymbal puts energy around twice a tone; measured against white noise's share, that
    failed whole presses as "a voice's harmonic".  With the background read at the
    harmonic's flanks, keys under a 2.2-3.4 kHz hiss 10 dB under them are found in every
    rendering (without it, half the renderings lose a key); the hiss alone names none."""
    from scipy.signal import butter, sosfilt

    from ivr.dsp.dtmf_gen import synth_tones

    rate = 8000
    sos = butter(4, [2200, 3400], btype="bandpass", fs=rate, output="sos")
    now = before = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        x = synth_tones(list("5289"), np.array([0.2, 0.6, 1.0, 1.4]), np.full(4, 0.1), rate, 1.8,
                        level_dbfs=-16.0, rng=rng)
        hiss = sosfilt(sos, rng.standard_normal(len(x)))
        hiss *= 10 ** (-26 / 20) / np.sqrt(np.mean(hiss * hiss))
        y = (x + hiss).astype(np.float32)
        now += digits_string(detect(y, rate)) == "5289"
        # the hiss was there before the presses, so the background read before them
        # (``harmonic_bg_gain``) would clear it too, and the rise path (``rise_gain``: the
        # harmonic read over the whole press, where the hiss is thin) finds them as well, and
        # so do the harmonic lock (``harmonic_lock_hz``: hiss is no partial locked at 2 f)
        # and the grown long look: all off, to judge the flanks alone
        before += digits_string(detect(y, rate, DtmfConfig(harmonic_flank=None, harmonic_bg_gain=None,
                                                           rise_gain=None, harmonic_lock_hz=None,
                                                           long_grow=None))) == "5289"
        assert detect(hiss.astype(np.float32), rate) == []
    assert now == 10 and before <= 6, (now, before)
