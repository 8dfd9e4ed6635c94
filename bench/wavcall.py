"""WAV-piped call throughput: how much faster than real time a recorded caller runs.

    python -m bench.wavcall [--repeat 5]

For each caller fixture in audio_fixtures/, measured in the same run:
  * baseline: the DTMF detector alone over the same audio (the floor of any WAV call);
  * call: the whole call (detector + engine + services + prompt timing from the TTS cache),
    keys only: speech recognition off (the goal is for DTMF-only calls);
Prompts are rendered once beforehand (the cache), as they are after `ivr tts render`.
Goal (issue 3): >= 200x real time for DTMF-only calls.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from ivr.dsp.dtmf import DtmfDetector  # noqa: E402
from ivr.drivers.runtime import CallRuntime  # noqa: E402
from ivr.drivers.wavfile import CHUNK_S, AudioCall, load_caller_audio  # noqa: E402
from ivr.jkn.services import JknServices  # noqa: E402
from ivr.tree.loader import load_tree  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    from ivr.speech.voice import TtsVoice

    tree = load_tree(ROOT / "menus" / "vika.yaml")
    voice = TtsVoice.create()
    for text in tree.prompt_texts():
        voice.duration(text)
    services = JknServices(":memory:")
    print(f"{'fixture':28s} {'audio s':>8s} {'detector only':>15s} {'whole call':>12s}  outcome")
    worst = float("inf")
    for wav in sorted((ROOT / "audio_fixtures").glob("*.wav")):
        samples, rate = load_caller_audio(wav)
        secs = len(samples) / rate
        n = int(rate * CHUNK_S)

        def detector_only():
            det = DtmfDetector(rate)
            for i in range(0, len(samples), n):
                det.feed(samples[i:i + n])
                det.pop_starts()
            det.flush()

        def whole_call():
            rt = CallRuntime(tree, services=services, today=dt.date(2026, 11, 23))
            call = AudioCall(rt, rate, voice)
            call.begin()
            call.feed(samples)
            call.end_of_audio()
            return rt.session.stats.outcome

        figures = []
        outcome = None
        for fn in (detector_only, whole_call):
            outcome = fn() or outcome
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.process_time()
                fn()
                best = min(best, time.process_time() - t0)
            figures.append(secs / best)
        worst = min(worst, figures[1])
        print(f"{wav.name:28s} {secs:8.1f} {figures[0]:14,.0f}x {figures[1]:11,.0f}x  {outcome}")
    print(f"slowest whole call: {worst:,.0f}x real time (goal >= 200x: {'met' if worst >= 200 else 'NOT met'})")
    print("note: keys only (speech recognition off); a call stops reading audio once it has ended.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
