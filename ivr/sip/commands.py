"""`ivr serve --sip HOST:PORT`: the simulated 165 line as a SIP telephone number."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from ivr.cli import CliError
from ivr.drivers.commands import speech_recognizer
from ivr.speech.asr.engines import add_engine_arguments, usable_cores

DEFAULT_SIP = "127.0.0.1:5060"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="answer SIP calls (softphones, SIPp, a PBX trunk) on loopback by default",
        description="A SIP user agent server: every INVITE is one call through the tree, with G.711 "
                    "(PCMU/PCMA) audio over RTP, keys as RFC 4733 events or in-band tones. No registration, "
                    "no credentials. Listens on 127.0.0.1 unless told otherwise.",
        epilog="Example: ivr serve --sip 127.0.0.1:5060 --max-calls 20   (then call sip:165@127.0.0.1:5060)")
    p.add_argument("--sip", default=DEFAULT_SIP, metavar="HOST:PORT",
                   help=f"where to listen for SIP over UDP (default {DEFAULT_SIP}; 0.0.0.0:5060 for other machines)")
    p.add_argument("--tree", help="call tree YAML (default: menus/vika.yaml)")
    p.add_argument("--max-calls", type=int, default=50, help="calls at once; more are answered 486 Busy Here (default 50)")
    p.add_argument("--max-call-seconds", type=float, default=None, metavar="S",
                   help="end any call this long after it started, with a BYE (default: the tree's, 3600)")
    p.add_argument("--answer-after", type=float, default=0.0, metavar="S",
                   help="ring (180) this long before answering (default 0: answer at once)")
    p.add_argument("--rtp-timeout", type=float, default=30.0, metavar="S",
                   help="end a call whose caller has sent no RTP for this long (default 30; 0: never)")
    # default off: keys only; each voice call decodes on its own worker thread, but all share the CPU
    add_engine_arguments(p, "--speech", default="off")
    p.add_argument("--no-tts", action="store_true", help="do not render prompts (the caller hears silence "
                   "as long as each prompt)")
    p.add_argument("--today", help="date the services use, YYYY-MM-DD (default: today)")
    p.add_argument("--db", help="participants database (default: $IVR_HOME/participants.sqlite)")
    p.add_argument("--log-dir", metavar="DIR", help="one JSONL call log per call here (default: $IVR_HOME/logs)")
    p.add_argument("--no-log", action="store_true", help="do not write call logs")
    p.add_argument("--queue-config", metavar="FILE", help="agent queue model (default: queues.yaml beside the tree)")
    p.add_argument("--queue-seed", type=int, default=None, help="seed of the simulated queue traffic")
    p.add_argument("--hour", type=float, default=None, help="time of day at start, for the queue's traffic")
    p.add_argument("--no-queue", action="store_true", help="transfers end the call")
    p.add_argument("--stats", metavar="FILE", help="write the server's figures (calls, RTP send jitter, CPU) "
                   "as JSON here at exit")
    p.add_argument("--priority", choices=("normal", "high"), default="normal",
                   help="high: run the server at nice -10 (root or CAP_SYS_NICE), as media servers do "
                        "on a shared machine, so other processes do not delay call processing; the "
                        "RTP send thread asks for real-time scheduling either way")
    p.add_argument("--quiet", action="store_true", help="no line per call on stderr")
    p.add_argument("--trace", action="store_true", help="print each call's transcript (masked) on stderr as it happens")
    p.set_defaults(func=run_serve)


def parse_hostport(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise CliError(f"--sip: expected HOST:PORT (e.g. {DEFAULT_SIP}), got '{value}'")
    return host.strip("[]"), int(port)


class CallFactory:
    """Builds each answered call: its runtime (tree, services, date, log, a view of the
    server's one agent queue) and its RtpCall. `done` is called when the call ends."""

    def __init__(self, tree, services, today, voice, speech, shared_queue, log_dir: Path | None):
        self.tree = tree
        self.services = services
        self.today = today
        self.voice = voice
        self.speech = speech            # a factory of per-call speech inputs, or None
        self.shared_queue = shared_queue
        self.log_dir = log_dir

    def __call__(self, leg):
        from ivr.drivers.calllog import CallLog
        from ivr.drivers.runtime import CallRuntime
        from ivr.sip.call import RtpCall

        call_id = f"sip-{leg.n}"
        if self.log_dir is not None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            leg.log = CallLog(self.log_dir / f"call-{stamp}-sip{leg.n}.jsonl")
        queue = None if self.shared_queue is None else self.shared_queue.view(call_id, leg.server.clock)
        rt = CallRuntime(self.tree, services=self.services, today=self.today, log=leg.log, queue=queue,
                         call_id=call_id)
        if leg.log is not None:
            leg.log.write(0.0, "sip", call_id=leg.invite.call_id, remote=f"{leg.addr[0]}:{leg.addr[1]}",
                          codec=leg.media.codec if leg.media else None,
                          rfc4733=bool(leg.media and leg.media.event_pt is not None))
        return RtpCall(rt, self.voice, speech=self.speech() if self.speech else None,
                       codec=leg.media.codec if leg.media else "PCMU", wake=leg.server.wake)

    def done(self, leg) -> None:
        if self.shared_queue is not None:
            self.shared_queue.forget(f"sip-{leg.n}")
        speech = getattr(leg.call, "speech", None)
        if speech is not None:
            speech.close()   # a pending answer is dropped, its worker and recogniser freed


def _voice(no_tts: bool, tree):
    from ivr.drivers.timeline import EstimatedVoice
    from ivr.sip.call import PromptStore

    if no_tts:
        return PromptStore(EstimatedVoice())
    try:
        from ivr.speech.voice import TtsVoice

        voice = TtsVoice.create()
    except Exception as exc:
        raise CliError(f"spoken prompts need the offline TTS (espeak-ng via pyttsx3): {exc} (or use --no-tts)") from None
    v = PromptStore(voice)
    for text in tree.prompt_texts():   # render now, not while the first caller waits
        v.render_now(text)
    return v


def _speech(args, language: str):
    """A factory of per-call speech inputs, or None (`--speech off`). Each call has its own
    recogniser (a recogniser holds one utterance and is not thread-safe; the model behind
    it is loaded once per process and shared), and works out answers on a worker thread so
    that a slow decode does not hold up the other calls on the server's loop."""
    # the calls' decodes share the cores: one model worker per core (engines.HINTS)
    parallel = usable_cores()
    first = speech_recognizer(args, parallel=parallel, language=language)   # a missing model fails now, in one line
    if first is None:
        return None
    from ivr.drivers.speech_input import RecognizerInput

    spare = [first]

    def per_call():
        rec = spare.pop() if spare else speech_recognizer(args, parallel=parallel, language=language)
        return RecognizerInput(rec, background=True, owns=True)

    return per_call


def run_serve(args) -> int:
    import asyncio

    from ivr.cli import parse_today
    from ivr.drivers.setup import call_tree_and_queue, open_services
    from ivr.sip.server import ServeOptions, serve
    from ivr.sip.sharedqueue import SharedQueue

    host, port = parse_hostport(args.sip)
    if not 1 <= args.max_calls <= 10000:
        raise CliError(f"--max-calls must be from 1 to 10000, got {args.max_calls}")
    if not 0 <= args.rtp_timeout < float("inf"):
        raise CliError(f"--rtp-timeout must be 0 (never) or a number of seconds, got {args.rtp_timeout}")
    if not 0 <= args.answer_after <= 60:
        raise CliError(f"--answer-after must be from 0 to 60 seconds, got {args.answer_after}")
    tree, live = call_tree_and_queue(args)
    today = parse_today(args.today)
    services = open_services(args.db)
    shared = SharedQueue(live) if live is not None else None
    log_dir = None
    if not args.no_log:
        from ivr.drivers.calllog import default_log_dir

        log_dir = Path(args.log_dir) if args.log_dir else default_log_dir()
    from ivr.sip.call import warm_up

    warm_up()
    if args.priority == "high":
        import os

        try:
            os.setpriority(os.PRIO_PROCESS, 0, -10)
        except (AttributeError, OSError) as exc:
            print(f"ivr serve: --priority high: not allowed here ({exc}); running at normal priority",
                  file=sys.stderr, flush=True)
    factory = CallFactory(tree, services, today, _voice(args.no_tts, tree), _speech(args, tree.language), shared, log_dir)
    opts = ServeOptions(host=host, port=port, max_calls=args.max_calls, answer_after=args.answer_after,
                        log_dir=log_dir, stats_path=Path(args.stats) if args.stats else None, quiet=args.quiet,
                        trace=args.trace, rtp_timeout=args.rtp_timeout)

    def ready(server) -> None:
        print(f"ivr serve: {tree.name} answers SIP on {host}:{port} (UDP), up to {args.max_calls} calls; "
              f"Ctrl-C stops", file=sys.stderr, flush=True)

    try:
        stats = asyncio.run(serve(opts, factory, ready))
    except OSError as exc:
        raise CliError(f"--sip {args.sip}: cannot listen ({exc.strerror or exc})") from None
    print(f"ivr serve: stopped; {stats.answered} calls answered, {stats.busy} refused busy, "
          f"RTP send jitter p50 {stats.jitter_ms(0.5)} ms p99 {stats.jitter_ms(0.99)} ms", file=sys.stderr)
    return 0
