"""DTMF keys under speech and music overlay, microphone-captured (issue 13).

The sets come from `ivr.dsp.overlay` (espeak-ng talk radio, Debian hold music, the
project's hold music; 250/250 ms and irregular keypad timing; 0 and -7 dB key-to-overlay
ratio).  Each condition is judged on its keys summed over `SEEDS` renderings, against the
issue's goal scaled to that many sets (>= 15 of 16 at 0 dB, >= 12 of 16 at -7 dB), and
against the baseline detector (the overlay switches
off): within 2 keys of it in every condition, and >= 10 % more keys over all of them.  False digits: none on the overlay
material alone, and no wrong-key digits inside the sets.
"""
from __future__ import annotations

import numpy as np
import pytest

from ivr.dsp.dtmf import DtmfConfig, DtmfDetector, detect, key_freqs
from ivr.dsp.overlay import (CONDITIONS, SPEED_CONDITIONS, OverlayCondition, make_overlay_set, score_overlay,
                              talkoff_digits)

SEEDS = (0, 1, 2)
BASELINE = DtmfConfig(band_ratio=None, hold_level=None, fine_share=None, bridge_level=None, spread_one=None,
                      long_dominance=None, rise_gain=None)
RISE_OFF = DtmfConfig(rise_gain=None)
GOAL = {0.0: 15, -7.0: 12}
# every condition meets the goal today (summed over SEEDS); radio 0 dB and music
# -7 dB with keypad timing were the last two (the harmonic lock, the +9 dB twist)
MEETS_GOAL = set(CONDITIONS)


def _split_presses(ts, digits) -> int:
    """Digits beyond the first of the same key starting within one press (its tone, 20 ms
    early to 60 ms late): one key reported twice, a doubled NIK digit for the caller."""
    n = 0
    for k, st, en in zip(ts.keys, ts.starts, ts.ends):
        n += max(sum(1 for d in digits if d.digit == k and st - 0.02 <= d.start <= en + 0.06) - 1, 0)
    return n


def _found(cond: OverlayCondition, cfg: DtmfConfig | None) -> tuple[int, int, int]:
    """Keys found, false digits and split presses over SEEDS."""
    found = false = split = 0
    for seed in SEEDS:
        ts = make_overlay_set(cond, seed)
        digits = detect(ts.signal, ts.rate, cfg)
        sc = score_overlay(ts, digits)
        found, false, split = found + sc.found, false + sc.false, split + _split_presses(ts, digits)
    return found, false, split


@pytest.fixture(scope="module")
def results():
    """(found by default config, found by baseline, split presses and false digits by
    default config) per condition, summed over SEEDS."""
    out = {}
    for c in CONDITIONS:
        found, false, split = _found(c, None)
        out[c] = (found, _found(c, BASELINE)[0], split, false)
    return out


@pytest.fixture(scope="module")
def rise_off():
    """(found, false digits, split presses) per condition with the rise path off: what the
    other paths' own tests measure their gain against (the rise path finds many of the
    same presses another way)."""
    return {c: _found(c, RISE_OFF) for c in CONDITIONS}


@pytest.mark.parametrize("cond", CONDITIONS, ids=[c.name for c in CONDITIONS])
def test_overlay_recall(cond, results):
    found, base = results[cond][:2]
    n = 16 * len(SEEDS)
    assert found >= base - 2, f"{cond.name}: {found}/{n} keys, baseline found {base}"
    if cond in MEETS_GOAL:
        assert found >= GOAL[cond.ratio_db] * len(SEEDS), f"{cond.name}: {found}/{n} keys"


def test_overlay_recall_overall_gain(results):
    found = sum(r[0] for r in results.values())
    base = sum(r[1] for r in results.values())
    assert found >= 1.10 * base, (found, base)


def test_a_masked_press_is_not_split(results):
    """A burst of overlay can fail a 250 ms press's windows for up to ~100 ms while its tones
    go on; the bridge (``bridge_level``) keeps it one digit.  Without it the sets held 22
    split presses over SEEDS (6 in speech -7 dB 250/250, 8 in radio -7 dB 250/250), now 2,
    and no key is lost for it (the recall tests above)."""
    split = {c.name: r[2] for c, r in results.items() if r[2]}
    assert sum(split.values()) <= 4, split
    without = sum(_found(c, DtmfConfig(bridge_level=None))[2] for c in CONDITIONS
                  if c.timing == "250/250" and c.ratio_db == -7.0)
    assert without >= 10, without  # the sets do hold such presses (the test can fail)


