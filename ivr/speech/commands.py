"""`ivr tts ...`: pre-render prompts into the TTS cache, speak a text, inspect verbalization."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

MAX_TEXT_FILE = 4 * 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ivr tts` and its sub-commands."""
    from ivr.speech.tts import DEFAULT_RATE, DEFAULT_VOICE, MAX_RATE, MIN_RATE

    tts = sub.add_parser("tts", help="offline text-to-speech of prompts (espeak-ng, cached)",
                         description="Speak prompts with espeak-ng through pyttsx3. Renderings are cached "
                                     "by content ($IVR_CACHE/tts or ~/.cache/ivr/tts), so each prompt is "
                                     "synthesised once.")
    tsub = tts.add_subparsers(dest="tts_command", metavar="SUBCOMMAND")
    tts.set_defaults(func=lambda args: (tts.print_help(), 2)[1])

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--voice", default=DEFAULT_VOICE, help=f"espeak-ng voice id (default {DEFAULT_VOICE}; see `ivr tts voices`)")
        p.add_argument("--rate", type=int, default=DEFAULT_RATE,
                       help=f"speaking rate in words/min, {MIN_RATE}-{MAX_RATE} (default {DEFAULT_RATE})")
        p.add_argument("--cache-dir", type=Path, default=None, help="cache directory (default $IVR_CACHE/tts or ~/.cache/ivr/tts)")

    p = tsub.add_parser("render", help="pre-render every static prompt of a call tree")
    p.add_argument("tree", type=Path, help="call tree YAML, e.g. menus/vika.yaml")
    common(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_render)

    p = tsub.add_parser("render-text", help="pre-render prompts from a text file, one per line")
    p.add_argument("file", type=Path, help="UTF-8 text file; blank lines are skipped ('-' for stdin)")
    common(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_render_text)

    p = tsub.add_parser("say", help="speak a text: to the sound device, or to a WAV file with -o")
    p.add_argument("text", help="text to speak, as written in a prompt (numbers, Rp, dates are verbalized)")
    p.add_argument("-o", "--out", type=Path, help="write a WAV file (22,050 Hz mono 16-bit) instead of playing")
    common(p)
    p.set_defaults(func=cmd_say)

    p = tsub.add_parser("verbalize", help="print the words a text is spoken as")
    p.add_argument("text", nargs="+", help="text (several arguments are joined with spaces)")
    p.set_defaults(func=cmd_verbalize)

    p = tsub.add_parser("voices", help="list espeak-ng voices")
    p.add_argument("--all", action="store_true", help="all languages (default: Indonesian and Malay only)")
    p.set_defaults(func=cmd_voices)


# ------------------------------------------------------------------ handlers

def _tts(args):
    from ivr.cli import CliError
    from ivr.speech.tts import Tts, TtsError

    try:
        return Tts(voice=args.voice, rate=args.rate, cache_dir=args.cache_dir)
    except TtsError as exc:
        raise CliError(str(exc)) from None


def _render(args, texts: list[str], what: str) -> int:
    from ivr.cli import CliError
    from ivr.speech.tts import TtsError

    tts = _tts(args)
    try:
        stats = tts.render_many(texts, progress=not args.no_progress and sys.stderr.isatty())
    except TtsError as exc:
        raise CliError(str(exc)) from None
    line = f"rendered {stats.total} {what}: {stats.misses} synthesised, {stats.hits} cache hits"
    if stats.total and stats.misses == 0:
        line += " (all cached)"
    if stats.misses:
        line += f" in {stats.seconds:.1f} s ({1000 * stats.seconds / stats.misses:.0f} ms per synthesised prompt)"
    print(line)
    print(f"cache: {tts.cache_dir}")
    return 0


def cmd_render(args) -> int:
    from ivr.cli import CliError
    from ivr.tree.loader import TreeLoadError, load_tree

    try:
        tree = load_tree(args.tree)
    except TreeLoadError as exc:
        first = exc.errors[0] if exc.errors else exc
        more = f" (and {len(exc.errors) - 1} more; see `ivr lint`)" if len(exc.errors) > 1 else ""
        raise CliError(f"{first}{more}") from None
    texts = tree.prompt_texts()
    if not texts:
        raise CliError(f"{args.tree}: the tree has no static prompts to render")
    return _render(args, texts, "prompts")


def cmd_render_text(args) -> int:
    from ivr.cli import CliError

    try:
        if str(args.file) == "-":
            raw = sys.stdin.buffer.read(MAX_TEXT_FILE + 1)
        else:
            with open(args.file, "rb") as fh:
                raw = fh.read(MAX_TEXT_FILE + 1)
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    if len(raw) > MAX_TEXT_FILE:
        raise CliError(f"{args.file}: larger than {MAX_TEXT_FILE // (1024 * 1024)} MiB; one prompt per line expected")
    if b"\x00" in raw:
        raise CliError(f"{args.file}: binary file, expected UTF-8 text with one prompt per line")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CliError(f"{args.file}:{line}: not UTF-8 text") from None
    texts = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not texts:
        raise CliError(f"{args.file}: no prompts (the file has only blank lines)")
    return _render(args, texts, "prompts")


def cmd_say(args) -> int:
    from ivr.cli import CliError
    from ivr.speech.tts import TtsError

    tts = _tts(args)
    if not args.text.strip():
        raise CliError("nothing to say: the text is empty")
    try:
        path = tts.render(args.text)
    except TtsError as exc:
        raise CliError(str(exc)) from None
    if args.out is not None:
        try:
            if str(args.out) == "-":
                sys.stdout.buffer.write(path.read_bytes())
                return 0
            args.out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, args.out)
        except OSError as exc:
            raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        print(f"wrote {args.out}")
        return 0
    from ivr.speech.playback import play

    samples, rate = tts.load(args.text)
    if not play(samples, rate):
        print(f"said: {tts.spoken(args.text)}")
        print(f"audio: {path}")
    return 0


def cmd_verbalize(args) -> int:
    from ivr.speech.verbalize import verbalize

    print(verbalize(" ".join(args.text)))
    return 0


def cmd_voices(args) -> int:
    from ivr.cli import CliError
    from ivr.speech.tts import DEFAULT_VOICE, Tts, TtsError

    try:
        voices = Tts.voices()
    except TtsError as exc:
        raise CliError(str(exc)) from None
    shown = 0
    for vid, name in sorted(voices.items()):
        if args.all or vid.split("/")[-1].split("-")[0] in ("id", "ms"):
            mark = "  (default)" if vid == DEFAULT_VOICE else ""
            print(f"{vid:<16} {name}{mark}")
            shown += 1
    if not shown:
        print("no Indonesian voice installed; see --all", file=sys.stderr)
    return 0
