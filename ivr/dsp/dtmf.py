"""Streaming DTMF detector (ITU-T Q.24 practice), vectorised numpy, no per-sample loops.

How it works (and why):

* The signal is cut into 5 ms *blocks* (40 samples at 8 kHz, 80 at 16 kHz).  One matrix
  product per batch of blocks gives, for the eight DTMF frequencies, the complex DFT
  coefficient of every 10 ms Hann-windowed *frame* (frames overlap by half, so two
  adjacent blocks make a frame), the frame's energy and its DC component.
* A *decision window* is 20 ms: three consecutive frames (four blocks), hop 5 ms.  A
  window names a key when, for the strongest low-group and high-group bins:
  - the two tones hold at least ``min_ratio`` of the window's (DC-free) energy
    (talk-off: speech and music spread energy over many frequencies);
  - the mean per-tone level is at least ``min_level_dbfs`` (reject below -55 dBFS);
  - twist (high minus low, dB) lies in ``[twist_min_db, twist_max_db]``;
  - each tone's power is stable over the three frames (no frame below
    ``stability`` times the strongest), which also means the tone fills the window;
  - each tone's *frequency*, estimated from the phase advance between frames, is
    within ``max_freq_dev`` of nominal: the lag-one frame phase (unambiguous to
    +-100 Hz) picks the branch of the lag-two phase (twice as precise).  This is what
    makes +-1.5 % pass and +-3.5 % fail crisply, independent of level and noise;
  - neither tone's second harmonic is more than ``harmonic_window_db`` above the limit
    ``max_harmonic_db`` (measured with the key's own fundamentals projected out, since
    2 x 697 Hz lies only 58 Hz from 1336 Hz; less what an overlay puts around 2 f, or
    already put at 2 f before the press).
  The cheap tests run on every window, the rest only on the few windows that pass them.
* Under an overlay (speech, music: issue 13) a window may pass on the pair's share of the
  620-1750 Hz band instead (``band_ratio``), or as an *onset* (``onset_gain``): both tones
  rise well above their bin's background (an exponential average of the bin's power read
  40 ms before the window), the pair holds most of the band's rise, and no other bin of
  either group rose like it.  Held music notes near the DTMF frequencies thus stop hiding
  a key, while a chord that was already there (or a voice) still cannot pose as one.
* A window no path passed gets a *fine* second look (``fine_share``): the 40 ms ending with
  it, Hann, tones at 1 % steps and a 10 Hz grid, so a held partial 40 Hz or more from a
  tone stays out of its bin (in 10 ms frames it spills into both neighbours).  The pair
  must be exact (1.2 %), fill each 10 ms quarter, hold half the in-band power, and no
  other partial of its group may rival it; a digit resting on such windows needs 8 of them
  (5 if it ended holding within 0.15 %, 4 within 0.05 %: a short press).
* Windows naming the same key form a digit; runs of at most ``max_gap_windows`` missed
  windows (a 10 ms interruption costs 3-5) are bridged, a 40 ms pause (9+) is not.  A
  lone window of another key inside a digit counts as a miss; two in a row end the digit.
  Under an overlay a burst can fail a press's windows for up to ~100 ms while its tones
  go on; a longer gap is still bridged (``bridge_level``) when both of the digit's tones
  kept -8 dB of their steady power in every window of it: a real release (Q.24's 40 ms
  pause) empties at least one bin, a masking burst adds power.  Otherwise one 250 ms key
  under speech or music came out as the same digit twice (a doubled NIK digit).
* A digit is reported if it has at least ``min_hits`` windows, lasts at least
  ``min_duration`` (accept >= 40 ms, reject <= 23 ms), its second harmonics average at
  least ``-max_harmonic_db`` dB down, and each tone's frequency holds still (standard
  deviation over the windows <= ``max_freq_spread``; whistles and glides wander).
  Start and end are refined from the 5 ms block energies relative to the digit's steady
  tone energy (fractional blocks), giving times to about a millisecond.
* A digit they pass must still name its key over its whole span (``span_dominance``): in
  one Hann window over it, each tone at least a tenth of the strongest other partial of
  its group.  A key sounds at one level for the whole press; a chord whose partials lined
  up with a key for a few windows is outweighed by the notes around them.
* What stands at twice a tone is its harmonic only if *locked* to it (``harmonic_lock_hz``):
  over the span, the strongest partial near 2 q within 10 Hz of twice the tone's measured
  frequency.  A digit that failed only the windows' harmonic measure because of an
  overlay's partial near 2 f is still a key if its span passes the long look.
* A digit those checks refuse gets a *long look* (``long_dominance``): one Hann window over
  its whole span (a press of 80 ms resolves partials 25 Hz apart and gains 6 dB over a
  20 ms window).  Both tones must be the strongest partials of their groups, within 0.8 %
  of nominal, hold their frequency over the span, have no second harmonic, and rise over
  what sat there before; such a digit is dropped if it is a fragment of another digit of
  its key or touches another key's digit.
* A *rise path* (``rise_gain``) finds presses no window named at all, masked by a louder,
  steadier sound (a held note outweighing a tone in its group): per 5 ms, a 40 ms window's
  power at each tone against that tone's background over the 0.8 s before; a run of
  windows where the most-risen tone of each group rose 6 dB names a key, and its span gets
  the long look by rise instead of dominance (plus a receiver's twist limits, a level floor
  and a voice's-comb test).  Its digits' edges come from the tones' own power, and they
  merge like long-look digits.

Streaming: `DtmfDetector.feed` takes chunks of any size and returns the digits completed
so far; results are identical however the stream is cut (state is carried: the last three
blocks, block-energy history, and the run-length state machine; reported times are rounded
to 10 us and levels to 0.01 dB so float summation order cannot show through).  `tone_active` says
whether a digit tone is sounding right now (for barge-in); `pop_starts()` returns
`ToneStart` events (digit and its start time) as soon as a digit is recognised (its first
``announce_hits`` windows pass the digit-level checks), before it ends.  Start events and
digits agree in the conformance matrix except near its edges (a 30 ms tone, 6 dB SNR,
where a start event may lack its digit or the reverse), so treat `feed()`'s digits as
the keys and start events as "a key is sounding" (barge-in).  Rates 8000 and 16000 are native; others are resampled (streaming, chunk-independent)
to the nearest of the two.

Levels: dBFS with a full-scale sine = 0 dBFS (see `ivr.dsp.audio`).  -25 dBm0 per tone is
about -28 dBFS per tone; the default floor (``min_level_dbfs = -45``) accepts -35 dBFS per
tone with margin and rejects -55 dBFS.  Twist is *high-group level minus low-group level*.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ivr.dsp.audio import StreamResampler

LOW_FREQS = (697.0, 770.0, 852.0, 941.0)
HIGH_FREQS = (1209.0, 1336.0, 1477.0, 1633.0)
FREQS = LOW_FREQS + HIGH_FREQS
KEYPAD = ("123A", "456B", "789C", "*0#D")
KEYS = "".join(KEYPAD)  # index = row * 4 + col
NATIVE_RATES = (8000, 16000)
# the input rates the detector takes: under 4 kHz the high group (1633 Hz and its checks up
# to 2 f) does not fit; above 384 kHz a header's rate is not audio (2147483647 Hz asked the
# resampler for 320 GiB)
MIN_RATE, MAX_RATE = 4000, 384000


def check_rate(rate) -> None:
    """ValueError (one line, the rule in words) unless the detector takes `rate`: the one
    check for DtmfDetector, `ivr dtmf detect` and calls from audio."""
    if not isinstance(rate, (int, np.integer)):
        raise ValueError(f"sample rate must be an integer from {MIN_RATE} to {MAX_RATE} Hz, got {rate!r}")
    if rate < MIN_RATE:
        raise ValueError(f"sample rate {rate} Hz is too low for DTMF (the detector takes {MIN_RATE} to {MAX_RATE} Hz)")
    if rate > MAX_RATE:
        raise ValueError(f"sample rate {rate} Hz is too high (the DTMF detector takes {MIN_RATE} to {MAX_RATE} Hz)")
# each tone group's band for "no other partial rivals the tone" (fine and long looks):
# the group's tones +- about 5 %, clear of the speech and music energy under 650 Hz
GROUP_BANDS = ((650.0, 990.0), (1160.0, 1700.0))
_lfilter = None  # scipy.signal.lfilter, imported with the band filter (overlay paths only)


def key_freqs(key: str) -> tuple[float, float]:
    """(low, high) nominal frequencies of a keypad key."""
    k = KEYS.find(key.upper())
    if k < 0 or len(key) != 1:
        raise ValueError(f"not a DTMF key: {key!r} (use 0-9 * # A B C D)")
    return LOW_FREQS[k // 4], HIGH_FREQS[k % 4]


@dataclass(frozen=True)
class DtmfDigit:
    """One detected key press: times in seconds from the stream start, levels in dBFS."""

    digit: str
    start: float
    end: float
    level_dbfs: float  # mean per-tone level (power average of the two tones)
    low_dbfs: float = 0.0
    high_dbfs: float = 0.0
    channel: int = 0

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def twist_db(self) -> float:
        return self.high_dbfs - self.low_dbfs

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("start", "end"):
            d[k] = round(d[k], 4)
        for k in ("level_dbfs", "low_dbfs", "high_dbfs"):
            d[k] = round(d[k], 1)
        return d


@dataclass(frozen=True)
class ToneStart:
    """A digit recognised while still sounding (for barge-in).

    `time`: start of the first 5 ms block the tone fills (the exact start, to about a
    millisecond, comes later in the `DtmfDigit`); `detected_at`: stream time at which the
    detector had enough audio to recognise it (about 35-40 ms after the start).
    """

    digit: str
    time: float
    detected_at: float
    channel: int = 0


@dataclass(frozen=True)
class DtmfConfig:
    """Decision thresholds; the defaults implement the Q.24 figures in the module doc."""

    min_ratio: float = 0.72  # 0.70 let a radio music bed pass as "A" (tests/test_dtmf_overlay.py)
    min_level_dbfs: float = -45.0
    twist_min_db: float = -10.0
    # +9 dB, not Q.24's +4: a microphone in a room tilts a pair by several dB either way
    # (room modes, a phone's small speaker).  The overlay sets' room made keys sent at
    # -6..+3 dB read up to +9; at 6.5 such keys were lost (+4 keys over 12 sets x 8
    # keypad conditions at 9, none lost).  The talk-off corpora put their energy low, so
    # the high side costs nothing there (sweep unchanged); widening the low side to -12
    # added 8 music and 1 speech false digits, so it stays.
    twist_max_db: float = 9.0
    stability: float = 0.25
    max_freq_dev: float = 0.025
    max_freq_spread: float = 0.005  # std of each tone's relative frequency over the digit
    # ...except that one tone may wander up to ``spread_one`` while the other holds within
    # ``spread_still``: a glide or vibrato (a voice, an instrument) moves both partials by the
    # same relative amount, whereas a strong overlay partial leaking into a 10 ms bin (low
    # tones sit next to the speech and music energy under 700 Hz) jitters that tone alone.
    # Measured on the overlay sets: +29 keys over 12 sets x 16 conditions (16 of them at
    # 0 dB keypad timing), no digit on the talk-off sets.  None switches it off.
    spread_one: float | None = 0.012
    spread_still: float = 0.0015
    max_harmonic_db: float = -17.0  # mean over the digit's windows
    harmonic_window_db: float = 8.0  # any single window may exceed that limit by this much
    # the background subtracted from the harmonic measure: white noise's share, or what the
    # overlay puts around the harmonic if more: read at its *flanks* (2 f x (1 - 1.5 a),
    # x (1 - a) below it and x (1 + a), x (1 + 1.5 a) above, a = harmonic_flank), as the
    # geometric mean of the two sides.  Speech and music under a key are not white: a
    # fricative or a cymbal puts energy on both sides of 2 f, and measured against white
    # noise it failed whole presses as "a voice's harmonic".  One side alone (a chord's
    # partial) does not count: summed, the sides let a music chord pass as "2" in an
    # overlay set.  Over 16 conditions x 16 sets the bench does not use: +7 keys (speech
    # 0 dB keypad +4), no talk-off digit.  None: white noise only.
    harmonic_flank: float | None = 0.08
    # ...or, if more, what the overlay already put on the harmonic *before the press*: its
    # energy there in the 20 ms windows ``fine_bg_near`` and ``fine_bg_delay`` blocks earlier
    # (the larger of the two), each counted only if the tone's own fundamental was at least
    # ``harmonic_bg_gain`` times weaker then (the key was not yet there, so what sat at 2 f
    # was the overlay's).  A held note or a steady formant right at 2 f failed keys standing
    # 10-34 dB over the overlay in their group (harmonic measures 2-6x the limit) that the
    # flanks cannot clear; a voice's harmonic rises with its fundamental, so gets no credit.
    # Over 16 conditions x 16 sets the bench does not use: +13 keys (speech 0 dB keypad
    # +3, music 0 dB keypad +2), no false digit in them, talk-off unchanged (speech 49 and
    # 98 min, music 35 min, overlay material).  Gain 1.5 gave one key more (+14); 2 keeps
    # a 3 dB margin against readings that catch the key's own onset.  The smaller of the
    # two readings (+7), a 40 ms near reading (+7, one false digit in a set) and a 160 ms
    # far one (+7, one false digit) did worse.  None (or fine_bg_delay None, which keeps
    # no history that far back): off.
    harmonic_bg_gain: float | None = 2.0
    # harmonic lock: what stands at twice a tone counts as the tone's harmonic only if it
    # is *locked* to it: over the span (one Hann window, as the long look reads it) the
    # strongest partial within a main lobe of 2 q (q: the tone's measured frequency) lies
    # within ``harmonic_lock_hz`` of 2 q.  A voice's or an instrument's harmonic is locked
    # to its fundamental (a glide moves both); an overlay's partial near 2 f sits anywhere
    # (speech formants around 1.9 and 2.7 kHz failed keys standing 300x over their groups).
    # Used where a digit failed only the windows' harmonic measure, and by the long look;
    # an unlocked partial is then set aside only with more evidence of a key: the span must
    # pass the long look with ``harmonic_lock_dominance`` (a music partial in the other
    # group made a false '8' with a held 'C''s low tone when less was asked), each tone
    # rising ``rise_span_gain`` over what sat there before and standing at
    # ``rise_level_dbfs`` (quiet music chords at -42 to -45 dBFS passed the long look
    # otherwise: 13 false digits in the talk-off sweep).  Over 12 overlay sets x 16
    # conditions: +45 keys (+30 of them at 50/50), none lost, no false digit added in the
    # sets, on the talk-off sets or in the sweep.  The rise path keeps the strict harmonic
    # test (with the lock it put a digit into the 30 min speech talk-off set).  None: off.
    harmonic_lock_hz: float | None = 10.0
    harmonic_lock_dominance: float = 2.0
    min_duration: float = 0.031
    min_hits: int = 4
    announce_hits: int = 5  # windows before a ToneStart (5 = the tone has filled >= 30 ms)
    max_gap_windows: int = 7
    # Overlay (speech or music under the keys, issue 13); None switches each one off.
    # band_ratio: the pair may instead hold this share of the energy *in the DTMF band*
    # (620-1750 Hz): low-frequency speech and music energy then no longer hides a key,
    # while a voice must still concentrate its in-band energy in two stable, exact tones.
    band_ratio: float | None = 0.40
    # ...and then each tone must dominate its group: no other bin of the group may hold
    # more than this share of the tone's power beyond what the tone itself leaks into it
    # (a chord note near another row or column frequency is not background).
    band_dominance: float = 0.10
    # ...and the pair must still hold this share of the whole window's energy (a key under
    # an overlay 7 dB louder holds about 0.2; quiet in-band notes under loud bass do not)
    band_min_total: float = 0.10
    # ...and, since the overlay is louder than the key there, its tones must be steadier
    # and closer to nominal than a clean key's (speech and chords rarely hold both still)
    band_stability: float = 0.60
    band_freq_dev: float = 0.015
    # hold_level: a window in which the digit's own two tones are still the strongest of
    # their groups and every frame keeps this share of the digit's steady tone power is
    # "held" (the tone goes on under a burst of overlay): it bridges a gap like a hit
    # does, without counting as one.  A real pause empties the frames, so is never held.
    hold_level: float | None = 0.30
    # onset path (needs band_ratio): music holds notes for hundreds of ms, so a key under it
    # is a *pair of tones rising* over each bin's recent background (an exponential average
    # of the per-frame bin power, time constant ``onset_tau``, read ``onset_delay`` before
    # the window, the lower of two such readings 200 ms apart).  A window passes when both
    # tones stand ``onset_gain`` above their background, the pair holds ``onset_share`` of
    # the rise of the in-band energy, and no other bin of either group rose by more than
    # ``band_dominance`` of the tone; stability then allows for the beat of the tone with
    # the background at its own bin.  None switches the path off.
    onset_gain: float | None = 4.0
    onset_share: float = 0.6
    onset_tau: float = 0.3
    onset_delay: float = 0.04
    # fine path: a window no other path passed is analysed again over the 40 ms that end
    # with it (Hann, 10 Hz grid: a held partial 40 Hz or more from a tone no longer spills
    # into it).  It passes when, for each group, the strongest tone's frequency lies within
    # ``fine_freq_dev`` of nominal, no partial of the group (40 Hz or more away from it)
    # holds more than ``fine_rival`` of its power beyond its own leakage, the pair holds
    # ``fine_share`` of the in-band power, and each 10 ms quarter of the 40 ms holds
    # ``fine_fill`` of the tone's power (so the tone fills the 40 ms: Q.24 rejects 23 ms
    # tones, and a pause splits a digit).  None switches the path off.
    fine_share: float | None = 0.5
    fine_rival: float = 0.25
    fine_fill: float = 0.2
    fine_freq_dev: float = 0.012
    # ...and a digit with fewer than ``min_hits`` windows from the other paths needs this
    # many fine-path windows (the pair fills 40 ms at 8 positions: a press of 75 ms or
    # more); the speech corpus holds voices that keep two exact tones for 60-70 ms
    fine_min_windows: int = 8
    fine_freq_spread: float = 0.009
    # ...or, a short press, ``fine_short_windows`` fine windows whose tones hold within
    # ``fine_short_spread`` if the press then *ended*: in some window after its last hit
    # both tones fell under ``fine_short_fall`` of their steady power (a key released;
    # a held music partial or a voice that merely stopped matching does not empty both
    # bins).  None: off.  The fall is read in the 10 ms bins, where the overlay's spill
    # stays after a release: keys released under -7 dB music or talk radio fell only
    # 5-10 dB there before the digit closed, so a 10 dB fall (0.1) lost them (16
    # conditions x 16 sets the bench does not use: +19 keys at 0.35, none lost, no false
    # digit).  What keeps voices and music out is the 0.15 % spread: no segment of the
    # talk-off sets with 5 or more fine windows holds that still, ended or not.
    fine_short_windows: int | None = 5
    fine_short_spread: float = 0.0015  # 0.0025 let 2 voices through in the pitch-shifted speech talk-off copies
    fine_short_fall: float = 0.35
    # ...or only ``fine_still_windows`` fine windows if both tones held within
    # ``fine_still_spread``, three times stiller, and the press ended the same way.  A key
    # pad's tones are crystal-stable; presses of 45-60 ms under held music show 4 fine
    # windows holding within 0.01-0.06 %, and no voice or instrument of the talk-off sets
    # held two tones that still.  Over 16 conditions x 16 sets the bench does not use:
    # +5 keys (hold 0 dB keypad +3), no false digit in any set or on the talk-off sets
    # (49/35/98 min speech and music, overlay material); 0.07 % let one false digit into a
    # music set, 0.1 % one onto the music talk-off corpus.  None: off.
    fine_still_windows: int | None = 4
    fine_still_spread: float = 0.0005
    # ...or a window may pass them on the *rise* of the 10 Hz grid over the same 40 ms
    # earlier (music holds notes for hundreds of ms; a key under -7 dB music often fails
    # the plain test on a held partial).  Background per grid point: the larger of the
    # readings ``fine_bg_near`` and ``fine_bg_delay`` blocks back (a held note cancels);
    # the pair must hold ``fine_bg_share`` of the in-band rise (grid points 40 Hz or more
    # from its tones), no partial of its group may rise by more than ``fine_bg_rival`` of
    # the tone, each tone must stand ``fine_bg_gain`` above the smaller of its two earlier
    # readings (a key appears; a press up to 200 ms long predates the far one), and both
    # must lie within ``fine_bg_freq_dev`` of nominal.  These last three are what kept
    # the 35 min music talk-off corpus at 0 (a new chord can rise like a key).  Measured
    # on the keypad-timing overlay sets: +4.5 keys per 16 x 8 conditions.  None: off.
    fine_bg_delay: int | None = 48
    fine_bg_near: int = 12
    fine_bg_gain: float = 2.0
    fine_bg_share: float = 0.5
    fine_bg_rival: float = 0.15
    fine_bg_freq_dev: float = 0.009
    # bridge: under an overlay a burst can fail a press's windows for up to ~100 ms while
    # its tones go on (a 250 ms key came out as the same digit twice: a doubled NIK digit).
    # A digit whose windows stop stays open past ``max_gap_windows`` for up to
    # ``bridge_windows`` more as long as, in every window since its last hit, both of its
    # tones keep ``bridge_level`` of their steady power (3-frame sums at their own bins):
    # a real release (Q.24: a 40 ms pause must give two digits) empties at least one bin
    # for several windows, a masking burst adds power instead.  None switches it off.
    bridge_level: float | None = 0.16
    bridge_windows: int = 24
    # room tail: a digit of the key just reported that starts within ``tail_gap`` s of
    # its end and lies ``tail_drop_db`` or more under it is that press's reverberation
    # (with speech over it), not a second press: a keypad sends every press at one level,
    # and Q.24's second press after a 40 ms pause is as loud as the first.  Over the
    # overlay sets such tails came 20-29 dB down, 14-20 ms after the press; split presses
    # and real repeats lie within 4 dB.  None switches it off.
    tail_drop_db: float | None = 15.0
    # same press: a digit of the key just reported that starts less than this after its end
    # (or before it) is the rest of that press, cut by a burst that named another key for
    # two windows.  Q.24 bridges breaks of 10 ms and must split at a 40 ms pause; edges
    # are good to about a millisecond.  None: off.
    same_press_gap: float | None = 0.01
    tail_gap: float = 0.1
    # long look: a digit every other check refused (too few windows, its spread, its
    # fine windows) is looked at once more over its whole span in one Hann window
    # (frequency resolution 1/span: a press of 80 ms separates partials 25 Hz apart, and
    # the tone's energy adds up over the whole press, 6 dB more than over 20 ms).  It is a
    # key when, in each group, the strongest frequency within 1.5 % of the tone lies
    # within ``long_freq_dev`` of nominal, stands ``long_dominance`` over every other
    # partial of the group (``GROUP_BANDS``, outside the main lobe), its second harmonic
    # lies under ``long_harmonic`` of it, and its frequency holds: read from the phase
    # advance at the tone between the span's thirds, the frequency from the first to the
    # second third and from the second to the third differ by at most ``long_drift`` (a
    # whistle gliding 4 % over 120 ms passed the whole-span test).  The phase reads a
    # frequency to about a hertz where the halves' spectral peaks (25 ms each in a 50 ms
    # press: a main lobe of +-80 Hz) wandered with the overlay's partials beside them;
    # over 12 sets x 16 conditions the phase gave +13 keys at keypad timing and +40 at
    # 50/50 (2 wrong-key digits more in the sets), talk-off unchanged; at 1.8 % a digit
    # entered the 30 min speech talk-off set.  Twist and level as for a window; and both
    # tones stand above what sat at their frequencies over the same length ending
    # ``long_gap`` s before
    # (``long_rise``: a key appears, a room tail or a fading voice does not).  Spans of up
    # to ``long_max_blocks`` 5 ms blocks.
    # Such a digit is dropped when another digit of its key lies within ``long_merge`` / 2
    # windows, or within ``long_merge`` windows and both tones kept ``bridge_level`` of
    # its power in every 20 ms between them: it is a fragment of a press the other paths
    # found (hold music masked the middle of 250 ms presses for up to 125 ms).  So it is
    # reported that much later, and a key pressed twice within ~150 ms, one press of the
    # two found only by the long look, is one digit.  One that overlaps a digit of
    # another key, or leaves it no 40 ms pause, is dropped too (one finger, one key).
    # What sets keys apart is the frequency (voices and chords that pass the rest sat
    # 0.9-1.5 % off, a keypad within 0.8 %) and the harmonic (-25 dB: voices and
    # instruments have one).  Over 16 conditions x 16 sets the bench does not use (and 16
    # more to check): +0.1 to +1.0 keys per 16 in the keypad conditions, no false digit
    # added in them or on the talk-off sets (49/35/98 min speech and music, overlay
    # material alone).  None switches it off.
    long_dominance: float | None = 2.0
    # span dominance: a digit the windows found must still have, over its span (its last
    # ``long_max_blocks`` blocks at most, one Hann window as the long look reads it), each
    # tone at least ``span_dominance`` of the strongest other partial of its group.  A key
    # sounds at one level for the whole press, so what names it in 20 ms names it over the
    # press; a chord's partials that lined up with a key for a few windows are outweighed
    # by the notes around them (bridged, such a digit spans a chord change).  Over the
    # talk-off sweep (bench.dtmf --talkoff-sweep) such digits were most of the music's
    # false ones, at 0.0-0.4; of 2,482 digits found in 12 overlay sets x 16 conditions
    # (keypad and 50/50 timing) one read under 0.1.  None switches it off.
    span_dominance: float | None = 0.1
    long_freq_dev: float = 0.008
    long_harmonic: float = 0.003
    long_rise: float = 1.0
    long_drift: float = 0.012
    # ...and a span the long look refused is looked at again grown over the windows next to
    # it (up to ``long_grow_back`` before it, two after) in which both of its key's tones
    # keep ``long_grow`` of their median power in its own windows (a window half filled by
    # a tone holds a quarter of its power).  Under an overlay a 50 ms press often has two
    # or three windows naming its key, the rest naming a key that shares one tone or
    # nothing: 15-30 ms is too short a span for the long look to resolve the tones from the
    # overlay's partials.  The windows did not see the key over the grown span, so it must
    # pass as the rise path's spans do: the tones rising ``rise_span_gain`` over what sat
    # there before and standing at ``rise_level_dbfs`` (without that, quiet music chords at
    # -38 to -43 dBFS gave 3 false digits in the talk-off sweep).  The digit keeps the
    # segment's own edges.  Over 12 sets x 16 conditions: +12 keys at keypad timing, +31 at
    # 50/50, no false digit added, talk-off unchanged.  None: off.
    long_grow: float | None = 0.25
    long_grow_back: int = 12
    long_gap: float = 0.01
    long_max_blocks: int = 64
    long_merge: int = 60
    # rise path: a key masked by louder, steadier sound (music 7 dB over the keys) that no
    # 20 ms window names, because a note outweighs the tone in its group.  Per 5 ms, the
    # power of a 40 ms Hann window at each of the eight tones is read against that tone's
    # background (the quarter-quantile of the same power over the 0.8 s before, the last
    # 40 ms left out: a note held through the press sits in it, the press does not).  Where
    # the tone rising most in each group rose ``rise_gain`` times over its background, the
    # pair names a key; a run of ``rise_windows`` such windows naming one key (one window
    # missing at most) is a candidate, judged like the long look over the run's span but
    # by the rise instead of dominance: both tones within ``long_freq_dev`` of nominal,
    # still across the thirds, no second harmonic, ``rise_span_gain`` over what sat
    # at their frequencies just before, each tone at ``rise_level_dbfs`` at least (as the
    # long look reads it: -25 dBm0 per tone, the lowest level a line sends keys at, less
    # 3 dB), and the twist within ``rise_twist_db`` (a receiver's limits, Bellcore's -8 to
    # +4 dB, tighter than the windows' own: a voice's partial under a music note passed
    # at -8.7 dB in a radio set), and the pair is not two harmonics of one voice: at the
    # other harmonics of any fundamental (70 Hz up) both tones sit on within 1 %, the
    # median power stays under ``rise_comb`` of the weaker tone (espeak voices named "4",
    # 770 + 1209 Hz, at 0.012-0.024; the keys it finds read 0.003 at the 75th percentile,
    # 0.008 at the 95th).  What it finds waits and merges like a long-look digit (the key the
    # other paths found wins).  Chosen on 12 sets x 8 keypad conditions and the talk-off
    # corpora: music -7 dB keypad +1.9 keys per 16, hold -7 dB +0.9; no digit on talk-off
    # speech (49 and 98 min) or music (35 min).  None switches it off.
    rise_gain: float | None = 4.0
    rise_windows: int = 8
    rise_span_gain: float = 4.0
    rise_level_dbfs: float = -31.0
    rise_twist_db: tuple[float, float] = (-8.0, 4.0)
    rise_comb: float = 0.01

    def __post_init__(self) -> None:
        if self.fine_bg_delay is not None and not 1 <= self.fine_bg_near <= self.fine_bg_delay:
            raise ValueError(f"DtmfConfig: need 1 <= fine_bg_near <= fine_bg_delay (None: off), got "
                             f"fine_bg_near={self.fine_bg_near}, fine_bg_delay={self.fine_bg_delay}")
        if self.tail_drop_db is not None and not (self.tail_drop_db >= 0 and self.tail_gap >= 0):
            # a negative level would drop real repeats at one level (Q.24's 40 ms pause)
            raise ValueError(f"DtmfConfig: need tail_drop_db >= 0 (None: off) and tail_gap >= 0, got "
                             f"tail_drop_db={self.tail_drop_db}, tail_gap={self.tail_gap}")
        if self.harmonic_flank is not None and not 0 < self.harmonic_flank < 0.5:
            raise ValueError(f"DtmfConfig: need 0 < harmonic_flank < 0.5 (None: off), got {self.harmonic_flank}")
        if self.fine_still_windows is not None and not (
                self.fine_still_windows >= 1 and 0 <= self.fine_still_spread <= self.fine_short_spread):
            # the tier trades windows for stillness: a looser spread would loosen the 5-window rule
            raise ValueError(f"DtmfConfig: need fine_still_windows >= 1 (None: off) and 0 <= fine_still_spread"
                             f" <= fine_short_spread, got fine_still_windows={self.fine_still_windows}, "
                             f"fine_still_spread={self.fine_still_spread}")
        if self.long_dominance is not None and not (
                4 <= self.long_max_blocks <= 400 and 0 <= self.long_merge <= 400 and self.long_dominance > 0):
            # the raw history held for the long look grows with both (400 blocks: 2 s)
            raise ValueError(f"DtmfConfig: need long_dominance > 0 (None: off), 4 <= long_max_blocks <= 400 and "
                             f"0 <= long_merge <= 400, got long_dominance={self.long_dominance}, "
                             f"long_max_blocks={self.long_max_blocks}, long_merge={self.long_merge}")
        if self.rise_gain is not None and not (self.rise_gain > 1 and 2 <= self.rise_windows <= self.long_max_blocks - 7
                                                and self.rise_span_gain > 0 and 4 <= self.long_max_blocks <= 400
                                                and len(self.rise_twist_db) == 2 and self.rise_twist_db[0] <= self.rise_twist_db[1]
                                                and self.rise_comb >= 0):
            # a gain of 1 or less names a key wherever a tone does not fall; a run longer than
            # the longest span the raw history holds could never be judged
            raise ValueError(f"DtmfConfig: need rise_gain > 1 (None: off), 2 <= rise_windows <= long_max_blocks - 7 "
                             f"rise_span_gain > 0, rise_comb >= 0 and rise_twist_db (low, high) with low <= high, got "
                             f"rise_gain={self.rise_gain}, rise_windows={self.rise_windows}, rise_span_gain="
                             f"{self.rise_span_gain}, long_max_blocks={self.long_max_blocks}, "
                             f"rise_twist_db={self.rise_twist_db}, rise_comb={self.rise_comb}")
        if self.long_grow is not None and not (0 < self.long_grow <= 1 and 0 <= self.long_grow_back <= 64):
            raise ValueError(f"DtmfConfig: need 0 < long_grow <= 1 (None: off) and 0 <= long_grow_back <= 64, got "
                             f"long_grow={self.long_grow}, long_grow_back={self.long_grow_back}")
        if self.harmonic_lock_hz is not None and not (self.harmonic_lock_hz >= 0 and self.harmonic_lock_dominance > 0):
            raise ValueError(f"DtmfConfig: need harmonic_lock_hz >= 0 (None: off) and harmonic_lock_dominance > 0, got "
                             f"harmonic_lock_hz={self.harmonic_lock_hz}, "
                             f"harmonic_lock_dominance={self.harmonic_lock_dominance}")
        if self.same_press_gap is not None and not 0 <= self.same_press_gap < 0.04:
            # Q.24: a 40 ms pause gives two digits, whatever this says
            raise ValueError(f"DtmfConfig: need 0 <= same_press_gap < 0.04 s (None: off), got {self.same_press_gap}")
        if self.span_dominance is not None and not self.span_dominance >= 0:
            raise ValueError(f"DtmfConfig: need span_dominance >= 0 (None: off), got {self.span_dominance}")
        if self.harmonic_bg_gain is not None and not self.harmonic_bg_gain >= 1:
            # below 1 a reading where the key already sounded would cancel its own harmonic
            raise ValueError(f"DtmfConfig: need harmonic_bg_gain >= 1 (None: off), got {self.harmonic_bg_gain}")


# Per-window quantities summed over a digit's hit windows (columns of `_Core._windows`'
# feature matrix): tone powers, harmonic measure, and the relative frequency deviation of
# each tone with its square, both weighted by the tone's window power (for the spread of
# the frequency over the digit: a room's reverb tail keeps naming the key for a few
# windows 15-25 dB down with a wandering phase, and unweighted it failed whole presses).
F_SR, F_SC, F_H, F_DL, F_DL2, F_DH, F_DH2, F_FN = range(8)
N_FEAT = 8  # F_FN: 1 on windows the fine path passed (their count over a digit)


def _quantile(a: np.ndarray, q: float, axis: int = 0) -> np.ndarray:
    """np.percentile(a, 100 q, axis) (linear), by partition: several times faster on the
    rise path's 152-window backgrounds, where np.percentile's overhead dominated."""
    m = a.shape[axis]
    pos = q * (m - 1)
    k = int(pos)
    k1 = min(k + 1, m - 1)
    part = np.partition(a, [k, k1], axis=axis)
    lo, hi = np.take(part, k, axis=axis), np.take(part, k1, axis=axis)
    return lo + (hi - lo) * (pos - k)


def _put_freq(feat: np.ndarray, sel: np.ndarray, dl: np.ndarray, dh: np.ndarray) -> None:
    """Each tone's relative frequency deviation on the windows `sel`, and its square, both
    weighted by that tone's window power (F_SR / F_SC, already set), for the digit's
    power-weighted frequency spread (`_Core._digit_ok`)."""
    for fp, fd, fd2, dv in ((F_SR, F_DL, F_DL2, dl), (F_SC, F_DH, F_DH2, dh)):
        w = feat[sel, fp]
        feat[sel, fd], feat[sel, fd2] = w * dv, w * dv * dv


@dataclass(eq=False)  # a digit is itself: `o in out` asks "this one", and field-wise == would compare arrays
class _Segment:
    key: int
    first: int  # global window index of first hit
    last: int
    hits: int
    acc: np.ndarray  # sums of the N_FEAT features over hit windows
    announced: bool = False
    # (first, last, hits, acc) of the digit so far, and the window it resumed at, for
    # each gap bridged by ``bridge_level`` (`_Core._finish` falls back on the pieces)
    bridged: list = field(default_factory=list)
    long: bool = False  # accepted by the long look or the rise path only (DtmfConfig.long_dominance, rise_gain)
    edges: tuple[float, float] | None = None  # start and end (s) read from the tones themselves (rise path)
    head: np.ndarray | None = None  # energies of blocks first-3 .. first (start edge), kept once read (`_Core._trim`)


@dataclass
class _Other:
    """A run of a different key inside a digit: a glitch if 1 window, the next digit if 2+."""

    key: int = -1
    count: int = 0
    first: int = 0
    acc: np.ndarray | None = None


class _Core:
    """The detector proper at a native rate (8000 or 16000)."""

    MAX_BLOCKS = 8192  # blocks per internal batch (bounds memory for long inputs)
    # rise path (DtmfConfig.rise_gain): window length, background span, the recent windows
    # left out of it and its quantile (%), how often it is read (windows), and how many
    # windows naming no key or another key a run bridges
    RISE_BLOCKS, RISE_BG, RISE_BG_SKIP, RISE_BG_Q, RISE_BG_EVERY, RISE_BRIDGE = 8, 160, 8, 25.0, 10, 1
    # ...and how many windows it waits for before reading them (its fixed cost per reading
    # is then paid 5 times a second, not 10-50; it names no start events, and what it finds
    # is reported 0.3 s late anyway), unless a digit of the other paths is ready to go out:
    # then it reads at once, so that digit waits only for a run still open
    RISE_BATCH = 40
    _UH_CACHE: dict[tuple, np.ndarray] = {}  # (rate, harmonic_flank) -> bases

    def __init__(self, rate: int, cfg: DtmfConfig, channel: int):
        if rate not in NATIVE_RATES:
            raise ValueError(f"native rate must be one of {NATIVE_RATES}, got {rate}")
        self.rate = rate
        self.cfg = cfg
        self.channel = channel
        self.H = H = rate // 200  # 5 ms block
        F = 2 * H
        n = np.arange(F)
        w = 0.5 - 0.5 * np.cos(2 * np.pi * (n + 0.5) / F)  # Hann; overlapped halves sum to 1
        self._sw = float(w.sum())
        self._sw2 = float((w * w).sum())
        om = 2 * np.pi * np.asarray(FREQS) / rate
        ph = np.outer(n, om)
        cos_, sin_ = w[:, None] * np.cos(ph), -w[:, None] * np.sin(ph)
        B = np.zeros((H, 34))
        B[:, 0:8], B[:, 8:16] = cos_[:H], sin_[:H]
        B[:, 16:24], B[:, 24:32] = cos_[H:], sin_[H:]
        B[:, 32], B[:, 33] = w[:H], w[H:]
        self._B = B.astype(np.float32)
        Q = np.zeros((H, 3))
        Q[:, 0], Q[:, 1], Q[:, 2] = (w * w)[:H], (w * w)[H:], 1.0
        self._Q = Q.astype(np.float32)
        self._rot1 = np.exp(-1j * om * H)  # expected phase advance per frame hop at nominal
        self._rot2 = np.exp(-1j * om * 2 * H)
        hk = (rate, cfg.harmonic_flank)
        if hk not in _Core._UH_CACHE:  # ~5 ms of QR; shared by every detector at this rate
            _Core._UH_CACHE[hk] = self._harmonic_bases(rate, 4 * H, cfg.harmonic_flank)
        self._Uh = _Core._UH_CACHE[hk]
        # 20 ms Hann DFT at the eight frequencies (cosine, then sine columns): a tone's
        # fundamental in the windows the harmonic background is read from
        m4 = np.arange(4 * H)
        w4 = 0.5 - 0.5 * np.cos(2 * np.pi * (m4 + 0.5) / (4 * H))
        ph4 = np.outer(m4, om)
        self._Fb = np.concatenate([w4[:, None] * np.cos(ph4), w4[:, None] * np.sin(ph4)], axis=1).astype(np.float32)
        self._freqs = np.asarray(FREQS)
        self._pnorm = 2.0 / self._sw**2
        self._level_floor = 3 * 10 ** (cfg.min_level_dbfs / 10) / 2  # on S_r + S_c (3 frames)
        self._tw_lo = 10 ** (cfg.twist_min_db / 10)
        self._tw_hi = 10 ** (cfg.twist_max_db / 10)
        self._harm = 10 ** (cfg.max_harmonic_db / 10)
        self._harm_gate = 10 ** (cfg.harmonic_window_db / 10)
        self._dev = cfg.max_freq_dev * np.asarray(FREQS)
        self._band_dev = cfg.band_freq_dev * np.asarray(FREQS)
        self._sos = None
        if cfg.band_ratio is not None:
            from scipy.signal import butter

            self._sos = butter(4, [620.0, 1750.0], btype="bandpass", fs=rate, output="sos")
            global _lfilter
            from scipy.signal import lfilter as _lfilter
        self._leak = self._leakage(w, rate)
        if cfg.fine_share is not None:
            self._fine_init(rate)
        if cfg.rise_gain is not None:  # 40 ms Hann DFT at the eight tones (cosine, then sine columns)
            m8 = np.arange(self.RISE_BLOCKS * H)
            w8 = 0.5 - 0.5 * np.cos(2 * np.pi * (m8 + 0.5) / len(m8))
            ph8 = np.outer(m8, om)
            self._rB = np.concatenate([w8[:, None] * np.cos(ph8), w8[:, None] * np.sin(ph8)], axis=1).astype(np.float32)
            self._rnorm = 2.0 / float(w8.sum()) ** 2  # window power -> A^2 / 2, the long look's level
            # 6 dB under the level floor (A^2 / 2): a window with every tone under it names no
            # key, and a run none of whose windows reaches it at both its tones cannot pass
            self._rfloor = 10 ** ((cfg.rise_level_dbfs - 6) / 10)
        self.reset()

    def _fine_init(self, rate: int) -> None:
        """Bases of the fine path: a 40 ms Hann window at each tone's nominal frequency
        x (1 + {-2, -1, 0, +1, +2} %) and on a 10 Hz grid over 620-1760 Hz; 10 ms Hann
        quarters at the nominal frequencies (fill test); the window's power response
        (leakage of a tone into a grid point at a given offset)."""
        H = self.H
        L = 8 * H
        n = np.arange(L)
        w = 0.5 - 0.5 * np.cos(2 * np.pi * (n + 0.5) / L)
        self._fdev = np.array([-0.02, -0.01, 0.0, 0.01, 0.02])
        tf = (np.asarray(FREQS)[:, None] * (1 + self._fdev)[None, :]).reshape(-1)  # 40
        self._fgrid = np.arange(620.0, 1761.0, 10.0)
        f = np.concatenate([tf, self._fgrid])
        ph = 2 * np.pi * np.outer(n, f) / rate
        B = np.concatenate([w[:, None] * np.cos(ph), -w[:, None] * np.sin(ph)], axis=1).astype(np.float32)
        nt, G = len(tf), len(f)
        self._fBt = np.ascontiguousarray(np.concatenate([B[:, :nt], B[:, G : G + nt]], axis=1))
        self._fBg = np.ascontiguousarray(np.concatenate([B[:, nt:G], B[:, G + nt :]], axis=1))
        self._fnorm = 2.0 / float(w.sum()) ** 2
        self._fnt = len(tf)
        self._fenbw = float((w * w).sum()) * rate / float(w.sum()) ** 2  # Hz
        # leakage table: power of a unit tone at offset d Hz (0..600, 1 Hz), normalised
        d = np.arange(0.0, 601.0)
        W = np.abs(np.exp(-2j * np.pi * np.outer(d, n) / rate) @ w) ** 2
        self._fleak = W / W[0]
        q = np.arange(2 * H)
        wq = 0.5 - 0.5 * np.cos(2 * np.pi * (q + 0.5) / (2 * H))
        phq = 2 * np.pi * np.outer(q, np.asarray(FREQS)) / rate
        self._fQ = np.concatenate([wq[:, None] * np.cos(phq), -wq[:, None] * np.sin(phq)], axis=1).astype(np.float32)
        self._fqnorm = 2.0 / float(wq.sum()) ** 2
        self._fgroup = tuple((self._fgrid >= lo) & (self._fgrid <= hi) for lo, hi in GROUP_BANDS)

    @staticmethod
    def _leakage(w: np.ndarray, rate: int) -> np.ndarray:
        """8 x 8: per-frame power a unit tone at FREQS[i] shows in bin j (phase-averaged),
        so the dominance test subtracts what the key's own tone leaks into its neighbours."""
        n = np.arange(len(w))
        f = np.asarray(FREQS)
        out = np.zeros((8, 8))
        basis = w[None, :] * np.exp(-2j * np.pi * np.outer(f, n) / rate)
        for ph in np.linspace(0, 2 * np.pi, 8, endpoint=False):
            x = np.sin(2 * np.pi * np.outer(f, n) / rate + ph)
            P = np.abs(x @ basis.T) ** 2
            out += P / np.diag(P)[:, None]
        return out / 8

    @staticmethod
    def _harmonic_bases(rate: int, n: int, flank: float | None = None) -> np.ndarray:
        """Per key, orthonormal bases (n x 12) spanning the second harmonics of its two
        tones (at -2.5 %, 0, +2.5 %) with the fundamentals projected out; with `flank`,
        8 more columns per tone (n x 28 in all) spanning the harmonic's flanks (see
        ``DtmfConfig.harmonic_flank``), with the fundamentals and the harmonic projected out.

        Why the projection: 2 x 697 = 1394 Hz lies only 58 Hz from the 1336 Hz tone of the
        same key (likewise 770/1477, 852/1633), so a plain probe at the harmonic would
        measure the key's own high tone.  Removing the span of both fundamentals (at
        +-3 % around nominal) leaves a probe that sees only genuine harmonic energy.
        """
        m = np.arange(n)

        def cs(freqs):
            ph = np.outer(m, 2 * np.pi * np.asarray(freqs) / rate)
            return np.concatenate([np.cos(ph), np.sin(ph)], axis=1)

        out = np.zeros((16, n, 12 if flank is None else 28))
        dev = np.array([-0.03, -0.015, 0.0, 0.015, 0.03])
        hdev = np.array([-0.025, 0.0, 0.025])
        fdev = None if flank is None else flank * np.array([-1.5, -1.0, 1.0, 1.5])
        for k in range(16):
            fr, fc = LOW_FREQS[k // 4], HIGH_FREQS[k % 4]
            nuis = np.concatenate([cs(fr * (1 + dev)), cs(fc * (1 + dev)), np.ones((n, 1))], axis=1)
            qn, _ = np.linalg.qr(nuis)
            for j, f in enumerate((fr, fc)):
                hb = cs(2 * f * (1 + hdev))
                hb -= qn @ (qn.T @ hb)
                qh, _ = np.linalg.qr(hb)
                out[k, :, 6 * j : 6 * j + 6] = qh
                if fdev is not None:
                    fb = np.concatenate([cs(2 * f * (1 + fdev[:2])), cs(2 * f * (1 + fdev[2:]))], axis=1)
                    fb -= qn @ (qn.T @ fb)
                    fb -= qh @ (qh.T @ fb)
                    out[k, :, 12 + 8 * j : 20 + 8 * j] = np.linalg.qr(fb)[0]
        return out.astype(np.float32)

    def reset(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)  # samples not yet a whole block
        self._ctx = np.zeros(0, dtype=np.float32)  # last <= 3 processed blocks (raw)
        self._ctxb = np.zeros(0, dtype=np.float32)  # the same blocks, band-filtered
        # raw history (zeros before the start): the last 7 blocks for the fine path and
        # fine_bg_delay more for its background; for the long look, a digit's span and as
        # much again before it, and the gap to a digit of its key.  _raw is that history
        # plus the batch being analysed.
        self._nhist = 7 + (self.cfg.fine_bg_delay or 0)
        looks = (self.cfg.long_dominance is not None or self.cfg.rise_gain is not None
                 or self.cfg.span_dominance is not None)
        nlong = 2 * (self.cfg.long_max_blocks + self.cfg.long_merge) + 8 if looks else 0
        self._nkeep = max(self._nhist, nlong)
        self._raw = np.zeros(self._nkeep * self.H, dtype=np.float32)
        self._raw_b0 = -self._nkeep  # global block index of _raw[0]
        self._zi = None if self._sos is None else np.zeros((self._sos.shape[0], 2))
        self._nb = 0  # blocks processed (global)
        self._eb = np.zeros(0, dtype=np.float64)  # block energies history
        self._eb0 = 0  # global block index of self._eb[0]
        self._cur: _Segment | None = None
        self._miss = 0
        self._fell = False  # the open digit's pair fell in its current gap (see bridge_level)
        self._bridged = False  # ...and the gap went past max_gap_windows
        self._ended = False  # ...and both its tones fell under fine_short_fall (a release)
        self._other = _Other()
        self._out: list[DtmfDigit] = []
        self._starts: list[ToneStart] = []
        self._done: list[_Segment] = []  # closed, waiting for the blocks after them
        self._last: tuple[int, float, float] | None = None  # key, end, level of the last digit (tail_drop_db)
        self._recent: list[_Segment] = []  # segments of the last 16 digits reported (long_merge)
        self._nf = 0  # frames whose bin powers went into the background average (global)
        self._bg_zi = np.zeros((1, 9))  # state of that average (8 bins + in-band power)
        self._bg_hist = np.zeros((0, 9))  # its values for the last frames
        self._bg_h0 = 0  # global frame of _bg_hist[0]
        # rise path: 40 ms window powers at the tones (window w: blocks w..w+7) kept for the
        # background, the next window to read, the background last read, the open run
        self._rp = np.zeros((0, 8))
        self._rp0 = 0  # global window of _rp[0]
        self._rnext = 0
        self._rrun: list[int] | None = None  # key, first window, last window
        self._rother: tuple[int, int] | None = None  # another key seen inside the open run's bridge, and where

    # ------------------------------------------------------------------ analysis
    def _windows(self, xp: np.ndarray, yp: np.ndarray | None, g0: int = 0, xf: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Per 20 ms window: key index (-1 = none), features (tone powers etc.), the
        strongest pair (key index, whether or not it passes) with the weaker of each
        tone's frame powers (for held windows); and the energy of every block.
        `yp`: the same samples band-filtered (None when ``band_ratio`` is off); `g0`: the
        global index of the first block (for the carried background average)."""
        H = self.H
        blocks = xp.reshape(-1, H)
        nw = blocks.shape[0] - 3
        R = blocks @ self._B
        E = (blocks * blocks) @ self._Q
        Xre = R[:-1, 0:8] + R[1:, 16:24]
        Xim = R[:-1, 8:16] + R[1:, 24:32]
        p = (Xre * Xre + Xim * Xim) * self._pnorm  # per-frame tone power (A^2/2)
        dc = R[:-1, 32] + R[1:, 33]
        pf = (E[:-1, 0] + E[1:, 1] - dc * dc * (self._sw2 / self._sw**2)) / self._sw2
        S = p[:-2] + p[1:-1] + p[2:]
        P = pf[:-2] + pf[1:-1] + pf[2:]
        row = np.argmax(S[:, :4], axis=1)
        col = np.argmax(S[:, 4:], axis=1)
        ar = np.arange(nw)
        Sr = S[ar, row]
        Sc = S[ar, 4 + col]
        tot = Sr + Sc
        ratio_ok = tot >= self.cfg.min_ratio * P
        band = np.zeros(nw, dtype=bool)
        pb = None
        if yp is not None:
            yb = yp.reshape(-1, H)
            Eb = (yb * yb) @ self._Q[:, :2]
            pb = (Eb[:-1, 0] + Eb[1:, 1]) / self._sw2
            onset_on = self.cfg.onset_gain is not None
            if onset_on:
                self._bg_update(p, pb, g0)
            band = ~ratio_ok & (tot >= self.cfg.band_ratio * (pb[:-2] + pb[1:-1] + pb[2:]))
            band &= tot >= self.cfg.band_min_total * P
            bi = np.flatnonzero(band)
            if bi.size:  # each tone must dominate its group (beyond its own leakage)
                band[bi] = self._dominates(S[bi], S[bi], row[bi], 4 + col[bi])
                rest = bi[~band[bi]]
                if onset_on and rest.size:
                    # ...or its rise over the background must, if the pair itself rose (a key
                    # appearing over held notes, not a chord that was already there)
                    r, c = row[rest], 4 + col[rest]
                    bg = 3 * self._bg_at(g0, rest)[:, :8]
                    n, g = np.arange(rest.size), self.cfg.onset_gain
                    Sb = S[rest]
                    rose = (Sb[n, r] >= g * bg[n, r]) & (Sb[n, c] >= g * bg[n, c])
                    band[rest] = rose & self._dominates(np.maximum(Sb - bg, 0.0), Sb, r, c)
            ratio_ok |= band
        cand = ratio_ok & (tot >= self._level_floor)
        top = (row * 4 + col).astype(np.int8)
        held = np.zeros((0, 2))
        if self.cfg.hold_level is not None:
            pr = np.minimum(np.minimum(p[ar, row], p[ar + 1, row]), p[ar + 2, row])
            pc = np.minimum(np.minimum(p[ar, 4 + col], p[ar + 1, 4 + col]), p[ar + 2, 4 + col])
            held = np.stack([pr, pc], axis=1)
        cand &= (Sc >= self._tw_lo * Sr) & (Sc <= self._tw_hi * Sr)
        bgw = np.zeros((nw, 8))  # per-frame background power of the bins (onset path)
        if yp is not None and self.cfg.onset_gain is not None:
            on, row, col, bgw = self._onsets(S, P, pb, g0, cand, tot, row, col)
            Sr, Sc = S[ar, row], S[ar, 4 + col]
            cand |= on
            band |= on
        keys = np.full(nw, -1, dtype=np.int8)
        feat = np.zeros((nw, N_FEAT))
        feat[:, F_SR], feat[:, F_SC] = Sr, Sc
        idx = np.flatnonzero(cand)
        if idx.size:
            n = idx.size
            ii = np.concatenate([idx, idx])  # low tone then high tone of every candidate
            kk = np.concatenate([row[idx], 4 + col[idx]])
            f0, f1, f2 = p[ii, kk], p[ii + 1, kk], p[ii + 2, kk]  # stability over 3 frames
            bo = np.concatenate([band[idx], band[idx]])  # passed on the in-band share only
            stab_lim = np.where(bo, self.cfg.band_stability, self.cfg.stability)
            dev_lim = np.where(bo, self._band_dev[kk], self._dev[kk])
            # a tone over a background at its own bin beats with it: allow the amplitude to
            # swing by twice the background's (zero outside the onset path)
            fmin, fmax = np.minimum(np.minimum(f0, f1), f2), np.maximum(np.maximum(f0, f1), f2)
            bk = bgw[ii, kk]
            stab = np.sqrt(fmin) + 2 * np.sqrt(bk) >= np.sqrt(stab_lim * fmax)
            # frequency from the phase advance between frames: lag 1 (unambiguous to
            # +-100 Hz) picks the branch of lag 2 (twice as precise)
            X = Xre + 1j * Xim
            x0, x1, x2 = X[ii, kk], X[ii + 1, kk], X[ii + 2, kk]
            c1 = (x1 * np.conj(x0) + x2 * np.conj(x1)) * self._rot1[kk]
            c2 = x2 * np.conj(x0) * self._rot2[kk]
            d1 = np.angle(c1) * (self.rate / (2 * np.pi * H))
            d2 = np.angle(c2) * (self.rate / (4 * np.pi * H))
            half = self.rate / (2 * H)  # lag-2 ambiguity period (100 Hz)
            d2 += half * np.round((d1 - d2) / half)
            good = stab & (np.abs(d2) <= dev_lim)
            rel = d2 / self._freqs[kk]
            pos = np.flatnonzero(good[:n] & good[n:])
            sel, hx, kept = self._harmonics(xp, idx[pos], row, col, S, P, xf)
            keys[sel] = (row[sel] * 4 + col[sel]).astype(np.int8)
            feat[sel, F_H] = hx
            _put_freq(feat, sel, rel[:n][pos][kept], rel[n:][pos][kept])
        if xf is not None and self.cfg.fine_share is not None:
            pre = (keys < 0) & (tot >= self._level_floor) & (tot >= self.cfg.band_min_total * P)
            if pb is not None:  # the pair holds little of the band even with the spill: skip
                pre &= tot >= 0.5 * self.cfg.fine_share * (pb[:-2] + pb[1:-1] + pb[2:])
            wf = np.flatnonzero(pre)
            if wf.size:
                self._fine(xp, xf, wf, keys, feat, S, P)
        return keys, feat, top, held, E[:, 2], S

    def _fpow(self, segs: np.ndarray, basis: np.ndarray) -> np.ndarray:
        """Power of each 40 ms segment at each frequency of a fine-path basis (its cosine
        columns, then its sine columns)."""
        Y = segs @ basis
        k = Y.shape[1] // 2
        return (Y[:, :k] ** 2 + Y[:, k:] ** 2) * self._fnorm

    def _fine(self, xp, xf, wf, keys, feat, S, P) -> None:
        """The fine path (see ``DtmfConfig.fine_share``) on the windows `wf`; `xf` holds the
        4 + ``fine_bg_delay`` blocks before `xp`'s first window (zeros before the stream
        start) and the rest.
        The cheap tests (tones, twist, frequency, fill) run first, the grid only on the
        windows that pass them."""
        cfg = self.cfg
        H = self.H
        L = 8 * H
        D = cfg.fine_bg_delay or 0  # xf starts D blocks earlier still (the backgrounds' 40 ms)
        D1 = cfg.fine_bg_near if D else 0
        nwf = (len(xf) - L) // H + 1 - D
        wf = wf[wf < nwf]
        if not wf.size:
            return
        allsegs = np.lib.stride_tricks.as_strided(xf, (nwf + D, L), (H * xf.strides[0], xf.strides[0]), writeable=False)
        segs = allsegs[wf + D]
        T5 = self._fpow(segs, self._fBt).reshape(-1, 8, 5)
        n = np.arange(wf.size)
        T = T5.max(axis=2)
        r = np.argmax(T[:, :4], axis=1)
        c = 4 + np.argmax(T[:, 4:], axis=1)
        Tr, Tc = T[n, r], T[n, c]
        ok = (Tr + Tc >= self._level_floor / 3) & (Tc >= self._tw_lo * Tr) & (Tc <= self._tw_hi * Tr)
        rel = []
        for b in (r, c):  # frequency: parabola through the log powers at 1 % steps
            t5 = T5[n, b]
            a = np.argmax(t5, axis=1)
            ok &= (a > 0) & (a < 4)
            a = np.clip(a, 1, 3)
            lm, l0, lp = (np.log(np.maximum(t5[n, a + k], 1e-30)) for k in (-1, 0, 1))
            den = lm - 2 * l0 + lp
            frac = np.where(den < 0, 0.5 * (lm - lp) / np.where(den < 0, den, -1.0), 0.0)
            dv = (a - 2 + np.clip(frac, -0.5, 0.5)) * 0.01
            ok &= np.abs(dv) <= cfg.fine_freq_dev
            rel.append(dv)
        j = np.flatnonzero(ok)
        if not j.size:
            return
        # fill: each 10 ms quarter holds the tone
        Yq = segs[j].reshape(-1, 4, 2 * H) @ self._fQ
        Pq = (Yq[..., :8] ** 2 + Yq[..., 8:] ** 2) * self._fqnorm  # (m, 4, 8)
        m = np.arange(j.size)
        ok = (Pq[m, :, r[j]].min(axis=1) >= cfg.fine_fill * Tr[j]) & (Pq[m, :, c[j]].min(axis=1) >= cfg.fine_fill * Tc[j])
        j = j[ok]
        if not j.size:
            return
        wf, n, r, c, Tr, Tc, segs = wf[j], np.arange(j.size), r[j], c[j], Tr[j], Tc[j], segs[j]
        dvs = (rel[0][j], rel[1][j])
        grid = self._fpow(segs, self._fBg)
        band = grid.sum(axis=1) * 10.0 / self._fenbw
        ok = Tr + Tc >= cfg.fine_share * band
        fr = np.asarray(FREQS)
        if D:
            # the same 40 ms, D blocks earlier: held partials (music) are background there
            far, near = allsegs[wf], allsegs[wf + D - D1]
            bgg = np.maximum(self._fpow(far, self._fBg), self._fpow(near, self._fBg))
            rise = np.maximum(grid - bgg, 0.0)
            away = np.ones(grid.shape, dtype=bool)  # grid points 40 Hz or more from both tones
            for b, dv in ((r, dvs[0]), (c, dvs[1])):
                away &= np.abs(self._fgrid[None, :] - (fr[b] * (1 + dv))[:, None]) >= 40.0
            ok_bg = Tr + Tc >= cfg.fine_bg_share * (Tr + Tc + np.where(away, rise, 0.0).sum(axis=1) * 10.0 / self._fenbw)
            if cfg.fine_bg_gain:  # ...and the pair itself rose over the smaller reading (a key appearing)
                Tb5 = np.minimum(*(self._fpow(x, self._fBt).reshape(-1, 8, 5).max(axis=2) for x in (far, near)))
                ok_bg &= (Tr >= cfg.fine_bg_gain * Tb5[n, r]) & (Tc >= cfg.fine_bg_gain * Tb5[n, c])
        for b, Tb, g, dv in ((r, Tr, self._fgroup[0], dvs[0]), (c, Tc, self._fgroup[1], dvs[1])):
            fest = fr[b] * (1 + dv)
            off = np.abs(self._fgrid[None, g] - fest[:, None])
            leak = self._fleak[np.minimum(np.round(off).astype(np.int64), 600)] * Tb[:, None]
            riv = np.where(off >= 40.0, grid[:, g] - leak, 0.0).max(axis=1)
            ok &= riv <= cfg.fine_rival * Tb
            if D:
                riv = np.where(off >= 40.0, rise[:, g] - leak, 0.0).max(axis=1)
                ok_bg &= riv <= cfg.fine_bg_rival * Tb
        if D:
            ok_bg &= (np.abs(dvs[0]) <= cfg.fine_bg_freq_dev) & (np.abs(dvs[1]) <= cfg.fine_bg_freq_dev)
            ok |= ok_bg
        j = np.flatnonzero(ok)
        if not j.size:
            return
        w = wf[j]
        row, col = np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
        row[w], col[w] = r[j], c[j] - 4
        # the harmonic measure relative to the tones' 40 ms power, not the 10 ms bins'
        # (which are low there: that is why the window came here), else a fine window
        # could lift a digit's mean harmonic measure over the limit and lose the key
        Sf = S.copy()
        Sf[w, r[j]], Sf[w, c[j]] = 3 * Tr[j], 3 * Tc[j]
        sel, hx, kept = self._harmonics(xp, w, row, col, Sf, P, xf)
        keys[sel] = (row[sel] * 4 + col[sel]).astype(np.int8)
        feat[sel, F_SR], feat[sel, F_SC] = 3 * Tr[j][kept], 3 * Tc[j][kept]
        feat[sel, F_H] = hx
        _put_freq(feat, sel, dvs[0][j][kept], dvs[1][j][kept])
        feat[sel, F_FN] = 1.0

    def _bg_update(self, p: np.ndarray, pb: np.ndarray, g0: int) -> None:
        """Carry the exponential average of each bin's (and the in-band) power per frame
        over this call's new frames (frames seen before are not averaged twice) and keep
        its recent values for `_bg_at`."""
        k = self.H / self.rate
        a = k / self.cfg.onset_tau
        new0 = max(self._nf - g0, 0)
        x = np.concatenate([p[new0:], pb[new0:, None]], axis=1).astype(np.float64)
        y, self._bg_zi = _lfilter([a], [1.0, a - 1.0], x, axis=0, zi=self._bg_zi)
        self._bg_hist = np.concatenate([self._bg_hist, y])
        self._bg_h0 = self._nf - (len(self._bg_hist) - len(y))  # global frame of _bg_hist[0]
        self._nf = g0 + len(p)
        self._bg_d = int(round(self.cfg.onset_delay / k))
        self._bg_far = self._bg_d + int(round(0.2 / k))

    def _bg_at(self, g0: int, w: np.ndarray) -> np.ndarray:
        """Background power per frame (8 bins + in-band) for the windows `w` (local to the
        call starting at block `g0`): the average read ``onset_delay`` before the window,
        or 200 ms before that if lower (a long key or a swelling note does not lift its own
        background); zero before the stream had that much history."""
        hist = self._bg_hist
        i = g0 + w - self._bg_h0
        i1, i2 = i - self._bg_d, i - self._bg_far
        b1 = np.where((i1 >= 0)[:, None], hist[np.maximum(i1, 0)], 0.0)
        b2 = np.where((i2 >= 0)[:, None], hist[np.maximum(i2, 0)], np.inf)
        return np.minimum(b1, b2)

    def _bg_trim(self) -> None:
        keep = self._bg_far + 4  # the next call's windows start at most 3 frames back
        if len(self._bg_hist) > keep:
            self._bg_h0 += len(self._bg_hist) - keep
            self._bg_hist = self._bg_hist[-keep:]

    def _dominates(self, V: np.ndarray, S: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Rows whose tones (bins `r`, `c`) dominate their groups in `V` (window powers,
        or their rise over the background): no other bin holds more than
        ``band_dominance`` of the tone beyond what the tone leaks into it (from `S`)."""
        n = np.arange(len(r))
        lo = V[:, :4] - self._leak[r, :4] * S[n, r][:, None]
        hi = V[:, 4:] - self._leak[c, 4:] * S[n, c][:, None]
        lo[n, r] = 0.0
        hi[n, c - 4] = 0.0
        dom = self.cfg.band_dominance
        return (lo.max(axis=1) <= dom * V[n, r]) & (hi.max(axis=1) <= dom * V[n, c])

    def _onsets(self, S, P, pb, g0, cand, tot, row, col):
        """The onset path (see ``DtmfConfig.onset_gain``) for windows not already candidates.
        Returns the windows it passes, row and column (the strongest *rise* of each group
        there), and the background power per frame of the 8 bins on those windows."""
        cfg = self.cfg
        nw = S.shape[0]
        on = np.zeros(nw, dtype=bool)
        bgw = np.zeros((nw, 8))
        # the pair's rise is at most the strongest bins' power: cheap pre-selection
        w = np.flatnonzero(~cand & (tot >= self._level_floor) & (tot >= cfg.band_min_total * P))
        if w.size:
            bg = self._bg_at(g0, w)
            bg3 = 3 * bg  # S and the in-band sums are over 3 frames
            Sw = S[w]
            Ex = np.maximum(Sw - bg3[:, :8], 0.0)
            n = np.arange(w.size)
            r2 = np.argmax(Ex[:, :4], axis=1)
            c2 = 4 + np.argmax(Ex[:, 4:], axis=1)
            Sr, Sc = Sw[n, r2], Sw[n, c2]
            PB = pb[w] + pb[w + 1] + pb[w + 2]
            g = cfg.onset_gain
            ok = (Sr >= g * bg3[n, r2]) & (Sc >= g * bg3[n, c2])
            ok &= (Sr + Sc >= self._level_floor) & (Sr + Sc >= cfg.band_min_total * P[w])
            ok &= Ex[n, r2] + Ex[n, c2] >= cfg.onset_share * (PB - bg3[:, 8])
            ok &= (Sc >= self._tw_lo * Sr) & (Sc <= self._tw_hi * Sr)
            j = np.flatnonzero(ok)
            if j.size:  # no other bin of either group rose like the tone did
                ok[j] = self._dominates(Ex[j], Sw[j], r2[j], c2[j])
            j = np.flatnonzero(ok)
            if j.size:
                wj = w[j]
                on[wj] = True
                row, col = row.copy(), col.copy()
                row[wj], col[wj] = r2[j], c2[j] - 4
                bgw[wj] = bg[j, :8]
        return on, row, col, bgw

    def _harmonics(self, xp, sel, row, col, S, P, xf=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Second-harmonic measure of the windows in `sel` (grouped by key).

        Returns the windows that pass a loose per-window gate (``harmonic_window_db``
        above the limit) and, for those, the measure scaled so 1.0 is the limit
        ``max_harmonic_db``; the digit is judged on its mean over all its windows, which
        averages out noise yet still catches a voice whose harmonics persist.
        The harmonic energy is measured in a 6-dimensional subspace, so white noise puts
        about 6 x (residual power per sample) into it; that expected share is subtracted,
        or, if more, 6/4 of the geometric mean of the energies on the harmonic's two flanks
        (4 dimensions each: ``harmonic_flank``), or, if more, the harmonic's energy before the
        press (``harmonic_bg_gain``; `xf`: the samples as `_fine` gets them, whose block
        4 + ``fine_bg_delay`` is `xp`'s first).
        """
        if not sel.size:
            return sel, np.zeros(0), np.zeros(0, dtype=np.int64)
        H = self.H
        key = row[sel] * 4 + col[sel]
        hx = np.zeros(sel.size)
        lim = self._harm * (4 * H) / 3  # harmonic energy vs fundamental power * n (S is 3 frames)
        nw = len(xp) // H - 3
        win = np.lib.stride_tricks.as_strided(xp, (nw, 4 * H), (H * xp.strides[0], xp.strides[0]), writeable=False)
        cfg = self.cfg
        bg_on = xf is not None and cfg.harmonic_bg_gain is not None and cfg.fine_bg_delay is not None
        if bg_on:
            D = cfg.fine_bg_delay
            xwin = np.lib.stride_tricks.as_strided(xf, (len(xf) // H - 3, 4 * H), (H * xf.strides[0], xf.strides[0]), writeable=False)
        for k in np.unique(key).tolist():
            m = key == k
            w = sel[m]
            Y = win[w] @ self._Uh[k]
            Y *= Y
            sr, sc = S[w, k // 4], S[w, 4 + k % 4]
            noise = np.maximum(P[w] - sr - sc, 0) * (6.0 / 3.0)  # P, S are 3-frame sums
            nr = nc = noise
            if Y.shape[1] > 12:  # the overlay's own energy around each harmonic
                fl = Y[:, 12:].reshape(-1, 4, 4).sum(axis=2) * (6.0 / 4.0)  # per side, 4 dims each
                nr = np.maximum(noise, np.sqrt(fl[:, 0] * fl[:, 1]))
                nc = np.maximum(noise, np.sqrt(fl[:, 2] * fl[:, 3]))
            if bg_on:
                nr, nc = self._harmonic_bg(k, win[w], xwin, w + 4 + D, nr, nc)
            er = Y[:, :6].sum(axis=1) - nr
            ec = Y[:, 6:12].sum(axis=1) - nc
            hx[m] = np.maximum(er / (lim * sr), ec / (lim * sc))
        keep = np.flatnonzero(hx <= self._harm_gate)
        return sel[keep], hx[keep], keep

    def _harmonic_bg(self, k: int, now: np.ndarray, xwin: np.ndarray, at: np.ndarray, nr: np.ndarray,
                     nc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raise the background of key `k`'s two harmonics (`nr`, `nc`) to their energy in the
        windows ``fine_bg_near`` and ``fine_bg_delay`` blocks before the windows `now` (rows
        `at` of `xwin`), the larger reading, counting only readings where that tone's
        fundamental was ``harmonic_bg_gain`` times weaker than now (see the config)."""
        cfg = self.cfg
        r, c = k // 4, 4 + k % 4
        Z = now @ self._Fb
        fn = Z[:, :8] ** 2 + Z[:, 8:] ** 2
        bgr, bgc = np.zeros(len(at)), np.zeros(len(at))
        for back in (cfg.fine_bg_near, cfg.fine_bg_delay):
            seg = xwin[at - back]
            Y = seg @ self._Uh[k][:, :12]
            Y *= Y
            Z = seg @ self._Fb
            fb = Z[:, :8] ** 2 + Z[:, 8:] ** 2
            g = cfg.harmonic_bg_gain
            bgr = np.maximum(bgr, np.where(g * fb[:, r] <= fn[:, r], Y[:, :6].sum(axis=1), 0.0))
            bgc = np.maximum(bgc, np.where(g * fb[:, c] <= fn[:, c], Y[:, 6:].sum(axis=1), 0.0))
        return np.maximum(nr, bgr), np.maximum(nc, bgc)

    # ------------------------------------------------------------------ streaming
    def feed(self, x: np.ndarray) -> None:
        H = self.H
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if len(self._pending):
            x = np.concatenate([self._pending, x])
        n_full = (len(x) // H) * H
        self._pending = x[n_full:]
        x = x[:n_full]
        y = None
        if self._sos is not None and n_full:
            # the filter runs sample by sample with its state carried: chunking cannot show
            from scipy.signal import sosfilt

            y, self._zi = sosfilt(self._sos, x.astype(np.float64), zi=self._zi)
            y = y.astype(np.float32)
        step = self.MAX_BLOCKS * H
        for i in range(0, len(x), step):
            self._process(x[i : i + step], None if y is None else y[i : i + step])

    def _process(self, new: np.ndarray, newb: np.ndarray | None = None) -> None:
        H = self.H
        if not len(new):
            return
        xp = np.concatenate([self._ctx, new])
        self._raw = np.concatenate([self._raw[-self._nkeep * H :], new])
        self._raw_b0 = self._nb - self._nkeep
        xf = self._raw[(self._nkeep - self._nhist) * H :]  # the fine path's history and the batch
        yp = None if newb is None else np.concatenate([self._ctxb, newb])
        nblk = len(xp) // H
        g0 = self._nb - len(self._ctx) // H  # global index of xp's first block
        nb_new = len(new) // H
        n_ctx = nblk - nb_new
        self._nb += nb_new
        self._ctx = xp[-min(3, nblk) * H :]
        if yp is not None:
            self._ctxb = yp[-min(3, nblk) * H :]
        if nblk < 4:
            blk = new.reshape(-1, H)
            self._eb = np.concatenate([self._eb, np.einsum("ij,ij->i", blk, blk, dtype=np.float64)])
            return
        keys, feat, top, held, eblk, S = self._windows(xp, yp, g0, xf[(3 - n_ctx) * H :])
        self._eb = np.concatenate([self._eb, eblk[n_ctx:]])
        self._segment(keys, feat, g0, top, held, S)
        if self.cfg.rise_gain is not None:
            self._rise(now=any(not g.long and g.last + 7 <= self._nb for g in self._done))
        self._emit_done(final=False)
        self._trim()
        if self.cfg.onset_gain is not None and yp is not None:
            self._bg_trim()

    def _trim(self) -> None:
        keep = self._nb - 12
        # a digit's edges read the 4 blocks before its first window and after its last: its
        # start edge is saved with it, so a key held for minutes does not pin the history
        # back to its start (which grew without bound, and was copied on every feed)
        for g in ([self._cur] if self._cur is not None else []) + self._done:
            if g.head is None and self._eb0 + len(self._eb) > g.first:
                i = np.arange(g.first - 3, g.first + 1) - self._eb0
                g.head = np.where(i >= 0, self._eb[np.maximum(i, 0)], 0.0)
            keep = min([keep, (g.first if g.head is None else g.last) - 6] + [b[4] - 6 for b in g.bridged])
        if self._other.count:
            keep = min(keep, self._other.first - 6)
        if self._rrun is not None:
            keep = min(keep, self._rrun[1] - 6)
        if keep > self._eb0:
            self._eb = self._eb[keep - self._eb0 :]
            self._eb0 = keep

    def _segment(self, keys: np.ndarray, feat: np.ndarray, g0: int, top: np.ndarray, held: np.ndarray,
                 S: np.ndarray) -> None:
        """Run-length state machine over window decisions (Python loop over runs only)."""
        cfg = self.cfg
        if self._cur is None and not np.any(keys >= 0):
            return
        bounds = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(keys)]])
        # each run's feature sums on their own: as differences of one cumulative sum, a huge
        # window (a 1e10 click) earlier in the batch swamped every later run's sums to 0
        runs = np.add.reduceat(feat, starts, axis=0)
        G = cfg.max_gap_windows
        oth = self._other
        for s, e, acc in zip(starts.tolist(), ends.tolist(), runs):
            v = int(keys[s])
            L = e - s
            gs = g0 + s
            if v < 0:
                if self._cur is not None:
                    oth.count = 0
                    self._gap(s, e, top, held, S)
                continue
            cur = self._cur
            if cur is None:
                self._cur = _Segment(v, gs, gs + L - 1, L, acc)
                self._miss = 0
                oth.count = 0
            elif v == cur.key:
                if self._bridged:
                    cur.bridged.append((cur.first, cur.last, cur.hits, cur.acc, gs))
                cur.last, cur.hits = gs + L - 1, cur.hits + L
                cur.acc = cur.acc + acc
                self._miss = 0
                self._fell = self._bridged = self._ended = False
                oth.count = 0
            else:
                if oth.count and oth.key == v:
                    oth.count += L
                    oth.acc = oth.acc + acc
                else:
                    oth.key, oth.count, oth.first, oth.acc = v, L, gs, acc
                if oth.count >= 2:
                    self._finish()
                    self._cur = _Segment(v, oth.first, gs + L - 1, oth.count, oth.acc)
                    self._miss = 0
                    oth.count = 0
                else:
                    miss = self._miss + np.arange(1, L + 1)
                    over = np.flatnonzero(self._gap_over(s, e, miss, S))
                    self._miss = int(miss[-1])
                    if over.size:
                        self._finish()
                        self._cur = _Segment(v, gs, gs + L - 1, L, acc)
                        self._miss = 0
                        oth.count = 0
            cur = self._cur
            if cur is not None and not cur.announced and cur.hits >= cfg.announce_hits:
                # this run is contiguous hits and took the digit to announce_hits: judge it
                # on exactly those first windows (so chunking cannot change the answer)
                cur.announced = True
                kk = cfg.announce_hits - (cur.hits - L)
                acc_at = cur.acc - acc + feat[s : s + kk].sum(axis=0)
                if self._digit_ok(acc_at, cfg.announce_hits):
                    k = self.H / self.rate
                    w_at = gs + kk - 1
                    self._starts.append(ToneStart(KEYS[cur.key], (cur.first + 1) * k, (w_at + 4) * k, self.channel))

    def _gap(self, s: int, e: int, top: np.ndarray, held: np.ndarray, S: np.ndarray) -> None:
        """A run of windows naming no key inside a digit: held windows (see
        ``DtmfConfig.hold_level``) reset the miss count, the others add to it; the digit
        ends at the first window where `_gap_over` says so."""
        cur = self._cur
        L = e - s
        miss = self._miss + np.arange(1, L + 1)
        if len(held) and cur.hits >= self.cfg.min_hits:
            n = 3 * cur.hits
            lim = self.cfg.hold_level
            h = (top[s:e] == cur.key) & (held[s:e, 0] >= lim * cur.acc[F_SR] / n) & (held[s:e, 1] >= lim * cur.acc[F_SC] / n)
            if h.any():
                # misses since the last held window (or since the run began, on top of the count so far)
                grp = np.cumsum(h)
                nh = np.cumsum(~h)
                base = np.zeros(grp[-1] + 1, dtype=np.int64)
                base[1:] = nh[h]
                miss = nh - base[grp]
                miss[grp == 0] += self._miss
        over = np.flatnonzero(self._gap_over(s, e, miss, S))
        self._miss = int(miss[-1]) if not over.size else int(miss[over[0]])
        if over.size:
            self._finish()

    def _gap_over(self, s: int, e: int, miss: np.ndarray, S: np.ndarray) -> np.ndarray:
        """Per window [s, e) of a gap in the open digit, with `miss` its running miss count:
        whether the digit ends there.  It does past ``max_gap_windows`` misses if the pair
        fell in some window since the digit's last hit (see ``DtmfConfig.bridge_level``),
        and past ``bridge_windows`` more in any case.  Updates the carried "fell" state."""
        cfg = self.cfg
        G = cfg.max_gap_windows
        cur = self._cur
        r, c = cur.key // 4, 4 + cur.key % 4
        if cfg.bridge_level is None or cur.hits < cfg.min_hits:
            over = miss > G
        else:
            lim = cfg.bridge_level / cur.hits
            fell = (S[s:e, r] < lim * cur.acc[F_SR]) | (S[s:e, c] < lim * cur.acc[F_SC])
            fell = np.logical_or.accumulate(fell) | self._fell
            self._fell = bool(fell[-1])
            self._bridged |= bool((miss > G).any())
            over = (miss > G) & (fell | (miss > G + cfg.bridge_windows))
        if cfg.fine_short_windows is not None and cur.hits:
            # "released" is judged up to the window that closes the digit, never past it:
            # how far the audio at hand reaches (a whole array, a 200 ms batch, a 20 ms
            # chunk) must not decide it
            k = int(np.argmax(over)) + 1 if over.any() else e - s
            d = cfg.fine_short_fall / cur.hits
            self._ended |= bool(((S[s:s + k, r] < d * cur.acc[F_SR]) & (S[s:s + k, c] < d * cur.acc[F_SC])).any())
        return over

    def _finish(self) -> None:
        """Close the open segment; its times are computed in `_emit_done` (vectorised)."""
        seg, self._cur = self._cur, None
        ended = self._ended
        self._miss = 0
        self._fell = self._bridged = self._ended = False
        if seg is None:
            return
        if seg.hits >= self.cfg.min_hits:
            if self._digit_ok(seg.acc, seg.hits, ended):
                if self._span_ok(seg):
                    self._queue(seg)
                return
            if (self.cfg.harmonic_lock_hz is not None and self._digit_ok(seg.acc, seg.hits, ended, harmonic=False)
                    and self._span_ok(seg) and self._long_look(
                        seg, self.cfg.harmonic_lock_dominance, self.cfg.long_rise, self.cfg.min_level_dbfs,
                        lock=True) is not None):
                self._queue(seg)
                return
            if seg.bridged:
                # the pieces a bridge joined fail together (one of them was no key): the longest
                # piece that passes alone is the digit (one press, so never more than one piece)
                ends = [(f, la, h, a) for f, la, h, a, _ in seg.bridged] + [(seg.first, seg.last, seg.hits, seg.acc)]
                pieces = []
                for i, (f, la, h, a) in enumerate(ends):
                    f0, h0, a0 = (seg.first, 0, 0.0) if i == 0 else (seg.bridged[i - 1][4], ends[i - 1][2], ends[i - 1][3])
                    pieces.append((h - h0, f0, la, a - a0))
                for h, f, la, a in sorted(pieces, key=lambda p: -p[0]):
                    if h >= self.cfg.min_hits and self._digit_ok(a, h):
                        piece = _Segment(seg.key, f, la, h, a, head=seg.head if f == seg.first else None)
                        if self._span_ok(piece):
                            self._queue(piece)
                        return
        # refused by every check above: the long look decides
        if self._long_ok(seg):
            seg.long = True
            self._queue(seg)

    def _long_ok(self, seg: _Segment) -> bool:
        """The long look at a refused digit (see ``DtmfConfig.long_dominance``)."""
        cfg = self.cfg
        if cfg.long_dominance is None:
            return False

        lock = cfg.harmonic_lock_hz is not None
        if self._long_look(seg, cfg.long_dominance, cfg.long_rise, cfg.min_level_dbfs, lock=lock) is not None:
            return True
        grown = self._grown(seg)
        # the windows did not see the key over the grown span: the tones must rise and stand
        # as the rise path asks (quiet music chords passed otherwise)
        return grown is not None and self._long_look(
            grown, cfg.long_dominance, cfg.rise_span_gain, max(cfg.min_level_dbfs, cfg.rise_level_dbfs),
            lock=lock) is not None

    def _grown(self, seg: _Segment) -> _Segment | None:
        """The segment's span grown over the windows next to it where both of its key's tones
        keep ``long_grow`` of their median power in its own windows (see
        ``DtmfConfig.long_grow``), or None if it does not grow."""
        cfg, H = self.cfg, self.H
        if cfg.long_grow is None:
            return None
        back = cfg.long_grow_back
        w0, w1 = seg.first - back, seg.last + 2  # windows; the last two are always read (see below)
        s0, s1 = (w0 - self._raw_b0) * H, (w1 + 4 - self._raw_b0) * H
        if s0 < 0 or s1 > len(self._raw):
            return None
        pw = self._key_track(seg.key, s0, s1)  # row j: window w0 + j
        ref = np.median(pw[back : back + seg.last - seg.first + 1], axis=0)
        ok = np.all(pw >= cfg.long_grow * ref, axis=1)
        a = back
        while a > 0 and ok[a - 1]:
            a -= 1
        b = back + seg.last - seg.first
        while b + 1 < len(ok) and ok[b + 1]:
            b += 1
        first, last = w0 + a, w0 + b
        if (first, last) == (seg.first, seg.last) or last + 4 - first > cfg.long_max_blocks:
            return None
        return _Segment(seg.key, first, last, seg.hits, seg.acc)

    def _long_look(self, seg: _Segment, dominance: float | None, rise: float, min_level_dbfs: float,
                   twist: tuple[float, float] | None = None, comb: float | None = None,
                   lock: bool = False, halves: bool = False) -> tuple[float, float] | None:
        """One Hann window over the segment's span: the power (A^2) of its low and high tone
        if the span passes (see ``DtmfConfig.long_dominance``; `dominance` None: the rise
        path, no dominance test; `twist`: its limits in dB, else the windows'; `comb`: the
        most the other harmonics of a fundamental both tones fit may hold; `lock`: a partial
        at 2 f counts as a harmonic only if locked to the tone, see ``harmonic_lock_hz``;
        `halves`: the halves' spectral peaks must agree within ``long_drift`` too), else None."""
        cfg, H, rate = self.cfg, self.H, self.rate
        nblk = seg.last + 4 - seg.first
        if nblk > cfg.long_max_blocks:
            return None
        a = (seg.first - self._raw_b0) * H
        L = nblk * H
        g = int(round(cfg.long_gap * rate))
        if a - g - L < 0 or a + L > len(self._raw):  # not in the buffer (cannot happen; be safe)
            return None
        x, X, f, w, norm, nfft = self._span_spectrum(a, L)
        pre = self._raw[a - g - L : a - g].astype(np.float64)
        m = L // 3  # the thirds, each under its own window, phases read at the tone
        wm = np.hanning(m)
        half_spectra: list[np.ndarray] = []  # the halves' spectra (`halves`), read once a tone passed the rest
        lobe = 2.0 * rate / L  # Hann main lobe half width
        n = np.arange(L)
        powers, peaks = [], []
        for f0, band, near, i in self._group_peaks(seg.key, X, f):
            p, q = X[i], f[i]
            level_dbfs = 10 * math.log10(max(p / 2, 1e-30))
            if abs(q / f0 - 1) > cfg.long_freq_dev or level_dbfs < min_level_dbfs:
                return None
            if dominance is not None and p < dominance * self._rival(X, f, band, q, lobe):
                return None
            need = rise
            if 2 * q < rate / 2 and X[int(round(2 * q * nfft / rate))] > cfg.long_harmonic * p:
                if not (lock and 2 * q + lobe < rate / 2 and self._off_lock(X, rate / nfft, 2 * q, lobe)):
                    return None
                need = max(rise, cfg.rise_span_gain)
                if level_dbfs < cfg.rise_level_dbfs:
                    return None
            before = abs(np.dot(pre * w, np.exp(-2j * np.pi * q * n / rate))) ** 2 * norm
            if p < need * before:
                return None
            c = [np.dot(x[j * m:(j + 1) * m] * wm, np.exp(-2j * np.pi * q * np.arange(j * m, (j + 1) * m) / rate))
                 for j in range(3)]
            f12 = np.angle(c[1] * np.conj(c[0])) * rate / (2 * np.pi * m)
            f23 = np.angle(c[2] * np.conj(c[1])) * rate / (2 * np.pi * m)
            if abs(f23 - f12) > cfg.long_drift * f0:
                return None
            if halves:
                # the rise path asks the halves' spectral peaks to agree as well: with no
                # dominance test, the phase alone let espeak's voice name an '8' and a '0'
                # at 16 kHz (a queue announcement)
                if not half_spectra:
                    h = L // 2
                    wh = np.hanning(h)
                    half_spectra = [np.abs(np.fft.rfft(x[j * h:(j + 1) * h] * wh, nfft)) ** 2 for j in (0, 1)]
                q1, q2 = (f[near[np.argmax(Y[near])]] for Y in half_spectra)
                if abs(q1 - q2) > cfg.long_drift * f0:
                    return None
            powers.append(p)
            peaks.append(q)
        if comb is not None and self._voice_comb(X, rate / nfft, peaks, powers) > comb:
            return None
        lo, hi = (self._tw_lo, self._tw_hi) if twist is None else (10 ** (twist[0] / 10), 10 ** (twist[1] / 10))
        if not lo <= powers[1] / powers[0] <= hi:
            return None
        return powers[0], powers[1]

    def _span_spectrum(self, a: int, L: int, grid: int = 8192) -> tuple[np.ndarray, ...]:
        """`L` raw samples from `a` in one Hann window, zero-padded to `grid` points per
        8 kHz (8192: a ~1 Hz grid; at least `L`): the samples, their
        power spectrum (a sine of amplitude A reads A^2), its frequencies, the window, its
        norm and the FFT length (the long look and the span dominance read spans alike)."""
        x = self._raw[a : a + L].astype(np.float64)
        w = np.hanning(L)
        nfft = max(grid * self.rate // 8000, L)
        norm = 4.0 / float(w.sum()) ** 2
        X = np.abs(np.fft.rfft(x * w, nfft)) ** 2 * norm
        return x, X, np.fft.rfftfreq(nfft, 1.0 / self.rate), w, norm, nfft

    def _span_ok(self, seg: _Segment, dominance: float | None = None) -> bool:
        """Whether each tone of a digit the windows found still stands `dominance` (default
        ``span_dominance``) over the strongest other partial of its group across the
        digit's span (its last ``long_max_blocks`` blocks at most): see
        ``DtmfConfig.span_dominance``."""
        cfg, H = self.cfg, self.H
        dominance = cfg.span_dominance if dominance is None else dominance
        if dominance is None:
            return True
        nblk = min(seg.last + 4 - seg.first, cfg.long_max_blocks)
        a = (seg.last + 4 - nblk - self._raw_b0) * H
        L = nblk * H
        if a < 0 or a + L > len(self._raw):  # not in the buffer (cannot happen; be safe)
            return True
        _, X, f, _, _, _ = self._span_spectrum(a, L, grid=2048)  # a 4 Hz grid: the lobe is 50 Hz or more
        lobe = 2.0 * self.rate / L
        return all(X[i] >= dominance * self._rival(X, f, band, f[i], lobe)
                   for _, band, _, i in self._group_peaks(seg.key, X, f))

    def _group_peaks(self, key: int, X: np.ndarray, f: np.ndarray):
        """For the key's low and then high tone, in a span's power spectrum `X` (frequencies
        `f`): the nominal frequency, its group's band (``GROUP_BANDS``), the bins within
        ``band_freq_dev`` of it and the strongest of those (the tone as the span reads it)."""
        for f0, band in zip((LOW_FREQS[key // 4], HIGH_FREQS[key % 4]), GROUP_BANDS):
            near = np.flatnonzero(np.abs(f - f0) <= self.cfg.band_freq_dev * f0)
            yield f0, band, near, int(near[np.argmax(X[near])])

    @staticmethod
    def _rival(X: np.ndarray, f: np.ndarray, band: tuple[float, float], q: float, lobe: float) -> float:
        """The strongest partial of a group's band outside the main lobe around the tone at `q`."""
        lo, hi = band
        return float(X[(f >= lo) & (f <= hi) & (np.abs(f - q) > lobe)].max())

    def _off_lock(self, X: np.ndarray, df: float, q2: float, lobe: float) -> bool:
        """Whether the strongest partial within a main lobe of `q2` (twice a tone's measured
        frequency) lies more than ``harmonic_lock_hz`` from it: an overlay's partial near
        2 f, not the tone's own harmonic (see ``DtmfConfig.harmonic_lock_hz``)."""
        k0, k1 = int((q2 - lobe) / df), int((q2 + lobe) / df) + 1
        peak = k0 + int(np.argmax(X[k0:k1]))
        return abs(peak * df - q2) > self.cfg.harmonic_lock_hz

    @staticmethod
    def _voice_comb(X: np.ndarray, df: float, peaks: list[float], powers: list[float]) -> float:
        """How much a voice the two tones could be: for each fundamental (70 Hz up) that both
        tone frequencies are harmonics of (within 1 %), the median power at its other
        harmonics in 250-3400 Hz (each the strongest bin within 1 %), over the weaker
        tone's; the largest.  A key's two tones have no common comb around them.  `X`: the
        span's power spectrum on a grid of `df` Hz."""
        (ql, qh), weak = peaks, min(powers)
        best = 0.0
        for k in range(2, 11):
            f0 = ql / k
            if f0 < 70.0:
                break
            m = round(qh / f0)
            if abs(qh / f0 - m) * f0 > 0.01 * qh:
                continue
            vals = [X[math.ceil(0.99 * f0 * j / df): math.floor(1.01 * f0 * j / df) + 1].max()
                    for j in range(1, int(3400.0 / f0) + 1) if j not in (k, m) and f0 * j >= 250.0]
            if vals:
                best = max(best, float(np.median(vals)) / weak)
        return best

    def _rise(self, now: bool = False) -> None:
        """The rise path over the windows the new blocks completed, once there are
        ``RISE_BATCH`` of them (`now`: any) (see ``DtmfConfig.rise_gain``): each window's
        tone powers, the key its rising pair names, runs of it across batches (global
        window indices, so chunking cannot show)."""
        H, W, cfg = self.H, self.RISE_BLOCKS, self.cfg
        w0, w1 = self._rnext, self._nb - W + 1  # windows [w0, w1) are complete
        if w1 <= w0 or (w1 - w0 < self.RISE_BATCH and not now):
            return
        self._rnext = w1
        a = (w0 - self._raw_b0) * H
        seg = self._raw[a: a + (w1 - w0 - 1 + W) * H]  # the windows as a strided view (no copy)
        Y = np.lib.stride_tricks.as_strided(seg, (w1 - w0, W * H), (H * seg.strides[0], seg.strides[0]),
                                            writeable=False) @ self._rB
        pw = Y[:, :8].astype(np.float64) ** 2 + Y[:, 8:].astype(np.float64) ** 2
        self._rp = np.concatenate([self._rp, pw])
        E, B, S = self.RISE_BG_EVERY, self.RISE_BG, self.RISE_BG_SKIP
        # a window with every tone 6 dB under the level floor names no key (a run it would
        # join could not pass: _rise_close); a batch of only such windows (a line's silence)
        # costs no background reading
        quiet = pw.max(axis=1) * self._rnorm < self._rfloor
        if quiet.all():
            self._rise_runs(np.full(w1 - w0, -1), w0, w1)
            return
        # the background is read at every E-th window from the windows before it and holds
        # for the next E; the one read at or before w0 holds up to the first here
        t_prev = w0 - w0 % E
        ts = np.arange(w0 + (-w0) % E, w1, E)
        bgs = np.empty((len(ts) + 1, 8))
        bgs[0] = self._bg_read(t_prev) if t_prev < w0 else np.inf
        lo_i, hi_i = np.maximum(0, ts - B - self._rp0), np.maximum(0, ts - S - self._rp0)
        full = hi_i - lo_i == B - S
        if full.sum() > 4:  # a long batch: all readings in one partition
            view = np.lib.stride_tricks.sliding_window_view(self._rp, B - S, axis=0)
            bgs[1:][full] = _quantile(view[lo_i[full]], self.RISE_BG_Q / 100, axis=2)
            full_read = np.flatnonzero(~full).tolist()
        else:  # a live batch (1-4 readings): one at a time is cheaper
            full_read = range(len(ts))
        for j in full_read:
            bgs[j + 1] = self._bg_read(int(ts[j]))
        win = np.arange(w0, w1)
        r = self._rp[w0 - self._rp0:] / np.maximum(bgs[np.searchsorted(ts, win, side="right")], 1e-12)
        lo, hi = np.argmax(r[:, :4], axis=1), np.argmax(r[:, 4:], axis=1)
        n = np.arange(len(r))
        keys = np.where((r[n, lo] >= cfg.rise_gain) & (r[n, 4 + hi] >= cfg.rise_gain) & ~quiet, lo * 4 + hi, -1)
        self._rise_runs(keys, w0, w1)

    def _bg_read(self, t: int) -> np.ndarray:
        """The background at window `t`: the quantile of the windows t - RISE_BG .. t -
        RISE_BG_SKIP (fewer at the stream's start; none under a window's length: inf)."""
        past = self._rp[max(0, t - self.RISE_BG - self._rp0): max(0, t - self.RISE_BG_SKIP - self._rp0)]
        return _quantile(past, self.RISE_BG_Q / 100) if len(past) >= self.RISE_BLOCKS else np.full(8, np.inf)

    def _rise_runs(self, keys: np.ndarray, w0: int, w1: int) -> None:
        """Runs over the keys windows w0..w1 named (-1: none), then trim the power history."""
        # runs of one key, then each run's windows as one (its first, and where a run of
        # another key it sat in the bridge of would end)
        cut = np.flatnonzero(np.diff(keys)) + 1 if keys.max() >= 0 else np.zeros(0, dtype=np.int64)
        for s0, s1 in zip(np.concatenate([[0], cut]).tolist(), np.concatenate([cut, [len(keys)]]).tolist()):
            v = int(keys[s0])
            if v < 0:
                continue  # (a batch naming no key is one such run)
            self._rise_window(v, w0 + s0)
            run = self._rrun
            if run[0] != v and run[2] + self.RISE_BRIDGE + 2 <= w0 + s1 - 1:
                self._rise_window(v, run[2] + self.RISE_BRIDGE + 2)
            if self._rrun[0] == v:
                self._rrun[2], self._rother = w0 + s1 - 1, None
        if self._rrun is not None and w1 - 1 - self._rrun[2] > self.RISE_BRIDGE:
            self._rise_close()
        drop = len(self._rp) - (self.RISE_BG + self.RISE_BLOCKS + self.RISE_BG_EVERY)
        if drop > 0:
            self._rp, self._rp0 = self._rp[drop:], self._rp0 + drop

    def _rise_window(self, v: int, t: int) -> None:
        """Window `t` names key `v`: extend the open run, note `v` inside its bridge, or close
        it and open one (from where `v` began inside the bridge, if it did)."""
        run = self._rrun
        if run is not None and t - run[2] > self.RISE_BRIDGE + 1:
            other = self._rother
            self._rise_close()
            if other is not None and other[0] == v and t - other[1] <= self.RISE_BRIDGE + 1:
                self._rrun = [v, other[1], t]   # it began inside the last run's bridge
                return
            run = None
        if run is None:
            self._rrun = [v, t, t]
        elif run[0] == v:
            run[2], self._rother = t, None
        elif self._rother is None or self._rother[0] != v:
            self._rother = (v, t)   # another key inside the bridge: the run may still go on

    def _rise_close(self) -> None:
        """Judge the open run: long enough, and its span passes the long look by the rise;
        then it waits and merges like a long-look digit."""
        (key, first, last), self._rrun, self._rother = self._rrun, None, None
        cfg = self.cfg
        if last - first + 1 < cfg.rise_windows or last + self.RISE_BLOCKS - first > cfg.long_max_blocks:
            return
        # a tone the long look would find at rise_level_dbfs reads about as much in a 40 ms
        # window inside it; 6 dB under that in every window of the run, it cannot pass
        rows = self._rp[max(0, first - self._rp0): last + 1 - self._rp0][:, [key // 4, 4 + key % 4]]
        if len(rows) and np.any(rows.max(axis=0) * self._rnorm < self._rfloor):
            return
        # a digit the other paths closed already, of this key near it or of another over it,
        # would drop it in _merge_long wherever its tones turn out to start and end (its
        # windows lie within first + 2 .. last + 6): no need to look
        a, b = last + 6, first + 2
        half = cfg.long_merge // 2
        for o in self._done + self._recent:
            if not o.long and (o.first - half <= b and a <= o.last + half if o.key == key else
                               o.first <= b + 8 and a <= o.last + 8):
                return
        # window w covers blocks w..w+7; a segment's window w covers blocks w..w+3
        seg = _Segment(key, first, last + self.RISE_BLOCKS - 4, 0, np.zeros(N_FEAT), long=True)
        tones = self._long_look(seg, None, cfg.rise_span_gain, cfg.rise_level_dbfs, cfg.rise_twist_db, cfg.rise_comb,
                                halves=True)
        if tones is None:
            return
        # the edges: block energy, which gives other digits theirs, is mostly the overlay's
        # here, so they are read from the tones' own 20 ms power along the span instead
        a, b = self._tone_span(seg)
        k = self.H / self.rate
        seg.edges = (a * k, b * k)
        seg.first, seg.last = a, max(a, b - 4)
        seg.hits = seg.last - seg.first + 1
        seg.acc[F_SR], seg.acc[F_SC] = 1.5 * seg.hits * tones[0], 1.5 * seg.hits * tones[1]  # 3 frames of A^2/2
        self._queue(seg)

    def _tone_span(self, seg: _Segment) -> tuple[int, int]:
        """Blocks where the key's two tones sound within the segment's span: the middles of
        the first and last 20 ms windows (1 block apart) in which both hold a quarter of
        their upper-quartile power there (a window half filled by a tone holds a quarter of
        its power)."""
        n = 4
        b0, b1 = seg.first, seg.last + 4
        pw = self._key_track(seg.key, (b0 - self._raw_b0) * self.H, (b1 - self._raw_b0) * self.H)
        on = np.flatnonzero(np.all(pw >= 0.25 * np.percentile(pw, 75, axis=0), axis=1))
        if not on.size:  # cannot happen (the span passed the long look); be safe
            return b0 + n // 2, b1 - n // 2
        return b0 + int(on[0]) + n // 2, b0 + int(on[-1]) + n // 2

    def _queue(self, seg: _Segment) -> None:
        """A closed segment joins the ones waiting to be reported, in time order (the rise
        path closes its runs a little after the other paths close theirs)."""
        i = len(self._done)
        while i and self._done[i - 1].first > seg.first:
            i -= 1
        self._done.insert(i, seg)

    def _digit_ok(self, a: np.ndarray, n: int, ended: bool = False, harmonic: bool = True) -> bool:
        """Digit-level checks on feature sums over `n` hit windows; `ended`: both tones fell
        under ``fine_short_fall`` after the last hit (see ``fine_short_windows``);
        `harmonic` False: all but the harmonic measure."""
        if harmonic and a[F_H] > n:  # mean harmonic measure above the limit: a voice, not a key
            return False
        # frequency must hold still over the digit (whistles and glides wander); power-
        # weighted, so the faint reverb tail after a release does not count like the press
        wl, wh = max(a[F_SR], 1e-30), max(a[F_SC], 1e-30)
        sl = math.sqrt(max(a[F_DL2] / wl - (a[F_DL] / wl) ** 2, 0.0))
        sh = math.sqrt(max(a[F_DH2] / wh - (a[F_DH] / wh) ** 2, 0.0))
        # the fine path's frequency (1 % steps, parabola) is coarser: its digits get more room
        lim = self.cfg.max_freq_spread if not a[F_FN] else self.cfg.fine_freq_spread
        if max(sl, sh) > lim:
            one = self.cfg.spread_one
            if one is None or min(sl, sh) > self.cfg.spread_still or max(sl, sh) > max(one, lim):
                return False
        nf = a[F_FN]
        if nf and n - nf < self.cfg.min_hits and nf < self.cfg.fine_min_windows:
            # a digit that needs the fine path must fill 40 ms several times over, or be a
            # short, still press that ended
            short, still = self.cfg.fine_short_windows, self.cfg.fine_still_windows
            spread = max(sl, sh)
            if not (ended and ((short is not None and nf >= short and spread <= self.cfg.fine_short_spread)
                               or (still is not None and nf >= still and spread <= self.cfg.fine_still_spread))):
                return False
        return True

    def _emit_done(self, final: bool) -> None:
        """Turn closed segments into digits once the blocks after them have been seen.

        Start/end: the blocks inside the hit windows are whole; the blocks before and after
        count by the fraction of the tone's steady block energy they hold (stopping at the
        first block under half), which gives edges to about a millisecond.
        """
        if not self._done:
            return
        M = self.cfg.long_merge
        if final:
            segs, self._done = self._done, []
        else:  # the end edge looks up to 6 blocks past the last hit window; a long-look
            # digit waits long_merge windows more for a digit of its key (in order)
            n = 0
            # the rise path has not read past `frontier`: a digit it finds later starts 2
            # blocks after it at the earliest, so later digits wait (time order)
            frontier = math.inf
            if self.cfg.rise_gain is not None:
                frontier = min([self._rnext] + [r[1] for r in (self._rrun, self._rother) if r is not None]) + 2
            for g in self._done:
                if g.last + 7 + (M if g.long else 0) > self._nb or g.first > frontier:
                    break
                n += 1
            if not n:
                return
            segs, self._done = self._done[:n], self._done[n:]
        if any(g.long for g in segs):
            segs = self._merge_long(segs)
            if not segs:
                return
        first = np.array([g.first for g in segs], dtype=np.int64)
        last = np.array([g.last for g in segs], dtype=np.int64)
        hits = np.array([g.hits for g in segs], dtype=np.float64)
        acc = np.array([g.acc for g in segs])
        sr = acc[:, F_SR] / (3 * hits)
        sc = acc[:, F_SC] / (3 * hits)
        steady = self.H * (sr + sc)

        def frac(b0: np.ndarray) -> np.ndarray:
            idx = b0[:, None] + np.arange(4) - self._eb0
            inside = (idx >= 0) & (idx < len(self._eb))
            e = np.zeros(idx.shape)
            e[inside] = self._eb[idx[inside]]
            return np.minimum(e / steady[:, None], 1.0)

        fs = frac(first - 3)
        for i, g in enumerate(segs):
            if g.head is not None:
                fs[i] = np.minimum(g.head / steady[i], 1.0)
        fs = fs[:, ::-1]  # blocks first, first-1, first-2, first-3
        fe = frac(last + 3)  # blocks last+3 .. last+6
        for f in (fs, fe):  # count blocks up to and including the first one under half
            keep = np.concatenate([np.ones((len(f), 1), bool), np.cumprod(f[:, :-1] >= 0.5, axis=1).astype(bool)], axis=1)
            f *= keep
        k = self.H / self.rate
        start = (first + 1 - fs.sum(axis=1)) * k
        end = (last + 3 + fe.sum(axis=1)) * k
        for i, g in enumerate(segs):
            if g.edges is not None:
                start[i], end[i] = g.edges
        ok = end - start >= self.cfg.min_duration
        lo_db = 10 * np.log10(np.maximum(2 * sr, 1e-30))
        hi_db = 10 * np.log10(np.maximum(2 * sc, 1e-30))
        lvl = 10 * np.log10(np.maximum(sr + sc, 1e-30))  # = 10 log10(2 * mean(sr, sc))
        # rounding (10 us, 0.01 dB) hides float noise from how the stream was chunked
        start, end = np.round(start, 5), np.round(end, 5)
        lvl, lo_db, hi_db = np.round(lvl, 2), np.round(lo_db, 2), np.round(hi_db, 2)
        for i in np.flatnonzero(ok).tolist():
            if self._is_tail(segs[i].key, float(start[i]), float(lvl[i])):
                continue
            last = self._last
            if (self.cfg.same_press_gap is not None and last is not None and last[0] == segs[i].key
                    and start[i] - last[1] < self.cfg.same_press_gap):
                # the rest of the press just reported (see ``same_press_gap``): it is not
                # reported again, and a further piece joins it too
                self._last = (last[0], max(last[1], float(end[i])), last[2])
                continue
            self._last = (segs[i].key, float(end[i]), float(lvl[i]))
            self._recent = self._recent[-15:] + [segs[i]]
            self._out.append(DtmfDigit(KEYS[segs[i].key], float(start[i]), float(end[i]), float(lvl[i]),
                                       float(lo_db[i]), float(hi_db[i]), self.channel))

    def _merge_long(self, segs: list[_Segment]) -> list[_Segment]:
        """Drop each long-look digit that is a fragment of another digit of its key (one
        the other paths found, reported, waiting or still open, or an earlier long-look
        one: `_one_press`), or that overlaps a digit of another key or follows it with
        no 40 ms pause (a voice's partial that outlasted one tone of a press: a "4" at
        the end of a "7" under 0 dB speech)."""
        M = self.cfg.long_merge
        later = self._done + self._recent + ([self._cur] if self._cur is not None else [])
        out: list[_Segment] = []
        # a long-look digit counts once accepted: here, or reported already (in _recent).  Only
        # the first counted: when a long-look and a rise reading of one press went out in two
        # calls (a stream fed in small chunks), the second did not see the first and the key
        # came out twice
        for g in segs:
            if g.long:
                near = [o for o in out + segs + later if o is not g and o.key == g.key
                        and o.first - g.last <= M and g.first - o.last <= M
                        and (not o.long or o in out or o in self._recent)]
                if any(self._one_press(g, o) for o in near):
                    continue
                if any(o.key != g.key and o.first <= g.last + 8 and g.first <= o.last + 8
                       and (not o.long or o in out or o in self._recent) for o in out + segs + later):
                    continue  # it overlaps another key's digit, or leaves no 40 ms pause: one finger, one key
            out.append(g)
        return out

    def _one_press(self, g: _Segment, o: _Segment) -> bool:
        """Whether long-look digit `g` and digit `o` of its key are one press: at most
        ``long_merge`` / 2 windows apart, or both tones keep ``bridge_level`` of `g`'s power
        in every 20 ms window between them (read in the raw history; False where it no
        longer reaches)."""
        a, b = (g, o) if g.first <= o.first else (o, g)
        if b.first - a.last <= self.cfg.long_merge // 2:
            return True
        if self.cfg.bridge_level is None:
            return False
        H = self.H
        i0, i1 = (a.last + 4 - self._raw_b0) * H, (b.first - self._raw_b0) * H
        j0, j1 = (g.first - self._raw_b0) * H, (g.last + 4 - self._raw_b0) * H
        if min(i0, j0) - 2 * H < 0 or max(i1, j1) + 2 * H > len(self._raw):
            return False
        ref = np.median(self._key_track(g.key, j0, j1), axis=0)
        gap = self._key_track(g.key, i0 - 2 * H, i1 + 2 * H)  # windows across the gap's edges too
        return bool(np.all(gap >= self.cfg.bridge_level * ref))

    def _key_track(self, key: int, s0: int, s1: int) -> np.ndarray:
        """Power of a key's two tones (columns: low, high) in the 20 ms Hann windows of the raw
        history starting every block from sample `s0` while they end by `s1` (one at least),
        read with the core's own 20 ms DFT (`_Fb`)."""
        H, n = self.H, 4 * self.H
        r, c = key // 4, 4 + key % 4
        idx = np.arange(s0, max(s1, s0 + n) - n + 1, H)[:, None] + np.arange(n)[None, :]
        y = self._raw[idx] @ self._Fb[:, [r, c, 8 + r, 8 + c]]
        return y[:, :2] ** 2 + y[:, 2:] ** 2

    def _is_tail(self, key: int, start: float, level: float) -> bool:
        """Whether a digit is the room tail of the digit reported before it (see
        ``DtmfConfig.tail_drop_db``)."""
        drop, last = self.cfg.tail_drop_db, self._last
        return (drop is not None and last is not None and key == last[0]
                and start - last[1] <= self.cfg.tail_gap and level <= last[2] - drop)

    def flush(self) -> None:
        H = self.H
        tail = (-len(self._pending)) % H
        pad = np.zeros(tail + 4 * H, dtype=np.float32)
        self.feed(pad)
        self._finish()
        if self.cfg.rise_gain is not None:
            self._rise(now=True)
            if self._rrun is not None:
                self._rise_close()
        self._emit_done(final=True)
        self._other = _Other()

    def take(self) -> list[DtmfDigit]:
        out, self._out = self._out, []
        return out

    @property
    def tone_active(self) -> bool:
        c = self._cur
        return c is not None and c.hits >= self.cfg.min_hits and self._miss == 0

    @property
    def active_digit(self) -> str | None:
        return KEYS[self._cur.key] if self.tone_active and self._cur else None

    @property
    def held_since(self) -> float | None:
        """Start (s) of the earliest digit closed but not yet reported (waiting for the blocks
        after it, a neighbour of its key, or the rise path to read past it), None if none."""
        if not self._done:
            return None
        k = self.H / self.rate  # a digit's start lies at most 4 blocks before its first window's second block
        return max(0.0, min(g.edges[0] if g.edges is not None else (g.first - 3) * k for g in self._done))


# Samples beyond this are clipped to it: far over full scale (+-1.0; raw 32-bit PCM fed as
# numbers stays under it) they come from a corrupt float WAV, and the detector's float32
# powers of a 1e30 sample overflow (digits survive, but numpy printed overflow warnings on
# the user's terminal).
_MAX_SAMPLE = 1e12


def _checked(x: np.ndarray) -> np.ndarray:
    """`x` (float32, 1-D) fit to feed: NaN or inf is the caller's error (one sample of it in
    the detector's carried state, band filter, background averages, raw history, silenced
    every later digit of the stream; checked before any state sees the chunk); finite
    samples beyond +-_MAX_SAMPLE are clipped there."""
    if not x.size:
        return x
    lo, hi = float(x.min()), float(x.max())  # NaN propagates
    if not (math.isfinite(lo) and math.isfinite(hi)):
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ValueError(f"DtmfDetector.feed: samples must be finite float32 numbers (+-1.0 full scale), "
                         f"got {x[i]} at sample {i} of this chunk")
    return x if -_MAX_SAMPLE <= lo and hi <= _MAX_SAMPLE else np.clip(x, -_MAX_SAMPLE, _MAX_SAMPLE)


class DtmfDetector:
    """Streaming DTMF detector for one channel at any sample rate.

    >>> det = DtmfDetector(8000)
    >>> digits = det.feed(chunk)        # digits completed so far (list of DtmfDigit)
    >>> det.tone_active                  # a digit tone is sounding now (barge-in)
    >>> det.pop_starts()                 # ToneStart events since the last call
    >>> digits += det.flush()            # end of stream: the last digit; then reset

    Feeding the same stream in different chunk sizes gives identical digits.  Each batch
    the core analyses costs a fixed ~0.1 ms on top of the per-sample work, so tiny
    chunks (10-20 ms) are slow; `batch_ms` makes the detector gather that much audio
    before analysing it (digits are the same; `tone_active` and start events then lag by
    up to `batch_ms`).  Whole arrays or >= 0.5 s chunks run at full speed.
    """

    def __init__(self, rate: int, config: DtmfConfig | None = None, channel: int = 0, batch_ms: float = 0.0):
        check_rate(rate)
        self.rate = int(rate)
        self.config = config or DtmfConfig()
        self.channel = channel
        self.native_rate = self.rate if self.rate in NATIVE_RATES else (16000 if self.rate >= 16000 else 8000)
        self._core = _Core(self.native_rate, self.config, channel)
        self._rs = None if self.native_rate == self.rate else StreamResampler(self.rate, self.native_rate)
        self._batch = int(batch_ms * self.rate / 1000)
        self._held: list[np.ndarray] = []
        self._n_held = 0

    def feed(self, samples: np.ndarray) -> list[DtmfDigit]:
        """Process the next chunk (1-D float, +-1.0 full scale); return digits completed."""
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ValueError("DtmfDetector.feed takes one channel (1-D samples); use one detector per channel")
        x = _checked(x)
        if self._batch:
            self._held.append(x)
            self._n_held += len(x)
            if self._n_held < self._batch:
                return []
            x = np.concatenate(self._held)
            self._held, self._n_held = [], 0
        if self._rs is not None:
            x = self._rs.feed(x)
        self._core.feed(x)
        return self._core.take()

    def flush(self) -> list[DtmfDigit]:
        """End of stream: return the remaining digits and reset for a new stream."""
        if self._held:
            x = np.concatenate(self._held)
            self._held, self._n_held = [], 0
            self._core.feed(self._rs.feed(x) if self._rs is not None else x)
        if self._rs is not None:
            self._core.feed(self._rs.flush())
            self._rs = StreamResampler(self.rate, self.native_rate)
        self._core.flush()
        out = self._core.take()
        starts = self._core._starts  # still to be popped by the caller
        self._core.reset()
        self._core._starts = starts
        return out

    @property
    def tone_active(self) -> bool:
        """True while a recognised digit tone is sounding (useful for barge-in)."""
        return self._core.tone_active

    @property
    def active_digit(self) -> str | None:
        return self._core.active_digit

    @property
    def held_since(self) -> float | None:
        """Start time (s) of the earliest digit the detector has found but not yet returned
        (it reports some digits up to ~0.5 s after their end: see ``long_merge`` and the
        rise path), None if none: a caller's clock should not run past it, or a timeout
        could come before a key that was pressed before it."""
        return self._core.held_since

    def pop_starts(self) -> list[ToneStart]:
        """Digit-start events since the last call (a digit is announced ~30 ms into its tone)."""
        out, self._core._starts = self._core._starts, []
        return out


def detect(samples: np.ndarray, rate: int, config: DtmfConfig | None = None, channel: int = 0) -> list[DtmfDigit]:
    """Detect the digits of a whole mono signal (convenience around `DtmfDetector`)."""
    det = DtmfDetector(rate, config, channel)
    return det.feed(samples) + det.flush()


def detect_channels(samples: np.ndarray, rate: int, config: DtmfConfig | None = None) -> list[list[DtmfDigit]]:
    """Each channel of ``[frames, channels]`` separately (a call recording has caller and IVR)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    return [detect(np.ascontiguousarray(x[:, c]), rate, config, channel=c) for c in range(x.shape[1])]


def digits_string(digits: list[DtmfDigit]) -> str:
    return "".join(d.digit for d in digits)


__all__ = [
    "DtmfConfig",
    "DtmfDetector",
    "DtmfDigit",
    "ToneStart",
    "FREQS",
    "HIGH_FREQS",
    "KEYS",
    "LOW_FREQS",
    "detect",
    "detect_channels",
    "digits_string",
    "key_freqs",
]
