"""`ivr call`: run one call through a tree, from the keypad, a key script, or audio."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ivr.cli import CliError
from ivr.speech.asr.engines import add_engine_arguments, recognizer_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "call", help="run a call (interactive keypad, --keys script)",
        description="Run one call through a call tree. Without --keys, an interactive call in the "
                    "terminal: press keys 0-9 * # (no Enter), q to hang up.",
        epilog='Example: ivr call --keys "1 1 3174054508900002# 08091990"  '
               "(space = pause that ends an inter-digit timeout, w = wait one timeout, or in the agent queue "
               "until an agent answers)")
    p.add_argument("--tree", help="call tree YAML (default: menus/vika.yaml)")
    p.add_argument("--keys", help="run non-interactively with this key script and print the transcript")
    p.add_argument("--wav", metavar="FILE", help="run the call from a recording of the caller (WAV or any "
                   "audio file; '-' reads stdin): tones are keys, silence lets timeouts run")
    p.add_argument("--mic", action="store_true",
                   help="a live call: prompts to the sound output, the caller on the microphone "
                        "(keys as DTMF tones or speech)")
    p.add_argument("--input-device", metavar="DEV", help="with --mic: input device (index or part of its name)")
    p.add_argument("--output-device", metavar="DEV", help="with --mic: output device (index or part of its name)")
    p.add_argument("--max-seconds", type=float, default=1800.0, help="with --mic: end the call after this long")
    p.add_argument("--max-call-seconds", type=float, default=None, metavar="S",
                   help="end any call this many seconds after it started, as outcome max-duration "
                        "(default: the tree's defaults.max_call_seconds, 3600)")
    p.add_argument("--out-wav", metavar="FILE", help="with --wav: write a stereo call recording "
                   "(caller left, IVR prompts right)")
    add_engine_arguments(p, "--speech")   # with --wav/--mic: the caller-speech recogniser; off: keys only
    p.add_argument("--no-tts", action="store_true",
                   help="with --wav: estimate prompt lengths instead of rendering them with TTS")
    p.add_argument("--then", choices=["hangup", "silence"], default="hangup",
                   help="after the key script or the recording: hang up at the next question (default) "
                        "or stay silent until the call ends by itself")
    p.add_argument("--today", help="date the services use, YYYY-MM-DD (default: today)")
    p.add_argument("--db", help="participants database (default: $IVR_HOME/participants.sqlite)")
    p.add_argument("--log", help="write the JSONL call log here (default: $IVR_HOME/logs/call-*.jsonl); "
                   "if it cannot be written the call goes on and ivr exits 3")
    p.add_argument("--no-log", action="store_true", help="do not write a call log")
    p.add_argument("--queue-config", metavar="FILE",
                   help="agent queue model (default: queues.yaml beside the tree)")
    p.add_argument("--queue-seed", type=int, default=None,
                   help="seed of the simulated queue traffic (default: a new one each call)")
    p.add_argument("--hour", type=float, default=None,
                   help="time of day the call starts, for the queue's traffic and shifts (default: the config's)")
    p.add_argument("--no-queue", action="store_true",
                   help="transfers end the call instead of waiting for a simulated agent")
    p.add_argument("--json", action="store_true", help="print the call result as JSON after the transcript")
    p.add_argument("--unmask", action="store_true", help="show NIK/card/phone numbers unmasked in the transcript")
    p.add_argument("--no-audio", action="store_true", help="interactive: show prompts as text only")
    p.set_defaults(func=run_call)


def _log_path(args) -> Path | None:
    if args.no_log:
        return None
    if args.log:
        return Path(args.log)
    from ivr.drivers.calllog import default_log_dir

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return default_log_dir() / f"call-{stamp}.jsonl"


def run_call(args) -> int:
    from ivr.drivers.calllog import CallLog
    from ivr.drivers.runtime import CallRuntime
    from ivr.cli import parse_today
    from ivr.drivers.setup import call_tree_and_queue, open_services

    if args.max_seconds <= 0 or args.max_seconds != args.max_seconds:
        raise CliError(f"--max-seconds must be positive, got {args.max_seconds}")
    tree, queue = call_tree_and_queue(args)
    today = parse_today(args.today)
    services = open_services(args.db)
    if args.out_wav and not args.wav:
        raise CliError("--out-wav needs --wav")
    if sum(x is not None and x is not False for x in (args.keys, args.wav, args.mic or None)) > 1:
        raise CliError("use one of --keys, --wav and --mic")
    if args.keys is not None:
        bad = sorted(set(args.keys) - set("0123456789*#ABCDw "))
        if bad:
            raise CliError(f"--keys: unexpected character(s) {' '.join(map(repr, bad))} "
                           "(allowed: 0-9 * # A-D, space = pause, w = wait one timeout)")
    elif args.wav or args.mic:
        pass
    elif not sys.stdin.isatty():
        raise CliError("standard input is not a terminal: use --keys \"...\" for a scripted call "
                       "(or run in a terminal for an interactive one)")
    log_path = _log_path(args)
    try:
        log = CallLog(log_path) if log_path else None
    except OSError as exc:
        raise CliError(f"--log {log_path}: {exc.strerror or exc}") from None
    try:
        rt = CallRuntime(tree, services=services, today=today, log=log, queue=queue)
        if args.keys is not None:
            from ivr.drivers.scripted import ScriptedCall

            voice = _tts_voice(required=False)   # prompts last as long as they are spoken
            if hasattr(voice, "personal"):
                voice.personal = rt.personal_text
            call = ScriptedCall(rt, voice)
            call.start()
            call.press(args.keys)
            call.finish_input()
            if args.then == "silence":
                call.run_until_end()
            call.hangup()
        elif args.mic:
            from ivr.drivers.microphone import MicOptions, run_mic_call

            voice = _tts_voice(required=True)
            if hasattr(voice, "personal"):
                voice.personal = rt.personal_text
            run_mic_call(rt, voice, _speech_input(args, tree.language),
                         MicOptions(args.input_device, args.output_device, args.max_seconds, args.unmask))
        elif args.wav:
            _wav_call(rt, args)
        else:
            from ivr.drivers.keypad import KeypadCall

            speaker = None if args.no_audio else _speaker()
            print(f"{tree.name}: panggilan dimulai. Tekan 0-9 * # (tanpa Enter); q untuk menutup telepon.")
            KeypadCall(rt, speaker=speaker, unmask=args.unmask).run()
            print()
        if args.keys is not None or args.wav:   # simulated calls print their transcript at the end
            from ivr.drivers.transcript import print_transcript

            print_transcript(rt, sys.stdout, args.unmask)
        res = rt.result()
    finally:
        if log:
            log.close()
    if args.json:
        from ivr.privacy import mask_pii

        out = {"outcome": res.outcome, "end_node": res.end_node, "path": res.path,
               "duration": round(res.duration, 3),
               "transfer": None if res.transfer is None else
               {"queue": res.transfer.queue, "request": res.transfer.request_type,
                "fields": {k: v if args.unmask else mask_pii(v) for k, v in res.transfer.fields.items()}},
               "log": str(log_path) if log_path and not (log and log.error) else None}
        print(json.dumps(out, ensure_ascii=False))
    elif log_path and not (log and log.error):
        print(f"(log: {log_path})", file=sys.stderr)
    if log and log.error:   # the call went on without its log: say so, in one line, and exit apart
        from ivr.cli import EXIT_LOG_FAILED

        print(f"ivr: error: call log {log.error_text}; the call went on without it "
              f"(exit {EXIT_LOG_FAILED})", file=sys.stderr)
        return EXIT_LOG_FAILED
    return 0


def _wav_call(rt, args) -> None:
    from ivr.dsp.audio import AudioError
    from ivr.drivers.timeline import EstimatedVoice
    from ivr.drivers.wavfile import CallerTape, open_call_audio

    out_rate = 16000
    try:   # read block by block: memory does not grow with the input (a pipe may never end)
        stream, call = open_call_audio(rt, args.wav)
    except AudioError as exc:
        raise CliError(str(exc)) from None
    with stream:
        voice = EstimatedVoice() if args.no_tts else _tts_voice(required=bool(args.out_wav))
        if hasattr(voice, "personal"):   # a caller's data read back is not cached on disk
            voice.personal = rt.personal_text
        call.voice, call.speech = voice, _speech_input(args, rt.tree.language)
        call.begin()
        tape = CallerTape(out_rate) if args.out_wav else None
        call.run_stream(stream, keep=tape)
        if stream.error:
            print(f"ivr: note: {stream.error}; the call goes on as if the recording ended there", file=sys.stderr)
    call.end_of_audio(args.then)
    if args.out_wav:
        from ivr.privacy import make_private, private_umask

        try:
            with private_umask():   # the caller's voice, keys and data read back: 0600
                call.write_recording(args.out_wav, tape)
            make_private(args.out_wav)
        except (OSError, RuntimeError, ValueError, TypeError) as exc:   # TypeError: no known extension
            raise CliError(f"--out-wav {args.out_wav}: cannot write ({str(exc).splitlines()[0]})") from None
        finally:
            tape.close()
        print(f"(call recording: {args.out_wav}, stereo {out_rate} Hz: caller left, prompts right)", file=sys.stderr)


def _speech_input(args, language: str):
    """The caller-speech recogniser for audio calls, or None (`--speech off`); it listens for
    the tree's `language`."""
    rec = speech_recognizer(args, language=language)
    if rec is None:
        return None
    from ivr.drivers.speech_input import RecognizerInput

    return RecognizerInput(rec)


