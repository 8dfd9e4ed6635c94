"""`ivr dtmf gen` and `ivr dtmf detect`: make DTMF audio files and read keys out of any recording."""
from __future__ import annotations

import argparse
import json
import sys

from ivr.cli import CliError

CHANNEL_NAMES = {0: "left", 1: "right"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ivr dtmf ...` to the `ivr` command."""
    p = sub.add_parser("dtmf", help="generate or detect DTMF key tones in audio files",
                       description="Generate DTMF audio, or detect the keys in a recording (ITU-T Q.24 rules).")
    dsub = p.add_subparsers(dest="dtmf_command", metavar="ACTION")

    def show_help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=show_help)

    g = dsub.add_parser("gen", help="write a WAV (or FLAC/OGG/MP3) of key tones",
                        description="Write key tones to an audio file; the container follows the extension.")
    g.add_argument("digits", help='keys to send, e.g. "3201#" (0-9 * # A-D; spaces and - ignored)')
    g.add_argument("-o", "--output", required=True, help="output file (.wav .flac .ogg .mp3), '-' for stdout WAV")
    g.add_argument("--rate", type=int, default=8000, help="sample rate in Hz (default 8000)")
    g.add_argument("--on", type=float, default=80.0, help="tone duration in ms (default 80)")
    g.add_argument("--off", type=float, default=80.0, help="pause between tones in ms, also lead/trail silence (default 80)")
    g.add_argument("--level", type=float, default=-10.0, help="low-group tone level in dBFS (default -10; -25 dBm0 is about -28)")
    g.add_argument("--twist", type=float, default=0.0, help="high-group minus low-group level in dB (default 0)")
    g.add_argument("--offset", type=float, default=0.0, help="frequency offset of both tones in percent (default 0)")
    g.add_argument("--snr", type=float, default=None, help="add white noise at this SNR in dB")
    g.add_argument("--subtype", default="PCM_16",
                   help="sample format: PCM_16 PCM_24 PCM_32 PCM_U8 FLOAT DOUBLE ULAW ALAW (default PCM_16)")
    g.add_argument("--seed", type=int, default=0, help="random seed for phases and noise")
    g.set_defaults(func=cmd_gen)

    d = dsub.add_parser("detect", help="print the keys found in an audio file",
                        description="Detect DTMF keys in an audio file; each channel of a stereo file separately.")
    d.add_argument("file", help="audio file (WAV any bit depth/rate, FLAC, OGG, MP3...), '-' for stdin")
    d.add_argument("--json", action="store_true", help="per-digit JSON: key, start/end seconds, level, channel")
    d.add_argument("--channel", type=int, default=None, help="only this channel (0 = left)")
    d.add_argument("--unmask", action="store_true",
                   help="show every key in clear (by default NIK, card and phone numbers and dates of "
                        "birth among the keys are masked with *)")
    d.set_defaults(func=cmd_detect)


#: Keys one `ivr dtmf gen` writes: far more than any caller keys in a call (a NIK is 16).
MAX_KEYS = 1000


def cmd_gen(args: argparse.Namespace) -> int:
    from ivr.dsp.audio import AudioError, write_wav
    from ivr.dsp.dtmf_gen import generate

    n_keys = sum(c not in " -" for c in args.digits)
    if n_keys > MAX_KEYS:
        raise CliError(f"digits: {n_keys} keys given, at most {MAX_KEYS} in one file")
    from ivr.dsp.dtmf import check_rate

    try:   # what it writes, the detector reads
        check_rate(args.rate)
    except ValueError as exc:
        raise CliError(f"--rate: {exc}") from None
    if not (0 < args.on <= 60000) or not (0 <= args.off <= 60000):
        raise CliError("--on must be > 0 ms and --off >= 0 ms, each at most 60000 ms")
    if len(args.digits) * (args.on + args.off) / 1000 * args.rate > 200e6:
        raise CliError("that would be more than 200 million samples; use fewer keys or shorter tones")
    try:
        x = generate(args.digits, rate=args.rate, on_ms=args.on, off_ms=args.off, level_dbfs=args.level,
                     twist_db=args.twist, freq_offset_pct=args.offset, snr_db=args.snr, seed=args.seed)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not any(c not in " -" for c in args.digits):
        raise CliError("no keys given")
    try:
        write_wav(args.output, x, args.rate, subtype=args.subtype.upper())
    except (AudioError, ValueError, TypeError, RuntimeError) as exc:
        raise CliError(f"{args.output}: cannot write ({str(exc).splitlines()[0]})") from None
    if args.output != "-":
        import soundfile as sf

        i = sf.info(args.output)
        print(f"wrote {args.output}: {len(x) / args.rate:.2f} s, {args.rate} Hz, {i.format} {i.subtype}", file=sys.stderr)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    """Keys in a recording, read block by block (one streaming detector per channel), so
    memory stays flat for an hour-long file or an endless pipe."""
    from ivr.dsp.audio import AudioError, open_audio_stream
    from ivr.dsp.dtmf import DtmfDetector, check_rate

    try:
        stream = open_audio_stream(args.file)
    except AudioError as exc:
        raise CliError(str(exc)) from None
    with stream:
        info, rate, n_chans = stream.info, stream.rate, stream.info.channels
        try:
            check_rate(rate)
        except ValueError as exc:
            raise CliError(f"{info.name}: {exc}") from None
        chans = list(range(n_chans))
        if args.channel is not None:
            if not 0 <= args.channel < n_chans:
                raise CliError(f"--channel {args.channel}: {info.name} has {n_chans} channel(s)")
            chans = [args.channel]
        dets = {c: DtmfDetector(rate, channel=c) for c in chans}
        found: dict[int, list] = {c: [] for c in chans}
        for block in stream:
            for c in chans:
                found[c] += dets[c].feed(block[:, c])
        if stream.error:
            raise CliError(stream.error)
        for c in chans:
            found[c] += dets[c].flush()
        duration = stream.frames_read / rate
    results = [(c, found[c]) for c in chans]
    keys = {c: _shown_keys("".join(d.digit for d in ds), args.unmask) for c, ds in results}
    if args.json:
        doc = {
            "file": info.name,
            "rate": rate,
            "channels": n_chans,
            "duration": round(duration, 4),
            "results": [
                {"channel": c, "channel_name": _chan_name(c, n_chans), "digits": keys[c],
                 "events": [{**d.to_dict(), "digit": k} for d, k in zip(ds, keys[c])]}
                for c, ds in results
            ],
        }
        print(json.dumps(doc, indent=2))
        return 0
    if len(results) == 1 and n_chans == 1:
        print(keys[results[0][0]])
    else:
        for c, ds in results:
            print(f"channel {c} ({_chan_name(c, n_chans)}): {keys[c]}")
    return 0


def _shown_keys(keys: str, unmask: bool) -> str:
    """Detected keys as printed: a recording's key string may hold a NIK or a date of birth,
    so it is masked like any other output (`ivr.privacy.mask_pii`, as `ivr asr` does)
    unless --unmask. Masking keeps one character per key, so JSON events stay aligned."""
    if unmask:
        return keys
    from ivr.privacy import mask_pii

    shown = mask_pii(keys)
    return shown if len(shown) == len(keys) else "*" * len(keys)


def _chan_name(c: int, n: int) -> str:
    if n == 1:
        return "mono"
    return CHANNEL_NAMES.get(c, f"ch{c}") if n == 2 else f"ch{c}"
