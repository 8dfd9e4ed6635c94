"""Speech bench: every engine on the generated set, per condition.

    python -m bench.speech [--quick] [--engines whisper,pocketsphinx] [--conditions clean,white10]
                           [--rates 16000,8000] [--limit N]

Prints per engine x condition x rate: digit (word) accuracy and utterance accuracy on digit
strings, keyword accuracy, out-of-grammar rejection, real-time factor and end-of-speech
latency (median and p90).  Latency is "end of speech -> result ready" when the result is
taken as soon as it is ready: for Whisper the pause detection (0.15 s) plus the speculative
decode started at the pause; for streaming engines the pause detection plus finish().

The set is espeak-ng speech (bench/speech_set.py): regression floors and plumbing only.
Baselines from the same run: "no-spec med" is the latency had Whisper waited for the
endpointer (0.6 s) before decoding; "ratio baseline" re-scores the same transcripts with
plain string ratio >= 0.75 instead of the phonetic matcher.

Real speakers behave differently (see README / issue 7); do not tune on these figures.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.speech_set import CONDITIONS, apply_condition, build_set


def lev(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def ratio_baseline(text: str, grammar) -> tuple[str | None, str | None]:
    """The issue's earlier matcher, as a baseline on the same transcripts: plain string
    ratio (difflib) >= 0.75 to a phrase (menus) or to a digit word per token (digits)."""
    from difflib import SequenceMatcher

    from ivr.engine.grammar import DIGIT_WORDS
    from ivr.speech.asr.phonetic import normalise_text

    words = normalise_text(text)
    ratio = lambda a, b: SequenceMatcher(None, a, b).ratio()  # noqa: E731
    if grammar.digits:
        out = ""
        for w in words:
            best = max(DIGIT_WORDS, key=lambda d: ratio(w, d))
            if ratio(w, best) < 0.75:
                return None, None
            out += DIGIT_WORDS[best]
        ok = bool(out) and grammar.min_digits <= len(out) <= grammar.max_digits
        return (out if ok else None), None
    phrase = " ".join(words)
    best = max(((ratio(phrase, p), c.token) for c in grammar.choices for p in c.phrases), default=(0.0, None))
    return None, (best[1] if best[0] >= 0.75 else None)


def run_engine(rec, items, condition: str, rate: int) -> dict:
    """Score one engine on one condition; returns the figures."""
    import zlib

    dig_acc, utt_ok, kw_ok, oog_rej, lat, dec, audio_s = [], [], [], [], [], 0.0, 0.0
    base_utt, base_kw, base_rej, lat_nospec = [], [], [], []
    for it in items:
        x = apply_condition(it.audio, condition, rate, seed=zlib.crc32(f"{it.id}/{condition}".encode()))
        t0 = time.perf_counter()
        rec.start(it.grammar)
        for i in range(0, len(x), 1600):
            rec.feed(x[i:i + 1600])
        t1 = time.perf_counter()
        r = rec.finish()
        t_fin = time.perf_counter() - t1
        dec += time.perf_counter() - t0
        audio_s += len(x) / 16000
        if "latency" in r.extra:
            lat.append(r.extra["latency"])
            if "decode_s" in r.extra:  # baseline: decode only once the endpointer is sure
                lat_nospec.append(rec._ep.cfg.end_ms / 1000 + r.extra["decode_s"])
        else:
            lat.append(0.15 + t_fin)
        b_digits, b_choice = ratio_baseline(r.text, it.grammar)
        if it.kind == "digits":
            hyp = "" if r.nomatch else (r.digits or "")
            dig_acc.append(max(0.0, 1 - lev(it.expected, hyp) / len(it.expected)))
            utt_ok.append(hyp == it.expected)
            base_utt.append(b_digits == it.expected)
        elif it.kind == "keyword":
            kw_ok.append(not r.nomatch and r.choice == it.expected)
            base_kw.append(b_choice == it.expected)
        else:
            oog_rej.append(bool(r.nomatch))
            base_rej.append(b_digits is None and b_choice is None)
    mean = lambda v: float(np.mean(v)) if v else float("nan")  # noqa: E731
    return {
        "digit_acc": mean(dig_acc), "digit_utt_acc": mean(utt_ok), "keyword_acc": mean(kw_ok),
        "oog_reject": mean(oog_rej), "rtf": dec / audio_s if audio_s else 0.0,
        "latency_median": statistics.median(lat) if lat else float("nan"),
        "latency_p90": float(np.percentile(lat, 90)) if lat else float("nan"), "n": len(items),
        "latency_median_nospec": statistics.median(lat_nospec) if lat_nospec else float("nan"),
        "ratio_digit_utt_acc": mean(base_utt), "ratio_keyword_acc": mean(base_kw), "ratio_oog_reject": mean(base_rej),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="speech recognition bench on generated Indonesian speech")
    ap.add_argument("--quick", action="store_true", help="small set (12 digit strings, 12 keywords, 6 OOG)")
    ap.add_argument("--engines", default="whisper,pocketsphinx")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--rates", default="16000,8000")
    ap.add_argument("--limit", type=int, default=0, help="at most N utterances per condition (0 = all)")
    args = ap.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    from ivr.speech.asr import create_recognizer

    t = time.perf_counter()
    items = build_set(args.quick)
    if args.limit:
        rng = np.random.default_rng(1)
        items = [items[int(i)] for i in sorted(rng.choice(len(items), min(args.limit, len(items)), replace=False))]
    print(f"test set: {len(items)} utterances "
          f"({sum(i.kind == 'digits' for i in items)} digit strings, {sum(i.kind == 'keyword' for i in items)} keywords, "
          f"{sum(i.kind == 'oog' for i in items)} out-of-grammar), synthesised in {time.perf_counter() - t:.1f} s")
    table = Table(title="speech bench (espeak-ng Indonesian; synthetic: regression floors only)")
    for col in ("engine", "condition", "rate", "digit acc", "digit utt acc", "keyword acc", "OOG rejected",
                "RTF", "latency med", "latency p90", "no-spec med", "ratio baseline utt/kw/rej"):
        table.add_column(col, justify="right")
    from ivr.speech.asr import RecognizerError

    for eng in args.engines.split(","):
        try:
            rec = create_recognizer(eng)
        except RecognizerError as exc:
            print(f"{eng}: skipped ({exc})")
            continue
        for cond in args.conditions.split(","):
            for rate in (int(r) for r in args.rates.split(",")):
                f = run_engine(rec, items, cond, rate)
                table.add_row(eng, cond, f"{rate // 1000}k", f"{f['digit_acc']:.3f}", f"{f['digit_utt_acc']:.3f}",
                              f"{f['keyword_acc']:.3f}", f"{f['oog_reject']:.3f}", f"{f['rtf']:.3f}",
                              f"{f['latency_median']:.2f}s", f"{f['latency_p90']:.2f}s",
                              "-" if np.isnan(f["latency_median_nospec"]) else f"{f['latency_median_nospec']:.2f}s",
                              f"{f['ratio_digit_utt_acc']:.2f}/{f['ratio_keyword_acc']:.2f}/{f['ratio_oog_reject']:.2f}")
                print(eng, cond, rate, {k: round(v, 3) for k, v in f.items()}, flush=True)
        rec.close()
    Console(width=160).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