def test_the_same_key_twice_with_a_legal_pause_stays_two():
    """Q.24: two presses of one key with a 40 ms pause are two digits (clean and in white
    noise at 15 dB SNR): the release empties the tones' bins, so the bridge never joins
    them.  The same presses with the tones going on through the "pause" under a loud
    burst instead stay one digit each (the bridge; without it some split)."""
    from ivr.dsp.dtmf_gen import add_white_noise, dtmf_power, synth_tones

    rate = 8000
    rng = np.random.default_rng(5)
    keys = [k for k in "0123456789*#ABCD" for _ in range(2)]
    on = np.repeat(rng.uniform(0.06, 0.25, 16), 2)
    starts = np.zeros(32)
    t = 0.3
    for i in range(16):
        starts[2 * i], starts[2 * i + 1] = t, t + on[2 * i] + 0.04
        t += 2 * on[2 * i] + 0.04 + 0.3
    x = synth_tones(keys, starts, on, rate, t + 0.3, level_dbfs=-16.0, rng=rng)
    for sig in (x, add_white_noise(x, 15.0, dtmf_power(-16.0), rng)):
        assert "".join(d.digit for d in detect(sig, rate)) == "".join(keys)
    one = synth_tones(keys[::2], starts[::2], 2 * on[::2] + 0.04, rate, t + 0.3, level_dbfs=-16.0, rng=rng)
    for i in range(16):
        j = int((starts[2 * i] + on[2 * i] - 0.02) * rate)
        one[j : j + int(0.08 * rate)] += rng.standard_normal(int(0.08 * rate)).astype(np.float32) * 0.3
    assert "".join(d.digit for d in detect(one, rate)) == "".join(keys[::2])
    # the pieces a burst leaves also touch (their edges read into the burst), so the
    # same-press rule joins them too: both off, to see the bursts split presses
    off = detect(one, rate, DtmfConfig(bridge_level=None, same_press_gap=None))
    assert len(off) > 16, "the bursts split no press: the test shows nothing"


def test_onset_path_adds_keys_under_held_notes(results):
    """The onset path (a pair rising over each bin's recent background, and rivals judged by
    their rise), with the fine path, finds keys the in-band path alone misses under music and hold music, and
    costs none anywhere (the talk-off sets stay at 0: test_dtmf_conformance, below)."""
    off = DtmfConfig(onset_gain=None, fine_share=None)
    gained = 0
    for c in CONDITIONS:
        found = results[c][0]
        without = _found(c, off)[0]
        # one key either way: a window a path passes can join a neighbour's digit
        assert found >= without - 1, f"{c.name}: {found} with the onset and fine paths, {without} without"
        gained += found - without
    assert gained >= 5, gained


def test_fine_path_adds_keys_under_music(results):
    """The fine path (40 ms, 10 Hz grid: a held partial between two tone frequencies no
    longer spills into both bins) finds keys the 10 ms paths miss under music, radio and
    hold music; the talk-off sets stay at 0 (test_dtmf_conformance, and above)."""
    off = DtmfConfig(fine_share=None)
    gained = 0
    for c in CONDITIONS:
        without = _found(c, off)[0]
        gained += results[c][0] - without
        if c.overlay in ("music", "hold"):
            assert results[c][0] >= without - 1, f"{c.name}: {results[c][0]} with the fine path, {without} without"
    assert gained >= 30, gained


def test_fine_path_rise_over_its_background_adds_keys_under_held_music(results, rise_off):
    """The fine path may also pass on what rose over the same 40 ms read 60 and 240 ms
    earlier (a held chord cancels, a key appears): it finds keys under music and hold music
    with irregular keypad timing that the fine path alone misses, and costs none anywhere
    (the talk-off sets stay at 0: test_dtmf_conformance).  Measured with the rise path off
    in both (it finds some of the same presses over 40 ms windows of its own)."""
    off = DtmfConfig(fine_bg_delay=None, rise_gain=None)
    gained = 0
    for c in CONDITIONS:
        without = _found(c, off)[0]
        assert rise_off[c][0] >= without, f"{c.name}: {rise_off[c][0]} with the rise test, {without} without"
        assert results[c][0] >= without, f"{c.name}: {results[c][0]} by default, {without} without it"
        if c.overlay in ("music", "hold"):
            gained += rise_off[c][0] - without
    assert gained >= 10, gained


@pytest.mark.parametrize("kind", ["speech", "music", "radio"])
def test_overlay_material_alone_gives_no_digit(kind):
    assert talkoff_digits(detect, kinds=(kind,)) == 0


def test_overlay_material_in_a_row_gives_no_digit():
    """Seed 7 over the three kinds in a row holds one key-like moment (a radio music bed,
    43 s in, 72 % of its energy in an 'A'-like pair) that the baseline detector takes for
    'A'; ours (``min_ratio`` 0.72) gives no digit at all."""
    assert talkoff_digits(detect) == 0


