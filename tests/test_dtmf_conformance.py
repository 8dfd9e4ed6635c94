"""Q.24 conformance of the DTMF detector, and talk-off on real speech and music.

Every row of `ivr.dsp.conformance.CONDITIONS` is rendered for all 16 keys x 20 trials
(random phases, timing and noise) at 8 kHz and 16 kHz.  Must-accept rows need >= 99 %
of trials detected exactly (right key, right count, nothing extra); must-reject rows
allow <= 1 %; "don't care" rows are only reported (see the printed table with -s).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ivr.dsp.audio import resample
from ivr.dsp.conformance import ACCEPT, CONDITIONS, REJECT, make_trials, score_timed
from ivr.dsp.dtmf import detect
from ivr.dsp.talkoff import load_talkoff

TRIALS_PER_KEY = 20
REPO = Path(__file__).resolve().parents[1]


def _score(cond, rate, seed):
    ts = make_trials(cond, rate, TRIALS_PER_KEY, seed=seed)
    digits = detect(ts.signal, rate)
    return score_timed(ts, np.array([d.start for d in digits]), [d.digit for d in digits])


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("cond", CONDITIONS, ids=[f"{c.group}:{c.name}" for c in CONDITIONS])
def test_condition(cond, rate, record_property):
    sc = _score(cond, rate, seed=hash((cond.name, rate)) % 2**31)
    record_property("detection_rate", sc.rate)
    assert sc.trials == 16 * TRIALS_PER_KEY
    if cond.expect == ACCEPT:
        assert sc.rate >= 0.99, f"{cond.name} @ {rate} Hz: only {sc.rate:.1%} detected"
        assert sc.extra == 0, f"{cond.name} @ {rate} Hz: {sc.extra} unexpected digits"
    elif cond.expect == REJECT:
        assert sc.rate <= 0.01, f"{cond.name} @ {rate} Hz: {sc.rate:.1%} wrongly detected"
    else:  # don't care: still no wrong keys
        assert sc.extra <= 0.01 * sc.trials, f"{cond.name}: {sc.extra} wrong digits"


def test_matrix_has_every_q24_row():
    """The matrix covers what the issue lists, with both bands present in each group."""
    by = {}
    for c in CONDITIONS:
        by.setdefault(c.group, set()).add(c.expect)
    for group in ("frequency", "duration", "level"):
        assert {ACCEPT, REJECT} <= by[group], group
    names = {c.name for c in CONDITIONS}
    for n in ("both tones +1.5 %", "both tones -3.5 %", "twist -8 dB", "twist +4 dB", "23 ms tone", "40 ms tone",
              "SNR 15 dB", "-28 dBFS per tone", "-55 dBFS per tone", "40 ms pause", "10 ms break in 100 ms tone"):
        assert n in names, n


def test_timing_and_level_are_reported_accurately():
    """Start/end within 2 ms and level within 0.5 dB of what was generated."""
    from ivr.dsp.conformance import Condition

    cond = Condition("t", "t", ACCEPT, on_ms=60.0, level_dbfs=-20.0, twist_db=-3.0, snr_db=20.0)
    ts = make_trials(cond, 8000, 4, seed=3)
    digits = detect(ts.signal, 8000)
    assert len(digits) == len(ts.keys)
    # tone starts are not kept by make_trials; recover them from the silence before each tone
    x = np.abs(ts.signal)
    for d, s0 in zip(digits, ts.slot_start):
        seg = x[int(s0 * 8000) : int((s0 + 0.3) * 8000)]
        on = np.flatnonzero(seg > 10 ** (-21 / 20))
        t_on, t_off = s0 + on[0] / 8000, s0 + on[-1] / 8000
        assert abs(d.start - t_on) < 0.002 and abs(d.end - t_off) < 0.003, (d, t_on, t_off)
        assert abs(d.low_dbfs + 20) < 0.5 and abs(d.high_dbfs + 23) < 0.5, d
        assert abs(d.twist_db + 3) < 0.5


@pytest.fixture(scope="module")
def speech():
    return load_talkoff("speech", min_minutes=30)


@pytest.fixture(scope="module")
def music():
    return load_talkoff("music", min_minutes=15, extra_variants=1)


def test_talkoff_speech(speech):
    assert speech.minutes >= 30, speech.parts
    digits = detect(speech.signal, speech.rate)
    assert digits == [], f"false digits in {speech.minutes:.0f} min of speech: {digits[:5]}"


def test_talkoff_speech_wideband(speech):
    """The same speech (as recorded) through the 16 kHz path."""
    n = speech.rate * 60 * 25
    x = resample(speech.signal[:n], speech.rate, 16000)
    assert detect(x, 16000) == []


def test_talkoff_music(music):
    assert music.minutes >= 15, music.parts
    digits = detect(music.signal, music.rate)
    assert digits == [], f"false digits in {music.minutes:.0f} min of music: {digits[:5]}"


def test_digits_survive_speech_background(speech):
    """Keys pressed while the prompt keeps talking (barge-in) are still found, and only they.

    The prompt (recorded at about -15 dBFS RMS) comes back as line echo 12 dB down, a
    usual echo return loss; keys are at -10 dBFS per tone.
    """
    from ivr.dsp.dtmf_gen import synth_tones

    rng = np.random.default_rng(5)
    bg = speech.signal[: 8000 * 60] * np.float32(0.25)
    keys = [k for k in "0123456789*#ABCD" for _ in range(4)]
    starts = np.arange(len(keys)) * 0.9 + 0.5
    tones = synth_tones(keys, starts, np.full(len(keys), 0.08), 8000, len(bg) / 8000, level_dbfs=-10.0, rng=rng)
    digits = detect(bg + tones, 8000)
    assert "".join(d.digit for d in digits) == "".join(keys)


def test_a_pitch_copy_moves_every_frequency_and_shortens_the_copy():
    """The talk-off corpora's copies (and bench.dtmf --talkoff-sweep's): every frequency x f,
    the duration / f."""
    from ivr.dsp.talkoff import pitch_copy

    t = np.arange(8000) / 8000
    y = pitch_copy((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), 1.1)
    assert abs(len(y) - 8000 / 1.1) <= 2
    spec = np.abs(np.fft.rfft(y[500:-500] * np.hanning(len(y) - 1000), 1 << 16))
    assert abs(np.argmax(spec) * 8000 / (1 << 16) - 1100) < 1.0


@pytest.fixture(scope="module")
def music_base():
    from ivr.dsp.talkoff import corpus_base

    return corpus_base("music")[0]


# chords of the hold-music corpus that line up with a key for a few 20 ms windows when the
# music is played x0.89 / x0.96 / x1.06 (bench.dtmf --talkoff-sweep): (pitch, key, time in
# the pitch copy, s)
CHORDS = [(0.89, "C", 17.49), (0.89, "C", 36.78), (0.96, "6", 13.98), (1.06, "C", 12.66)]


@pytest.mark.parametrize("factor,key,t", CHORDS, ids=[f"x{f}-{k}-{t}" for f, k, t in CHORDS])
def test_a_chord_that_names_a_key_for_a_few_windows_is_no_digit(music_base, factor, key, t):
    """Over its span a chord's other notes outweigh the partials that matched the key
    (``span_dominance``); with that test off, the same clip gives the key."""
    from ivr.dsp.dtmf import DtmfConfig
    from ivr.dsp.talkoff import pitch_copy

    a, b = int((t * factor - 3) * 8000), int((t * factor + 2) * 8000)
    x = pitch_copy(music_base[a:b], factor)
    assert detect(x, 8000) == []
    assert key in [d.digit for d in detect(x, 8000, DtmfConfig(span_dominance=None))]


def test_a_key_held_over_a_quieter_note_in_its_group_stays_a_digit():
    """The span test reads each tone against its group's other partials: a key held 400 ms
    with a note 6 dB under its tone in the same group is still one digit."""
    from ivr.dsp.dtmf_gen import synth_tones

    x = synth_tones(["5"], np.array([0.3]), np.array([0.4]), 8000, 1.2, level_dbfs=-20.0)
    t = np.arange(len(x)) / 8000
    x = x + 0.5 * 10 ** (-20 / 20) * np.sin(2 * np.pi * 1100 * t)  # 6 dB under, in the high band
    assert [d.digit for d in detect(x.astype(np.float32), 8000)] == ["5"]


@pytest.mark.parametrize("twist,found", [(6.0, True), (8.0, True), (12.0, False)])
def test_a_pair_tilted_up_by_a_microphone_is_a_key_up_to_9_db(twist, found):
    """Q.24 leaves +8 dB twist to the receiver; a room and a phone's speaker tilt keys that
    much (``twist_max_db``), so +8 dB is found, +12 dB is not."""
    from ivr.dsp.conformance import Condition

    cond = Condition("twist", f"twist {twist:+.0f} dB", ACCEPT, twist_db=twist, level_dbfs=-20.0)
    ts = make_trials(cond, 8000, 5, seed=3)
    digits = detect(ts.signal, 8000)
    sc = score_timed(ts, np.array([d.start for d in digits]), [d.digit for d in digits])
    assert sc.rate >= 0.99 if found else sc.rate <= 0.01, sc.rate


# the queue's announcements for the first caller in line, waits "kurang dari 1 menit" to
# "sekitar 7 menit", each in its two forms (on entering the queue; periodic)
QUEUE_SAYS = [(1, "kurang dari 1 menit")] + [(1, f"sekitar {m} menit") for m in range(1, 8)]
# espeak-ng's output depends on what the process said before (the same text came out 107,666
# or 107,667 samples long, and different), so the announcements are rendered by a fresh
# process in a fixed order: the test sees the same audio on every run
_RENDER = """
import os, sys, numpy as np
from ivr.speech.voice import TtsVoice
voice = TtsVoice.create()
out = []
for pos, wait in %r:
    for text in ("Mohon tunggu, semua agen kami sedang melayani penelepon lain. Anda di antrean nomor %%d, "
                 "perkiraan waktu tunggu %%s. Untuk ditelepon kembali, tekan bintang." %% (pos, wait),
                 "Anda berada di antrean nomor %%d, perkiraan waktu tunggu %%s." %% (pos, wait)):
        out.append(voice.render(text, 16000))
np.savez(sys.argv[1], *out)
"""


def test_the_ivrs_own_queue_announcements_name_no_key(tmp_path):
    """The IVR's voice (espeak-ng through pyttsx3) reading the agent queue's announcements
    at 16 kHz, as the call recordings carry them: no digit.  Renderings of these made in
    another order named an '8' through the rise path when its long look read the stillness
    from the phase alone (it now also asks the halves' peaks to agree:
    ``_long_look(halves=)``); rare renderings still name a key ("nomor 24 ... sekitar 9
    menit" said after other texts gives a '0' about once in 150, with this detector and the
    previous one), so this guards the detector on fixed audio, not espeak's variety."""
    import subprocess
    import sys

    env = dict(os.environ, IVR_CACHE=str(tmp_path / "cache"))
    subprocess.run([sys.executable, "-c", _RENDER % (QUEUE_SAYS,), str(tmp_path / "say.npz")], check=True, env=env,
                   cwd=REPO, timeout=300)
    said = np.load(tmp_path / "say.npz")
    false = [(i, detect(said[f"arr_{i}"], 16000)) for i in range(2 * len(QUEUE_SAYS))]
    assert [f for f in false if f[1]] == []
