"""Voice-call bench: simulated callers speak a 16-digit number into the real call engine.

    python -m bench.voicecall --real DIR [--calls N] [--rates 16000,8000] [--confirm-below 0.85]

Each simulated caller is built from development-set audio (DIR: the INDspeech digit `train`
split, read from where the user put it, never shipped; bench/speech_real.py): four
four-digit utterances of one held-out speaker make the 16-digit number. The caller bot
(`CallerBot`) listens to what the IVR does, turn by turn, through the WAV driver
(`ivr.drivers.wavfile.AudioCall`, the Whisper recogniser behind it) and answers:

  * the IVR listens for digits: it says the next group (the same group again after a
    "silakan ulangi" or a no-match; from the first group after a greeting);
  * the IVR reads a number back: it presses 1 when the digits are its own, 2 when not
    (DTMF: the set has no recordings of "ya"/"tidak");
  * the IVR offers the keypad: it keys the whole number and #.

A group said again is the same recording slowed to 0.92x (a caller repeating slows down).

Two collects in the same run: `dialogue` (confirm_below, groups: 4, keys_after: 2, as in
menus/vika.yaml's NIK collects) and `plain` (the collect without them: the groups are said
one after another and only their length is checked), at 16 kHz and 8 kHz mu-law. Printed
per condition: share of calls that end with the right 16 digits, share that end with a
wrong number accepted silently, share that needed the keypad, turns per call (the caller's
utterances and keys), median call time (audio seconds from the first prompt).
Goals (issue 14): >= 0.95 right, <= 0.005 wrong accepted silently.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "2")

from ivr.dsp.dtmf_gen import generate as dtmf_tones  # noqa: E402
from ivr.drivers.runtime import CallRuntime  # noqa: E402
from ivr.drivers.wavfile import AudioCall  # noqa: E402
from bench.stats import fmt, trials_to_show, wilson  # noqa: E402
from ivr.tree.loader import load_tree_text  # noqa: E402

LENGTH, GROUP = 16, 4
RIGHT_GOAL, WRONG_GOAL = 0.95, 0.005  # issue 14: calls ending right / wrong kept silently
_TREE = """
version: 1
start: nomor
global_keys: {{agent: null, back: null}}
global_words: {{repeat: [ulangi]}}
defaults:
  prompts: {{invalid: "Nomor tidak valid.", nomatch: "Maaf, kami tidak dapat mengenali jawaban Anda.",
            timeout: "Maaf, kami belum menerima jawaban Anda.", exit: "Maaf, batas percobaan habis."}}
nodes:
  nomor:
    type: collect
    var: nomor
    min_length: 16
    max_length: 16
{extra}    prompts:
      greet_long: "Sebutkan 16 digit nomor Anda, per empat angka."
      greet_short: "Sebutkan 16 digit nomor Anda."
    on_exceeded: hangup
    next: selesai
  selesai: {{type: hangup, prompt: "Terima kasih."}}
