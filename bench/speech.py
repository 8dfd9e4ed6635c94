"""Speech bench: every engine on the generated set, per condition; or on real speakers.

    python -m bench.speech [--quick] [--engines whisper,pocketsphinx] [--conditions clean,white10]
                           [--rates 16000,8000] [--limit N]
    python -m bench.speech --real DIR [--speakers heldout] [--limit N] [--oog N] [--dump FILE]

--real DIR (the INDspeech digit development set, see bench/speech_real.py) prints, per
condition (16 kHz, 8 kHz mu-law) and grammar (any length, expected length): digit and
utterance accuracy, no-match share, wrong answers accepted, out-of-grammar rejection, median
and p90 end-of-speech -> result latency, for our Whisper decoding and for plain
faster-whisper `transcribe` on the same files, interleaved file by file in the same run,
with the ratios.  Plain `transcribe` is given what a live call gives it: the endpointer's
0.6 s, then the decode.  Accuracies come with a 95 % interval (bench/stats.py: utterances
resampled for digit accuracy, Wilson for utterance accuracy): 200 utterances leave about
+-0.015 on digit accuracy, more across speakers.

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
from bench.stats import bootstrap, fmt, wilson


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

    from ivr.grammar import DIGIT_WORDS
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


def _feed(rec, x, grammar):
    rec.start(grammar)
    for i in range(0, len(x), 1600):
        rec.feed(x[i:i + 1600])
    return rec.finish()


def _score(rows: list[dict]) -> dict:
    """Figures for one (system, condition, grammar) from per-utterance rows."""
    ing = [r for r in rows if r["truth"] is not None]
    oog = [r for r in rows if r["truth"] is None]
    mean = lambda v: float(np.mean(v)) if v else float("nan")  # noqa: E731
    lat = [r["latency"] for r in ing]
    dacc = [max(0.0, 1 - lev(r["truth"], r["hyp"]) / len(r["truth"])) for r in ing]
    right = sum(r["hyp"] == r["truth"] for r in ing)
    return {
        "n": len(ing), "digit_acc": mean(dacc), "digit_acc_ci": bootstrap(dacc),
        "utt_acc": mean([r["hyp"] == r["truth"] for r in ing]), "utt_acc_ci": wilson(right, len(ing)),
        "nomatch": mean([r["nomatch"] for r in ing]),
        "wrong_accepted": mean([(not r["nomatch"]) and r["hyp"] != r["truth"] for r in ing]),
        "oog_n": len(oog), "oog_reject": mean([r["nomatch"] for r in oog]),
        "lat_med": statistics.median(lat) if lat else float("nan"),
        "lat_p90": float(np.percentile(lat, 90)) if lat else float("nan"),
        "decode_med": statistics.median([r["decode"] for r in ing]) if ing else float("nan"),
    }


def run_real(args) -> int:
    """Our decoding against plain `transcribe` on real speakers (see the module docstring)."""
    import json
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from bench.speech_real import RealSetError, digit_grammar, load_real, menu_grammar
    from ivr.speech.asr import RecognizerError, create_recognizer
    from ivr.speech.asr.audio_in import load_pcm

    root = Path(args.real)
    if not root.exists():
        print(f"bench.speech: {root}: no such directory; the real development set is not here "
              "(README 'Speech recognition' says how to get it). Nothing measured.")
        return 2
    try:
        items = load_real(root, args.speakers, args.limit)
    except RealSetError as exc:
        print(f"bench.speech: {exc}. Nothing measured.")
        return 2
    try:
        ours = create_recognizer("whisper", live=False)
        base = create_recognizer("whisper", decoder="transcribe", speculative=False, live=False)
    except RecognizerError as exc:
        print(f"bench.speech: {exc}")
        return 2
    systems = [(n, r) for n, r in (("ours", ours), ("transcribe", base)) if n in args.systems.split(",")]
    spk = sorted({i.speaker for i in items})
    print(f"real set: {len(items)} utterances, speakers {','.join(spk)} ({args.speakers})", flush=True)
    dump = open(args.dump, "w") if args.dump else None
    rows: dict[tuple, list] = {}
    free, menu = digit_grammar(), menu_grammar()
    n_oog = args.oog
    for cond in args.real_conditions.split(","):
        for k, it in enumerate(items):
            x = load_pcm(str(it.path8 if cond == "8k" else it.path16))
            runs = [("any length", free, x, it.digits), ("expected length", digit_grammar(len(it.digits)), x, it.digits)]
            runs = [r for r in runs if r[0].split()[0] in args.grammars.split(",")]
            if k < n_oog:
                runs += [("oog: digits vs words", menu, x, None), ("oog: reversed vs digits", free, x[::-1].copy(), None)]
            for gname, g, audio, truth in runs:
                for sysname, rec in systems:
                    if sysname == "transcribe" and gname == "expected length":
                        continue  # same decode as "any length"; rescored below
                    r = _feed(rec, audio, g)
                    row = {"id": it.id, "cond": cond, "grammar": gname, "sys": sysname, "truth": truth,
                           "hyp": "" if r.nomatch else (r.digits or r.choice or ""), "nomatch": r.nomatch,
                           "conf": r.confidence, "latency": r.extra.get("latency", float("nan")),
                           "decode": r.extra.get("decode_s", float("nan")), "text": r.text,
                           "fallback": r.extra.get("fallback", ""), "stages": r.extra.get("stages", {}),
                           "alternatives": r.extra.get("alternatives", []), "rescored": r.extra.get("rescored"),
                           "second_opinions": r.extra.get("second_opinions", 0)}
                    rows.setdefault((sysname, cond, gname), []).append(row)
                    if sysname == "transcribe" and gname == "any length":
                        m = base.matcher.__class__(digit_grammar(len(it.digits)), base.min_similarity).match(r.text)
                        row2 = dict(row, grammar="expected length", hyp="" if m.nomatch else (m.digits or ""),
                                    nomatch=m.nomatch)
                        rows.setdefault((sysname, cond, "expected length"), []).append(row2)
                    if dump:
                        dump.write(json.dumps(row, ensure_ascii=False) + "\n")
            if (k + 1) % 25 == 0:
                print(f"  {cond}: {k + 1}/{len(items)}", flush=True)
    ours.close()
    base.close()
    if dump:
        dump.close()
    table = Table(title=f"real speakers ({args.speakers}: {','.join(spk)}), same run; latency = end of speech -> result")
    for col in ("system", "cond", "grammar", "n", "digit acc (95 %)", "utt acc (95 %)", "no-match", "wrong accepted",
                "OOG rejected", "lat med", "lat p90", "decode med"):
        table.add_column(col, justify="right")
    figures = {}
    for key in sorted(rows, key=lambda k: (k[1], k[2].startswith("oog"), k[2], k[0])):
        f = figures[key] = _score(rows[key])
        sysname, cond, gname = key
        oog = gname.startswith("oog")
        table.add_row(sysname, cond, gname, str(f["oog_n"] if oog else f["n"]),
                      *(["-"] * 4 if oog else [f"{f['digit_acc']:.3f} ({fmt(*f['digit_acc_ci'])})",
                                               f"{f['utt_acc']:.3f} ({fmt(*f['utt_acc_ci'])})", f"{f['nomatch']:.3f}",
                                               f"{f['wrong_accepted']:.3f}"]),
                      f"{f['oog_reject']:.3f}" if oog else "-",
                      *(["-"] * 3 if oog else [f"{f['lat_med']:.3f}s", f"{f['lat_p90']:.3f}s", f"{f['decode_med']:.3f}s"]))
    Console(width=200).print(table)
    for cond in args.real_conditions.split(","):
        for gname in ("any length", "expected length"):
            a, b = figures.get(("ours", cond, gname)), figures.get(("transcribe", cond, gname))
            if a and b:
                print(f"{cond}, {gname}: latency ours/transcribe median {a['lat_med'] / b['lat_med']:.2f}x, "
                      f"p90 {a['lat_p90'] / b['lat_p90']:.2f}x; decode-only median {a['decode_med'] / b['decode_med']:.2f}x")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="speech recognition bench on generated Indonesian speech")
    ap.add_argument("--real", metavar="DIR", help="real speakers: the unpacked development set (bench/speech_real.py)")
    ap.add_argument("--speakers", default="heldout", help="--real: heldout, tune, all or SPK,SPK (default: %(default)s)")
    ap.add_argument("--oog", type=int, default=60, help="--real: out-of-grammar trials per condition (default: %(default)s)")
    ap.add_argument("--real-conditions", default="16k,8k", help="--real: 16k,8k (default: %(default)s)")
    ap.add_argument("--systems", default="ours,transcribe", help="--real: ours and/or transcribe (default: %(default)s)")
    ap.add_argument("--grammars", default="any,expected", help="--real: in-grammar digit runs (default: %(default)s)")
    ap.add_argument("--dump", metavar="FILE", help="--real: one JSON row per decode (for tuning)")
    ap.add_argument("--quick", action="store_true", help="small set (12 digit strings, 12 keywords, 6 OOG)")
    ap.add_argument("--engines", default="whisper,pocketsphinx")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--rates", default="16000,8000")
    ap.add_argument("--limit", type=int, default=0, help="at most N utterances per condition (--real: per speaker; 0 = all)")
    args = ap.parse_args(argv)
    if args.real:
        return run_real(args)
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