def test_sets_are_reproducible_and_labelled():
    c = OverlayCondition("radio", -7.0, "keypad")
    a, b = make_overlay_set(c, 3), make_overlay_set(c, 3)
    assert np.array_equal(a.signal, b.signal) and a.keys == b.keys
    assert sorted(a.keys) == sorted("0123456789*#ABCD")
    on = a.ends - a.starts
    assert on.min() >= 0.04 and on.max() <= 0.2
    assert not np.array_equal(a.signal, make_overlay_set(c, 4).signal)
    assert np.abs(a.signal).max() <= 1.0


def test_speed_test_sets_send_keys_50_ms_on_50_ms_off():
    """The speed test's timing (`SPEED_CONDITIONS`): every key 50 ms with 50 ms between, all
    16 keys; a regression floor on what the detector finds there at 0 dB (bench.dtmf
    --overlay-only prints the figures; no goal of the issue's), and no false digit."""
    from ivr.dsp.overlay import SPEED_CONDITIONS

    assert {c.timing for c in SPEED_CONDITIONS} == {"50/50"} and len(SPEED_CONDITIONS) == 8
    ts = make_overlay_set(OverlayCondition("radio", 0.0, "50/50"), 0)
    assert sorted(ts.keys) == sorted("0123456789*#ABCD")
    assert np.allclose(ts.ends - ts.starts, 0.05) and np.allclose(np.diff(ts.starts), 0.1)
    found = false = 0
    for c in SPEED_CONDITIONS[:4]:  # 0 dB
        for seed in (0, 1):
            s = make_overlay_set(c, seed)
            sc = score_overlay(s, detect(s.signal, s.rate))
            found, false = found + sc.found, false + sc.false
    assert found >= 104 and false == 0, (found, false)  # 8 sets x 16 keys: 13 per 16 at least (112 today)


def test_keys_louder_than_the_overlay_render_and_are_found():
    """A positive key-to-overlay ratio (keys 10 dB over the music) is a set like any other
    (its seed once took -100 and numpy refused it)."""
    ts = make_overlay_set(OverlayCondition("music", 10.0, "keypad"), 0)
    sc = score_overlay(ts, detect(ts.signal, ts.rate))
    assert sc.found >= 15 and sc.false == 0


def test_unknown_overlay_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown overlay"):
        make_overlay_set(OverlayCondition("jazz", 0.0, "250/250"))


def test_masked_tone_is_one_digit_but_a_real_pause_is_two():
    """A 250 ms key whose middle is masked by a loud burst stays one digit (held windows);
    the same key twice with a 40 ms silent pause stays two (Q.24)."""
    from ivr.dsp.dtmf_gen import synth_tones

    rate = 8000
    rng = np.random.default_rng(2)
    x = synth_tones(["5"], [0.1], [0.25], rate, 0.5, level_dbfs=-16.0, rng=rng)
    burst = np.zeros_like(x)
    i0 = int(0.19 * rate)
    burst[i0 : i0 + int(0.06 * rate)] = rng.standard_normal(int(0.06 * rate)) * 0.25
    masked = x + burst
    base = detect(masked, rate, BASELINE)
    assert [d.digit for d in detect(masked, rate)] == ["5"]
    assert len(base) >= 1  # whether the baseline splits it depends on the burst; ours never does
    pair = synth_tones(["5", "5"], [0.1, 0.19], [0.05, 0.05], rate, 0.4, level_dbfs=-16.0, rng=rng)
    assert [d.digit for d in detect(pair, rate)] == ["5", "5"]


def test_streaming_chunks_give_the_same_digits_under_overlay():
    ts = make_overlay_set(OverlayCondition("radio", 0.0, "keypad"), 1)
    whole = detect(ts.signal, ts.rate)
    det, got = DtmfDetector(ts.rate), []
    rng = np.random.default_rng(0)
    i = 0
    while i < len(ts.signal):
        n = int(rng.integers(1, 900))
        got += det.feed(ts.signal[i : i + n])
        i += n
    assert got + det.flush() == whole


def test_one_tone_may_jitter_while_the_other_holds_still(results):
    """``spread_one``: under an overlay a strong partial leaking into a low tone's 10 ms bin
    jitters that tone's frequency estimate while the high tone holds still; a glide or
    vibrato would move both.  Allowing one tone to wander (up to 1.2 %) while the other
    holds (0.15 %) finds keys the plain 0.5 % spread loses, above all with irregular keypad
    timing at 0 dB, and loses none anywhere (talk-off stays at 0: test_dtmf_conformance).
    Measured with the long look and the rise path off, which find most of the same presses
    another way."""
    on = DtmfConfig(long_dominance=None, rise_gain=None)
    off = DtmfConfig(long_dominance=None, rise_gain=None, spread_one=None)
    gained = 0
    for c in CONDITIONS:
        with_, without = _found(c, on)[0], _found(c, off)[0]
        assert with_ >= without, f"{c.name}: {with_} with it, {without} without"
        assert results[c][0] >= without, f"{c.name}: {results[c][0]} by default, {without} without it"
        if c.timing == "keypad" and c.ratio_db == 0.0:
            gained += with_ - without
    assert gained >= 3, gained