"""


def bench_tree(dialogue: bool, confirm_below: float = 0.85):
    """The 16-digit collect the callers answer: with the recovering dialogue or plain."""
    extra = (f"    confirm_below: {confirm_below}\n    groups: {GROUP}\n    keys_after: 2\n" if dialogue else "")
    return load_tree_text(textwrap.dedent(_TREE).format(extra=extra), "bench-voicecall.yaml")


def silence(rate: int, seconds: float) -> np.ndarray:
    return np.zeros(int(rate * seconds), dtype=np.float32)


def slower(x: np.ndarray, factor: float = 0.92) -> np.ndarray:
    """The same utterance said a little slower (resampled; pitch drops a little too)."""
    n = int(len(x) / factor)
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)


@dataclass
class CallOutcome:
    right: bool
    wrong: bool          # ended with a wrong number stored: accepted silently
    keyed: bool          # the keypad was offered and used
    turns: int
    seconds: float
    value: str = ""
    prompts: list[str] = field(default_factory=list)


class CallerBot:
    """A caller who answers a digit collect with recorded groups (see the module docstring).

    `groups`: (digits, audio at `rate`) in order; `call`: an AudioCall with a speech input."""

    def __init__(self, call: AudioCall, rate: int, groups: list[tuple[str, np.ndarray]], var: str = "nomor"):
        self.call, self.rt, self.rate = call, call.rt, rate
        self.groups = groups
        self.number = "".join(d for d, _ in groups)
        self.var = var
        self.turns = 0
        self.keyed = False
        self._said = [0] * len(groups)   # how often each group was said (a repeat is slower)

    # ---- the line ---------------------------------------------------------------------------
    def _feed(self, x: np.ndarray) -> None:
        if not self.rt.ended:
            self.call.feed(x)

    def _wait_ready(self, limit_s: float = 120.0) -> None:
        """Hear the IVR out: silence until it listens with no prompt playing."""
        step = silence(self.rate, 0.1)
        for _ in range(int(limit_s / 0.1)):
            s = self.rt.session
            if self.rt.ended or (s.listening is not None and not s.playing):
                return
            self._feed(step)

    def _answer_heard(self, before: int, limit_s: float = 6.0) -> None:
        """Silence after an utterance until the recogniser's answer reached the IVR."""
        step = silence(self.rate, 0.1)
        for _ in range(int(limit_s / 0.1)):
            if self.rt.ended or sum(1 for line in self.rt.transcript if line.who == "caller") > before:
                return
            self._feed(step)

    def _speak(self, i: int) -> None:
        digits, audio = self.groups[i]
        x = audio if self._said[i] == 0 else slower(audio)
        self._said[i] += 1
        before = sum(1 for line in self.rt.transcript if line.who == "caller")
        self.turns += 1
        self._feed(silence(self.rate, 0.3))
        self._feed(x)
        self._answer_heard(before)

    def _keys(self, keys: str) -> None:
        self.turns += 1
        self._feed(dtmf_tones(keys, rate=self.rate, lead_ms=200, trail_ms=600))

    # ---- the dialogue ---------------------------------------------------------------------
    def run(self, max_turns: int = 40) -> CallOutcome:
        s = self.rt.session
        heard = 0
        i = 0
        last = "start"
        while not self.rt.ended and self.turns < max_turns:
            self._wait_ready()
            if self.rt.ended:
                break
            new = s.stats.prompts[heard:]
            heard = len(s.stats.prompts)
            names = [p.prompt for p in new]
            if "readback" in names:
                said = re.sub(r"\D", "", [p for p in new if p.prompt == "readback"][-1].text.split(".")[0])
                mine = self.number if len(said) == LENGTH else self.groups[min(i, len(self.groups) - 1)][0]
                if said == mine:
                    self._keys("1")
                    i = i + 1 if len(said) != LENGTH else i
                    last = "yes"
                else:
                    self._keys("2")
                    last = "no"
                continue
            if "use_keys" in names:
                self.keyed = True
                self._keys(self.number + "#")
                last = "keys"
                continue
            if "greet_long" in names or "greet_short" in names:
                i = 0                                   # the number from the start
            elif names:
                pass                                    # no-match, "silakan ulangi": the same group again
            elif last == "group":
                i += 1                                  # taken in silence: the next group
            if i >= len(self.groups):
                break
            self._speak(i)
            last = "group"
        if not self.rt.ended:
            self.call.end_of_audio()
        value = s.vars.get(self.var, "")
        return CallOutcome(value == self.number, bool(value) and value != self.number, self.keyed, self.turns,
                           self.call.t, value, [p.prompt for p in s.stats.prompts])


def run_call(tree, rate: int, groups, speech) -> CallOutcome:
    """One simulated caller through the real engine and WAV driver."""
    rt = CallRuntime(tree, today=dt.date(2026, 11, 23))
    call = AudioCall(rt, rate, None, speech=speech)
    call.begin()
    return CallerBot(call, rate, groups).run()