def speech_recognizer(args, **options):
    """`--speech ENGINE` (and its model option) as a recogniser, None for off; a problem is
    one line naming the engine. `options`: engine hints (ivr.speech.asr.engines.HINTS); the
    `language` given is the tree's, so an engine's UnsupportedLanguage names that field."""
    from ivr.speech.asr.base import RecognizerError, UnsupportedLanguage

    try:
        return recognizer_from_args(args, **options)
    except RecognizerError as exc:
        where = f" (the tree's language: {exc.language!r})" if isinstance(exc, UnsupportedLanguage) else ""
        raise CliError(f"--speech {args.speech_engine}: {exc}{where} (or use --speech off)") from None


def _tts_voice(required: bool):
    """Prompts rendered by the offline TTS (cached); estimated lengths when TTS is missing."""
    from ivr.drivers.timeline import EstimatedVoice

    try:
        from ivr.speech.voice import TtsVoice

        return TtsVoice.create()
    except Exception as exc:  # TTS missing or broken: say so once, go on without audio
        if required:
            raise CliError(f"spoken prompts need the offline TTS (espeak-ng via pyttsx3): {exc}") from None
        print(f"ivr: note: prompts are not rendered ({exc}); their lengths are estimated", file=sys.stderr)
        return EstimatedVoice()


def _speaker():
    """Speak prompts through the sound device when TTS and a device are available."""
    try:
        from ivr.speech.speaker import TtsSpeaker
    except ImportError:
        return None
    return TtsSpeaker.create()