def test_a_short_still_press_that_ended_needs_fewer_fine_windows(results, rise_off):
    """``fine_short_windows``: a press the fine path alone sees may pass on 5 windows
    (instead of 8: presses under ~75 ms) when both tones hold within 0.15 % and then both
    fall 10 dB (a release).  Music and speech that kept two exact tones for 5-7 windows did
    not empty both bins afterwards, so the talk-off sets stay at 0 (test_dtmf_conformance
    and the overlay material above); short keypad presses under music and hold music come
    back, and no condition loses a key (measured with the rise path off in both)."""
    off = DtmfConfig(fine_short_windows=None, rise_gain=None)
    gained = 0
    for c in CONDITIONS:
        without = _found(c, off)[0]
        assert rise_off[c][0] >= without, f"{c.name}: {rise_off[c][0]} with it, {without} without"
        assert results[c][0] >= without, f"{c.name}: {results[c][0]} by default, {without} without it"
        if c.timing == "keypad":
            gained += rise_off[c][0] - without
    assert gained >= 4, gained


def test_a_very_still_press_that_ended_needs_only_four_fine_windows(results):
    """``fine_still_windows``: a 45-60 ms press under held music that the fine path sees in
    only 4 windows still counts when both tones held within 0.05 % and then fell: a keypad's
    tones are that stable, voices and instruments are not (the talk-off sets stay at 0,
    test_dtmf_conformance and the overlay material above).  A hold-music set where this
    is the one key it adds, and no condition loses one.  The long look (its drift read by
    phase) finds that press too, so it is off in both arms there."""
    ts = make_overlay_set(OverlayCondition("hold", 0.0, "keypad"), 11)
    off = DtmfConfig(fine_still_windows=None)
    with_it = score_overlay(ts, detect(ts.signal, ts.rate, DtmfConfig(long_dominance=None)))
    without = score_overlay(ts, detect(ts.signal, ts.rate, DtmfConfig(fine_still_windows=None, long_dominance=None)))
    assert (with_it.found, with_it.false) == (without.found + 1, 0), (with_it, without)
    for c in CONDITIONS:
        assert results[c][0] >= _found(c, off)[0], c.name
    with pytest.raises(ValueError, match="fine_still_spread"):
        DtmfConfig(fine_still_spread=0.002)


def test_background_delays_must_be_ordered():
    """The rise test reads the same 40 ms `fine_bg_near` and `fine_bg_delay` blocks back; a
    near reading further back than the far one (or a delay of 0) is a clear error, not a
    silent read of later audio."""
    with pytest.raises(ValueError, match="fine_bg_near"):
        DtmfConfig(fine_bg_delay=6)
    with pytest.raises(ValueError, match="fine_bg_near"):
        DtmfConfig(fine_bg_delay=0)
    assert DtmfConfig(fine_bg_delay=None).fine_bg_delay is None


def test_room_tail_and_harmonic_flank_settings_are_checked():
    """A negative tail level would drop real repeats at one level; a flank of 0 or past
    half an octave would read the harmonic's own energy or the fundamental's."""
    with pytest.raises(ValueError, match="tail_drop_db"):
        DtmfConfig(tail_drop_db=-3.0)
    with pytest.raises(ValueError, match="tail_drop_db"):
        DtmfConfig(tail_gap=-0.1)
    for bad in (0.0, 0.5, 0.7):
        with pytest.raises(ValueError, match="harmonic_flank"):
            DtmfConfig(harmonic_flank=bad)
    assert DtmfConfig(tail_drop_db=None, harmonic_flank=None).tail_drop_db is None


def test_a_release_under_overlay_is_read_through_its_spill():
    """``fine_short_fall``: a short press only the fine path sees is judged released when
    both tones fall to 0.35 of their steady power in the 10 ms bins.  Under -7 dB talk
    radio the overlay's spill stays in those bins after the key goes: this 87 ms "D"
    (radio -7 dB keypad, set 1) falls only 5.5 dB there, so the former 10 dB fall (0.1)
    lost it, while the digits found on the other keys do not change (the rise path, which
    finds it too, off in both)."""
    ts = make_overlay_set(OverlayCondition("radio", -7.0, "keypad"), 1)
    i = ts.keys.index("D")
    now = detect(ts.signal, ts.rate, RISE_OFF)
    before = detect(ts.signal, ts.rate, DtmfConfig(fine_short_fall=0.1, rise_gain=None))

    def has_d(digits):
        return any(d.digit == "D" and ts.starts[i] - 0.02 <= d.start <= ts.ends[i] + 0.06 for d in digits)

    assert has_d(now) and not has_d(before)
    assert [d.digit for d in now if d.digit != "D"] == [d.digit for d in before if d.digit != "D"]


