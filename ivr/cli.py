"""The `ivr` console command.

Each area of the package owns its sub-commands in its own `commands.py` module with a
`register(subparsers)` function, so features grow without everyone editing one file.
Those modules import their implementation inside each command function: that is the one
reason for function-local imports in `*commands.py` -- `ivr --help` and light commands
(`lint`, `schema`) must not pay for numpy, scipy, SimPy, a sound library or a speech model.
Elsewhere a function-local import is for a heavy optional dependency (faster-whisper,
CTranslate2, PocketSphinx, Vosk, sounddevice, matplotlib, pyttsx3) or a type-only import.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

from ivr.calldate import CallDateError, parse_call_date
from ivr.errors import EXIT_LOG_FAILED, CliError  # noqa: F401 - CliError is re-exported for the commands

# (module, what it adds) -- order is the order in `ivr --help`.
COMMAND_MODULES = [
    "ivr.drivers.commands",   # call
    "ivr.tree.commands",      # lint, graph, schema
    "ivr.scenario.commands",  # test
    "ivr.dsp.commands",       # dtmf
    "ivr.speech.commands",    # tts
    "ivr.speech.asr.commands",  # asr, models
    "ivr.queue.commands",     # queue
    "ivr.jkn.commands",       # participants, requests
    "ivr.sip.commands",       # serve (SIP/RTP endpoint)
]


def parse_today(value: str | None, default: dt.date | None = None) -> dt.date:
    """The `--today YYYY-MM-DD` option shared by commands that apply JKN rules by date; not
    given: `default` (the machine's date when None). The rule is ivr.calldate's, the same
    as a scenario file's `today:`."""
    if value is None:
        return default or dt.date.today()
    try:
        return parse_call_date(value)
    except CallDateError as exc:
        raise CliError(f"--today: {exc}") from None


def version() -> str:
    """The installed package's version (pyproject.toml is its one source)."""
    try:
        return dist_version("ivr")
    except PackageNotFoundError:   # run from a source tree that was never installed
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """`ivr --version`, looked up only when asked (not on every command's start)."""

    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivr",
        description="Offline simulator of the BPJS Kesehatan Care Center 165 line (VIKA menu + agent queue).",
        epilog="Exit codes: 0 done; 1 checks failed (lint, test); 2 usage or input error (one line on "
               f"stderr); {EXIT_LOG_FAILED} a call ended but its log could not be written; 130 interrupted.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except CliError as exc:
        print(f"ivr: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("ivr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