# ---- the development set ----------------------------------------------------------------------
def callers(root: Path, rate: int, n_calls: int, seed: int = 7):
    """Per simulated caller: four 4-digit utterances of one held-out speaker (audio at `rate`)."""
    from bench.speech_real import load_real
    from ivr.drivers.wavfile import load_caller_audio

    items = [it for it in load_real(root, "heldout") if len(it.digits) == GROUP]
    by_spk: dict[str, list] = {}
    for it in items:
        by_spk.setdefault(it.speaker, []).append(it)
    spk = sorted(k for k, v in by_spk.items() if len(v) >= 4)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_calls):
        mine = by_spk[spk[k % len(spk)]]
        pick = [mine[int(j)] for j in rng.choice(len(mine), 4, replace=False)]
        groups = []
        for it in pick:
            x, r = load_caller_audio(it.path16 if rate == 16000 else it.path8)
            if r != rate:
                raise SystemExit(f"bench.voicecall: {it.path16.name}: {r} Hz, expected {rate}")
            groups.append((it.digits, x))
        out.append((spk[k % len(spk)], groups))
    return out


def summary(rows: list[CallOutcome]) -> dict:
    n = len(rows)
    right, wrong = sum(r.right for r in rows), sum(r.wrong for r in rows)
    return {"calls": n, "right": right / n, "wrong": wrong / n,
            "right_ci": wilson(right, n), "wrong_ci": wilson(wrong, n),
            "keyed": sum(r.keyed for r in rows) / n, "turns": statistics.mean(r.turns for r in rows),
            "median_s": statistics.median(r.seconds for r in rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", metavar="DIR", required=True, help="the unpacked development set (train split)")
    ap.add_argument("--calls", type=int, default=40, help="simulated callers per condition (default %(default)s)")
    ap.add_argument("--rates", default="16000,8000")
    ap.add_argument("--confirm-below", type=float, default=0.85)
    ap.add_argument("--modes", default="dialogue,plain")
    args = ap.parse_args(argv)
    root = Path(args.real)
    if not (root / "speech").is_dir() or not (root / "text").is_dir():
        print(f"bench.voicecall: {root}: the development set is not here (expected speech/ and text/; "
              "README 'Speech recognition' says how to get it). Nothing measured.")
        return 2
    from bench.speech_real import RealSetError
    from ivr.drivers.speech_input import RecognizerInput
    from ivr.speech.asr import RecognizerError, create_recognizer

    try:
        rec = create_recognizer("whisper")
    except RecognizerError as exc:
        print(f"bench.voicecall: {exc}")
        return 2
    print(f"{'rate':>6s} {'collect':9s} {'calls':>5s} {'right':>6s} {'(95 %)':>11s} {'wrong':>6s} {'(95 %)':>11s} "
          f"{'keyed':>6s} {'turns':>6s} {'median s':>9s}", flush=True)
    ok, shown = True, True
    for rate in (int(r) for r in args.rates.split(",")):
        try:
            people = callers(root, rate, args.calls)
        except RealSetError as exc:
            print(f"bench.voicecall: {exc}. Nothing measured.")
            return 2
        for mode in args.modes.split(","):
            tree = bench_tree(mode == "dialogue", args.confirm_below)
            rows = [run_call(tree, rate, groups, RecognizerInput(rec)) for _, groups in people]
            f = summary(rows)
            if mode == "dialogue":
                ok &= f["right"] >= RIGHT_GOAL and f["wrong"] <= WRONG_GOAL
                shown &= f["right_ci"][0] >= RIGHT_GOAL and f["wrong_ci"][1] <= WRONG_GOAL
            print(f"{rate:6d} {mode:9s} {f['calls']:5d} {f['right']:6.3f} {fmt(*f['right_ci']):>11s} "
                  f"{f['wrong']:6.3f} {fmt(*f['wrong_ci']):>11s} {f['keyed']:6.3f} "
                  f"{f['turns']:6.1f} {f['median_s']:9.1f}", flush=True)
    print(f"goals (dialogue: right >= {RIGHT_GOAL}, wrong accepted silently <= {WRONG_GOAL}): "
          f"{'met' if ok else 'NOT met'} by the shares; "
          + ("shown at 95 % too" if shown else
             f"not yet shown at 95 % (with no wrong call, the upper bound reaches {WRONG_GOAL} "
             f"after {trials_to_show(WRONG_GOAL)} calls per condition)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