def _key_with_partial_at_2f(partial_start: float) -> np.ndarray:
    """An 80 ms "5" (770 + 1336 Hz, -20 dBFS per tone) at 0.6 s with a steady partial at
    2 x 1336 Hz, 10 dB under the high tone, from `partial_start` to 0.9 s (a held note or a
    formant of the overlay right on the key's second harmonic)."""
    from ivr.dsp.dtmf_gen import synth_tones

    rng = np.random.default_rng(5)
    x = synth_tones(["5"], [0.6], [0.08], 8000, 1.2, level_dbfs=-20.0, rng=rng).astype(np.float64)
    t = np.arange(len(x)) / 8000
    on = (t >= partial_start) & (t < 0.9)
    x += on * np.sqrt(2) * 10 ** (-30 / 20) * np.sin(2 * np.pi * 2672.0 * t + 0.3)
    x += rng.standard_normal(len(x)) * 1e-3
    return x.astype(np.float32)


def test_a_partial_at_2f_before_the_press_is_not_the_keys_harmonic():
    """``harmonic_bg_gain``: energy at 2 f that was there 60 and 240 ms before the press,
    while the key's fundamental was not, is the overlay's, not the key's harmonic: the key
    is found (without the rule the harmonic check drops it).  The same partial rising with
    the key, as a voice's harmonic rises with its fundamental, still fails the check."""
    held = _key_with_partial_at_2f(0.2)
    digits = detect(held, 8000)
    assert [d.digit for d in digits] == ["5"] and abs(digits[0].start - 0.6) < 0.005
    assert detect(held, 8000, DtmfConfig(harmonic_bg_gain=None)) == []
    assert detect(_key_with_partial_at_2f(0.6), 8000) == []
    det = DtmfDetector(8000)  # the readings before the press cross chunk boundaries
    chunked = [d for i in range(0, len(held), 160) for d in det.feed(held[i : i + 160])] + det.flush()
    assert chunked == digits


def test_harmonic_background_gain_is_checked():
    """Below 1 a reading taken while the key already sounded would cancel its own harmonic."""
    for bad in (0.0, 0.5):
        with pytest.raises(ValueError, match="harmonic_bg_gain"):
            DtmfConfig(harmonic_bg_gain=bad)
    assert DtmfConfig(harmonic_bg_gain=None).harmonic_bg_gain is None


LONG_OFF = DtmfConfig(long_dominance=None, rise_gain=None)


def test_the_long_look_finds_presses_the_windows_refused(rise_off):
    """``long_dominance``: a press that too few 20 ms windows named (the key a few dB
    under music or talk radio, a partial 20-60 Hz from a tone) is judged again over its
    whole span.  It finds keys in the keypad conditions, loses none anywhere, and adds no
    false digit (no fragment of a found press reported twice, no other key inside one).
    Measured with the rise path off in both (it finds some of the same presses)."""
    gained = 0
    for c in CONDITIONS:
        found, false, split = _found(c, LONG_OFF)
        assert rise_off[c][0] >= found, f"{c.name}: {rise_off[c][0]} with it, {found} without"
        assert rise_off[c][1:] == (false, split), c.name
        if c.timing == "keypad":
            gained += rise_off[c][0] - found
    assert gained >= 12, gained


def test_the_long_look_gives_the_same_digits_however_the_stream_is_cut():
    """It reads the raw audio of a refused digit's span and as much before it, and waits
    ``long_merge`` windows for a digit of the same key: chunking must not show."""
    ts = make_overlay_set(OverlayCondition("music", 0.0, "keypad"), 0)
    whole = detect(ts.signal, ts.rate, RISE_OFF)
    assert len(whole) > len(detect(ts.signal, ts.rate, LONG_OFF))  # the long look found a key here
    _same_however_cut(ts, RISE_OFF, whole, seed=3)


def _same_however_cut(ts, cfg: DtmfConfig | None, whole: list, seed: int) -> None:
    """Random chunks of 1-699 samples, with and without `batch_ms`, give `whole`."""
    rng = np.random.default_rng(seed)
    for batch_ms in (0.0, 200.0):
        det, got, i = DtmfDetector(ts.rate, cfg, batch_ms=batch_ms), [], 0
        while i < len(ts.signal):
            n = int(rng.integers(1, 700))
            got += det.feed(ts.signal[i : i + n])
            i += n
        assert got + det.flush() == whole, batch_ms


