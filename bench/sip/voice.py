"""Voice callers over SIP: how many callers speaking at once one `ivr serve` answers in time.

    python -m bench.sip --voice 1,2,4,8 [--no-load --cluster no]

Each SIPp caller plays a G.711 capture in which a voice (espeak-ng, Indonesian) reads
GROUPS four-digit groups, one every SLOT_S seconds (the pace of a caller reading a card
number in groups), to a tree of four-digit collects (TREE), then hangs up. The server recognises
them with Whisper (`--speech whisper`): every call its own recogniser and worker thread,
one model for the process. What limits voice callers is the CPU: the decodes of all calls
share the machine's cores, so each answer waits for the others'.

The N callers' calls start spread evenly over one slot, as independent callers would be
(all N speaking in step is the worst case, not the usual one).

Per step (N callers at once, a fresh server): the groups the server heard and answered,
those it did not hear (said while the previous answer was still being worked out: a real
caller would have waited; this one does not, so a late answer shows as a lost group), the
no-matches among the answers, and the answer delay p50 / p90 / max: seconds from the end
of the caller's speech to the answer reaching the call on the call's own audio clock,
CPU waits included (`answer_delay_s` in the call logs, ivr.drivers.speech_input). A step
*fits* when every group was answered and the p90 delay is at most FIT_P90_S.

The voice is synthetic: use the step where answers stop fitting, not the no-match share
(real speakers: `bench.speech --real`).
"""
from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

import numpy as np

GROUPS = 6          # groups per call
GROUP = 4           # digits per group
LEAD_S = 3.0        # the first prompt ("Sebutkan empat angka.") plays before the caller speaks
SLOT_S = 6.5        # a group starts every SLOT_S seconds
TAIL_S = 3.0        # after the last group: the last answer and the closing prompt
FIT_P90_S = 2.0     # an answer within 2 s of the end of speech: a caller does not wonder

TREE = """\
version: 1
start: g1
global_keys: {agent: null, back: null}
defaults:
  prompts: {invalid: "Nomor tidak valid.", nomatch: "Maaf, tidak dapat dikenali.",
            timeout: "Maaf, kami belum menerima jawaban Anda.", exit: "Maaf, batas percobaan habis."}
nodes:
""" + "".join(
    f"""  g{i}:
    type: collect
    var: g{i}
    min_length: {GROUP}
    max_length: {GROUP}
    prompts: {{greet_long: "Sebutkan empat angka.", greet_short: "Sebutkan empat angka."}}
    on_exceeded: {{goto: {"selesai" if i > GROUPS else f"g{i + 1}"}}}
    next: {"selesai" if i > GROUPS else f"g{i + 1}"}
""" for i in range(1, GROUPS + 2)) + """  selesai: {type: hangup, prompt: "Terima kasih."}
"""
# One collect more than the caller answers: the caller hangs up while it listens (SIPp's
# scenario ends the call; a server BYE during its pause would count the call as failed).


def call_seconds() -> float:
    return LEAD_S + GROUPS * SLOT_S + TAIL_S


def groups(seed: int = 165) -> list[str]:
    """The digit groups the caller reads (the same for every caller: the answers are judged
    on time, not on what they say)."""
    rng = random.Random(seed)
    return ["".join(rng.choice("0123456789") for _ in range(GROUP)) for _ in range(GROUPS)]


def caller_audio(digit_groups: list[str], rate: int = 8000) -> np.ndarray:
    """The caller's side of the call at `rate`: each group read by espeak-ng at its slot."""
    from bench.speech_set import RATE as SYNTH_RATE, synth
    from ivr.dsp.audio import resample
    from ivr.speech.asr.rescore import spoken

    x = np.zeros(int(call_seconds() * rate), np.float32)
    for i, g in enumerate(digit_groups):
        y = 0.6 * resample(synth(spoken(g)), SYNTH_RATE, rate)
        at = int((LEAD_S + i * SLOT_S) * rate)
        x[at:at + len(y)] += y[: len(x) - at]
    return x


def write_pcap(path: Path) -> Path:
    from bench.sip import pcap

    return pcap.write_packets(path, pcap.audio_packets(caller_audio(groups()), []))


def scenario(here: Path, tmp: Path) -> Path:
    """The in-band caller's scenario, playing voice.pcap and staying on for the whole call."""
    text = (here / "caller_inband.xml").read_text(encoding="iso-8859-1")
    text = text.replace('play_pcap_audio="inband.pcap"', 'play_pcap_audio="voice.pcap"')
    text = text.replace('<pause milliseconds="25000"/>', f'<pause milliseconds="{int(call_seconds() * 1000)}"/>')
    if "voice.pcap" not in text or str(int(call_seconds() * 1000)) not in text:
        raise SystemExit("bench.sip: caller_inband.xml changed; the voice caller cannot be made from it")
    out = tmp / "caller_voice.xml"
    out.write_text(text, encoding="iso-8859-1")
    return out


def answers(log_dir: Path) -> list[dict]:
    """Every speech answer in the call logs: {"delay": s, "nomatch": bool, "call": log name,
    "slot": the group it answers}.  The slot is read from when the caller stopped speaking
    (the answer's time less its delay), so a late answer still counts for its own group
    and a group Whisper answered in two parts counts once."""
    out = []
    for p in sorted(log_dir.glob("call-*.jsonl")):
        for line in p.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            res = rec.get("result") if rec.get("rec") == "event" and rec.get("type") == "Speech" else None
            if not isinstance(res, dict) or not isinstance(res.get("extra"), dict):
                continue
            delay = res["extra"].get("answer_delay_s")
            if delay is not None:
                spoken_end = float(rec.get("t", 0.0)) - float(delay)
                slot = min(GROUPS - 1, max(0, int((spoken_end - LEAD_S) // SLOT_S)))
                out.append({"delay": float(delay), "nomatch": bool(res.get("nomatch")), "call": p.name,
                            "slot": slot})
    return out


def summary(n: int, found: list[dict], cpu_s: float, wall_s: float, cores: int) -> dict:
    """One step's figures (see the module docstring)."""
    d = sorted(a["delay"] for a in found)
    p90 = d[min(len(d) - 1, int(0.9 * len(d)))] if d else float("nan")
    expected = n * GROUPS
    groups_heard = len({(a["call"], a["slot"]) for a in found})
    return {"callers": n, "expected": expected, "answered": groups_heard, "lost": max(0, expected - groups_heard),
            "split": len(found) - groups_heard, "nomatch": sum(a["nomatch"] for a in found),
            "p50": round(statistics.median(d), 2) if d else float("nan"), "p90": round(p90, 2),
            "max": round(d[-1], 2) if d else float("nan"),
            "cpu_pct": round(100 * cpu_s / max(wall_s, 1e-9) / max(1, cores), 1),
            "fits": bool(d) and groups_heard >= expected and p90 <= FIT_P90_S}
