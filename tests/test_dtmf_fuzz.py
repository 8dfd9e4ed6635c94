"""Regressions found by fuzzing the DTMF detector (`ivr.dsp.dtmf`) with audio a caller
could feed: each test is the smallest input that broke it, generated here (seeded)."""
from __future__ import annotations

import numpy as np
import pytest

from ivr.dsp.dtmf import DtmfDetector, detect, digits_string
from ivr.dsp.dtmf_gen import generate


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("rate,batch_ms", [(8000, 0.0), (16000, 100.0), (44100, 0.0)])
def test_a_nan_or_inf_sample_is_a_clear_error_and_the_detector_goes_on(bad, rate, batch_ms):
    """One NaN or inf sample used to pass silently into the detector's carried state (band
    filter, background averages, raw history) and no digit came out for the rest of the
    stream.  It is the caller's error: a one-line ValueError, raised before any state saw
    the chunk, so the digits before and after it still come out."""
    x = generate("123456", rate)
    half = len(x) // 2
    det = DtmfDetector(rate, batch_ms=batch_ms)
    got = det.feed(x[:half])
    chunk = x[half : half + 100].copy()
    chunk[17] = bad
    with pytest.raises(ValueError, match=r"finite .* at sample 17 of this chunk$"):
        det.feed(chunk)
    got += det.feed(x[half:]) + det.flush()
    assert digits_string(got) == "123456"
    with pytest.raises(ValueError, match="finite"):
        detect(np.where(np.arange(len(x)) == 100, bad, x), rate)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("spike", [1e10, 1e30])
@pytest.mark.parametrize("rate", [8000, 44100])
def test_one_huge_finite_sample_does_not_silence_later_digits(rate, spike):
    """A corrupt float WAV passes its reader with samples of 1e10 or 1e30, and both lost
    every digit after them in the batch: the digits' feature sums were differences of one
    cumulative sum over the batch, which the click's window (1e17 and up) swamped to 0.
    Each run of windows is now summed on its own; and a sample past 1e12 is clipped there, so
    its float32 powers do not overflow (numpy's overflow warnings went to the user's terminal)."""
    x = generate("123456", rate)
    x[100] = spike
    assert digits_string(detect(x, rate)) == "123456"


def test_loud_samples_under_the_clip_are_left_alone():
    """Raw 32-bit PCM scale (1e10 full scale here) is still just a loud signal, not an error."""
    loud = generate("123456", 8000) * np.float32(1e10)
    assert digits_string(detect(loud, 8000)) == "123456"


def test_a_key_held_for_long_keeps_the_history_bounded():
    """A key held down (a stuck key, a test tone) kept every 5 ms block energy since its
    start, for its edge: 1.6 kB a second without bound, copied again on every feed.  Its
    start edge is now saved with the digit; the digit and its times are unchanged."""
    rate = 8000
    t = np.arange(20 * rate) / rate
    tone = (0.2 * np.sin(2 * np.pi * 697 * t) + 0.2 * np.sin(2 * np.pi * 1209 * t)).astype(np.float32)
    x = np.concatenate([np.zeros(rate // 2, np.float32), tone, np.zeros(rate // 2, np.float32)])
    det = DtmfDetector(rate)
    sizes = []
    for i in range(0, len(x) - rate // 2, rate // 2):
        det.feed(x[i : i + rate // 2])
        sizes.append(len(det._core._eb))
    assert max(sizes) <= 100 + 20, sizes  # a feed's 100 blocks and a few; 4000 were kept by the end
    (d,) = det.feed(x[len(x) - rate // 2 :]) + det.flush()
    assert d.digit == "1" and abs(d.start - 0.5) < 0.002 and abs(d.end - 20.5) < 0.002


def test_a_sample_rate_past_384_khz_is_a_clear_error(tmp_path, capsys):
    """Rates other than 8/16 kHz are resampled with a filter as long as the reduced ratio's
    terms: a WAV header's 2147483647 Hz asked for 320 GiB (a MemoryError traceback from
    `ivr dtmf detect`).  The detector takes 4000-384000 Hz, like `ivr dtmf gen --rate`."""
    import soundfile as sf

    from ivr.cli import main

    with pytest.raises(ValueError, match=r"sample rate 2147483647 Hz is too high \(the DTMF detector takes 4000 to 384000 Hz\)"):
        DtmfDetector(2**31 - 1)
    assert digits_string(detect(generate("7", 384000), 384000)) == "7"
    path = tmp_path / "rate.wav"
    sf.write(path, np.zeros(1000, np.float32), 2**31 - 1, subtype="PCM_16")
    assert main(["dtmf", "detect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "sample rate 2147483647 Hz is too high" in err and len(err.strip().splitlines()) == 1


def test_a_long_look_digit_already_reported_still_merges_a_later_reading_of_its_press():
    """A long-look digit and a rise-path reading of the same press went out in two calls
    when a stream came in small chunks (200 ms; live calls feed 20 ms): the second did not
    count the first, reported already, and the key came out twice (a "0" at 35.75 s of 47 s
    of overlay sets fed in 200 ms chunks; once fed whole).  Nor may a later long-look digit
    overlap a reported one of another key."""
    from ivr.dsp.dtmf import N_FEAT, _Segment

    core = DtmfDetector(8000)._core
    first = _Segment(key=13, first=7151, last=7156, hits=0, acc=np.zeros(N_FEAT), long=True)
    core._recent = [first]  # reported
    again = _Segment(key=13, first=7151, last=7184, hits=30, acc=np.zeros(N_FEAT), long=True, edges=(35.755, 35.94))
    other = _Segment(key=5, first=7150, last=7170, hits=20, acc=np.zeros(N_FEAT), long=True)
    assert core._merge_long([again]) == [] and core._merge_long([other]) == []