def test_the_long_look_settings_are_checked():
    with pytest.raises(ValueError, match="long_max_blocks"):
        DtmfConfig(long_max_blocks=10**9)  # the raw history it keeps would grow with it
    with pytest.raises(ValueError, match="long_merge"):
        DtmfConfig(long_merge=-1)
    DtmfConfig(long_dominance=None, rise_gain=None, long_max_blocks=10**9)  # off: not used


def test_the_long_look_refuses_a_voice_partial_off_nominal():
    """A refused digit whose tones sit 1 % off nominal (a voice or chord that passes the
    rest) stays refused: the long look wants a keypad's 0.8 %."""
    rate = 8000
    t = np.arange(int(0.03 * rate)) / rate
    fl, fh = key_freqs("5")
    x = np.zeros(int(0.4 * rate), np.float32)
    # 30 ms: too short for the windows (min_hits), long enough for a long look
    x[1600 : 1600 + len(t)] = 0.2 * np.sin(2 * np.pi * fl * 1.01 * t) + 0.2 * np.sin(2 * np.pi * fh * 1.01 * t)
    assert detect(x, rate) == []
    x[1600 : 1600 + len(t)] = 0.2 * np.sin(2 * np.pi * fl * t) + 0.2 * np.sin(2 * np.pi * fh * t)
    cfg = DtmfConfig(min_duration=0.0)
    assert [d.digit for d in detect(x, rate, cfg)] == ["5"]
    assert detect(x, rate, DtmfConfig(min_duration=0.0, long_dominance=None, rise_gain=None)) == []


def test_the_rise_path_finds_keys_under_louder_music(results, rise_off):
    """``rise_gain``: a key 7 dB under music, that no 20 ms window names because a held note
    outweighs its tone in the group, still rises over what sat at its two frequencies
    before.  Judged over the run's span (frequency, stillness, harmonic, twist, level, a
    voice's comb) it finds keys in the keypad conditions -- music at -7 dB above all --
    loses none anywhere, and adds no false digit or split press."""
    gained = 0
    for c in CONDITIONS:
        assert results[c][0] >= rise_off[c][0], f"{c.name}: {results[c][0]} with it, {rise_off[c][0]} without"
        assert (results[c][3], results[c][2]) == rise_off[c][1:], c.name
        if c.timing == "keypad":
            gained += results[c][0] - rise_off[c][0]
    music = OverlayCondition("music", -7.0, "keypad")
    # 11 today: the grown long look (``long_grow``) finds some of the same presses
    assert results[music][0] - rise_off[music][0] >= 10, (results[music][0], rise_off[music][0])
    assert gained >= 12, gained  # 14 today


def test_the_rise_path_gives_the_same_digits_however_the_stream_is_cut():
    """Its windows, background, runs and the raw audio it judges are kept across feeds by
    global index, and what it finds joins the other digits in time order: chunking must
    not show, in the digits or their order."""
    ts = make_overlay_set(OverlayCondition("music", -7.0, "keypad"), 0)
    whole = detect(ts.signal, ts.rate)
    assert len(whole) >= len(detect(ts.signal, ts.rate, RISE_OFF)) + 1  # the rise path found a key here
    _same_however_cut(ts, None, whole, seed=4)


def test_the_rise_path_refuses_two_harmonics_of_a_voice():
    """``rise_comb``: under talk radio an espeak voice put two harmonics on 770 and 1209 Hz
    (a "4") that rose together, without their second harmonics; the harmonics around them
    give the voice away (a set the other tests do not use)."""
    ts = make_overlay_set(OverlayCondition("radio", 0.0, "250/250"), 101)

    def fours(cfg):
        return [d for d in detect(ts.signal, ts.rate, cfg) if d.digit == "4" and 8.3 < d.start < 8.45]

    assert fours(DtmfConfig(rise_comb=1e9)) and not fours(DtmfConfig())
    assert "4" not in [k for k, s in zip(ts.keys, ts.starts) if 8.0 < s < 8.6]  # no key "4" was pressed there


def test_the_rise_path_settings_are_checked():
    for bad in (dict(rise_gain=1.0), dict(rise_windows=1), dict(rise_windows=60), dict(rise_span_gain=0.0),
                dict(rise_twist_db=(4.0, -8.0)), dict(rise_comb=-0.1)):
        with pytest.raises(ValueError, match="rise_gain"):
            DtmfConfig(**bad)
    DtmfConfig(rise_gain=None, rise_windows=1)  # off: not used


def test_the_rise_path_works_at_16_khz():
    """The same windows, background and gates at 16 kHz (a wideband line): the music -7 dB
    keypad sets rendered at 16 kHz gain keys (36 of 48 against 20 without it, sets 0-2)
    and no false digit."""
    on = off = 0
    for seed in SEEDS:
        ts = make_overlay_set(OverlayCondition("music", -7.0, "keypad"), seed, 16000)
        with_ = score_overlay(ts, detect(ts.signal, ts.rate))
        without = score_overlay(ts, detect(ts.signal, ts.rate, RISE_OFF))
        assert with_.false <= without.false, seed
        on, off = on + with_.found, off + without.found
    assert on >= off + 10, (on, off)


def test_a_digit_held_back_is_announced_by_held_since():
    """The long look and the rise path report a digit up to ~0.5 s after its tones end (it
    waits for a neighbour of its key; the rise path reads 0.2 s at a time).  Once found,
    `held_since` gives its start until it is reported, so a call's clock can wait there
    instead of letting a timeout in before a key pressed earlier (the WAV and SIP drivers
    do): 0.25 s after a digit's end it is either reported or announced."""
    late = 0
    for seed in SEEDS:
        ts = make_overlay_set(OverlayCondition("music", -7.0, "keypad"), seed)
        det, n = DtmfDetector(ts.rate), ts.rate // 10
        fed, held, got = [], [], []   # audio time fed, held_since then, digits returned by then
        for i in range(0, len(ts.signal), n):
            got.append(det.feed(ts.signal[i : i + n]))
            fed.append((i + n) / ts.rate)
            held.append(det.held_since)
        for k, digits in enumerate(got):
            for d in digits:
                for j in range(k):   # every earlier feed that had heard 0.25 s past the digit's end
                    if fed[j] >= d.end + 0.25:
                        late += 1
                        assert held[j] is not None and held[j] <= d.start + 1e-4, (seed, d, fed[j], held[j])
    assert late >= 8   # digits were held back that long, and each was announced meanwhile


def _loudspeaker(x: np.ndarray, thd_db: float = -40.0) -> np.ndarray:
    """A small loudspeaker's 2nd and 3rd harmonic distortion, each `thd_db` under a sine of
    the signal's own power (1 %: an ordinary speaker at a comfortable level)."""
    a = float(np.sqrt(2 * np.mean(x * x)))
    k = 10 ** (thd_db / 20)
    y = x + 2 * k / a * x * x - 4 * k / a ** 2 * x ** 3
    return (y - np.mean(y)).astype(np.float32)


def test_digits_with_the_same_span_are_told_apart_by_identity():
    """Two digits of one key over the same windows (a long-look and a rise reading of one
    press) used to compare field by field, arrays included, and raise a ValueError inside
    the detector: a traceback on the caller's audio.  One press is reported once."""
    from ivr.dsp.dtmf import N_FEAT, _Segment

    core = DtmfDetector(8000)._core
    a, b, c = (_Segment(key=5, first=100, last=110, hits=8, acc=np.ones(N_FEAT), long=True) for _ in range(3))
    out = core._merge_long([a, b, c])
    assert len(out) == 1 and out[0] is a


def test_keys_under_speech_through_a_loudspeaker_do_not_crash_the_detector(monkeypatch):
    """The audio that raised that ValueError: 0 dB speech with keypad timing played through
    a loudspeaker at 1 % distortion, then captured by the microphone.  The keys are still found."""
    from ivr.dsp import overlay

    room = overlay._room
    monkeypatch.setattr(overlay, "_room", lambda x, rng: room(_loudspeaker(x), rng))
    ts = make_overlay_set(OverlayCondition("speech", 0.0, "keypad"), 3)
    digits = detect(ts.signal, ts.rate)
    sc = score_overlay(ts, digits)
    assert sc.found >= 14 and sc.false <= 1


def test_a_partial_near_twice_a_tone_is_not_its_harmonic():
    """Under 0 dB talk radio a voice's formant sits near 2 x 941 Hz during a '0'; it is not
    locked to the tone (``harmonic_lock_hz``), so the key is found; with the lock off the
    windows' harmonic measure refuses it."""
    ts = make_overlay_set(OverlayCondition("speech", 0.0, "keypad"), 6)
    i = ts.keys.index("0")
    near = lambda ds: [d for d in ds if d.digit == "0" and abs(d.start - ts.starts[i]) < 0.03]  # noqa: E731
    assert near(detect(ts.signal, ts.rate))
    assert not near(detect(ts.signal, ts.rate, DtmfConfig(harmonic_lock_hz=None)))


def test_a_tones_own_harmonic_still_refuses_it(monkeypatch):
    """Two tones with partials at exactly twice each (a voice's harmonics, 14 dB down) are
    no key; were every partial near 2 f taken for an overlay's, they would be."""
    from ivr.dsp import dtmf

    rate = 8000
    t = np.arange(rate) / rate
    on = (t >= 0.4) & (t < 0.52)
    a = np.sqrt(2) * 10 ** (-16 / 20)
    h = np.sqrt(2) * 10 ** (-30 / 20)
    x = (a * np.sin(2 * np.pi * 941 * t) + a * np.sin(2 * np.pi * 1336 * t)
         + h * np.sin(2 * np.pi * 1882 * t + 0.5) + h * np.sin(2 * np.pi * 2672 * t + 1.0)) * on
    x = (x + 0.003 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32)
    assert detect(x, rate) == []
    monkeypatch.setattr(dtmf._Core, "_off_lock", lambda self, *a: True)
    assert [d.digit for d in detect(x, rate)] == ["0"]


def test_the_harmonic_lock_adds_keys_and_no_false_digit():
    """Over the conditions' sets (SEEDS), with the lock against without it."""
    off = DtmfConfig(harmonic_lock_hz=None)
    gain = 0
    for c in CONDITIONS + [OverlayCondition(o, r, "50/50") for o in ("speech", "radio") for r in (0.0, -7.0)]:
        for seed in SEEDS:
            ts = make_overlay_set(c, seed)
            on, no = score_overlay(ts, detect(ts.signal, ts.rate)), score_overlay(ts, detect(ts.signal, ts.rate, off))
            assert on.found >= no.found and on.false <= no.false, (c.name, seed, on, no)
            gain += on.found - no.found
    assert gain >= 5, gain  # 7 today


def test_the_rest_of_a_press_cut_by_a_burst_is_not_reported_again():
    """A '#' under 0 dB talk radio is cut for two windows by another key's pair; its two
    pieces overlap, so they are one press (``same_press_gap``), not a doubled digit."""
    ts = make_overlay_set(OverlayCondition("radio", 0.0, "keypad"), 6)
    i = ts.keys.index("#")
    within = lambda ds: [d for d in ds if d.digit == "#" and ts.starts[i] - 0.02 <= d.start <= ts.ends[i]]  # noqa: E731
    assert len(within(detect(ts.signal, ts.rate))) == 1
    assert len(within(detect(ts.signal, ts.rate, DtmfConfig(same_press_gap=None)))) == 2


def test_span_lock_and_same_press_settings_are_checked():
    for kw in ({"harmonic_lock_hz": -1.0}, {"harmonic_lock_dominance": 0.0}, {"same_press_gap": 0.04},
               {"same_press_gap": -0.001}, {"span_dominance": -0.1}):
        with pytest.raises(ValueError, match=next(iter(kw))):
            DtmfConfig(**kw)


def test_fifty_ms_presses_under_overlay_are_read_through_their_phase():
    """The standard speed test (50 ms on, 50 ms off) under each overlay: the long look
    reads whether a short press's tones hold their frequency from the phase advance between
    its thirds (``long_drift``), not from the spectral peaks of its halves, which wandered
    with the overlay's partials beside the tones.  Over SEEDS: 301 of 384 keys today (the
    halves' reading found 290), and no more than one wrong-key digit."""
    found = false = 0
    for c in SPEED_CONDITIONS:
        for seed in SEEDS:
            ts = make_overlay_set(c, seed)
            sc = score_overlay(ts, detect(ts.signal, ts.rate))
            found, false = found + sc.found, false + sc.false
    assert found >= 296 and false <= 1, (found, false)


def test_a_short_span_is_looked_at_again_over_the_windows_its_tones_fill():
    """``long_grow``: a press whose windows named its key for only a few of its windows is
    judged by the long look over the windows next to them that its two tones fill.  Over
    the tests' sets (the issue's 16 conditions and the 8 speed-test ones) it adds keys
    (8 today: radio and music at -7 dB, talk radio at 0 dB, keypad and 50/50 timing) and
    no false digit."""
    off = DtmfConfig(long_grow=None)
    gain = 0
    for c in CONDITIONS + SPEED_CONDITIONS:
        for seed in SEEDS:
            ts = make_overlay_set(c, seed)
            on, no = score_overlay(ts, detect(ts.signal, ts.rate)), score_overlay(ts, detect(ts.signal, ts.rate, off))
            assert on.found >= no.found and on.false <= no.false, (c.name, seed, on, no)
            gain += on.found - no.found
    assert gain >= 5, gain


def test_the_grown_look_gives_the_same_digits_however_the_stream_is_cut():
    ts = make_overlay_set(OverlayCondition("music", -7.0, "keypad"), 2)
    whole = detect(ts.signal, ts.rate)
    assert len(whole) > len(detect(ts.signal, ts.rate, DtmfConfig(long_grow=None)))  # it found keys here
    _same_however_cut(ts, None, whole, seed=9)


def test_the_grown_look_settings_are_checked():
    for kw in ({"long_grow": 0.0}, {"long_grow": 1.5}, {"long_grow_back": -1}, {"long_grow_back": 65}):
        with pytest.raises(ValueError, match="long_grow"):
            DtmfConfig(**kw)
