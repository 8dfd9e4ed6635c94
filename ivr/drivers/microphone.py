"""A live call through the sound card: `ivr call --mic`.

Prompts are spoken to the output device; the input device is the caller. The input
stream's own sample count is the call's clock (as the audio timeline is for a WAV call), so
the same machinery runs both: DTMF in the microphone audio are keys, speech is recognised
against the current node's grammar, and either one stops a prompt that allows barge-in.
"""
from __future__ import annotations

import queue
import sys
from dataclasses import dataclass

import numpy as np

from ivr.errors import CliError
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.transcript import TranscriptPrinter
from ivr.drivers.wavfile import AudioCall
from ivr.engine.events import Hangup, Play, StopPlayback
from ivr.speech.holdmusic import HoldMusicFeed
from ivr.speech.speaker import OutputQueue

RATE = 16000
BLOCK = 1600  # 100 ms


def _devices():
    import sounddevice as sd

    try:
        return sd.query_devices()
    except Exception as exc:  # PortAudio missing or broken
        raise CliError(f"sound devices are not available: {exc}") from None


def describe_devices() -> str:
    devs = _devices()
    if not len(devs):
        return "no sound devices at all"
    return "; ".join(f"{i}: {d['name']} ({d['max_input_channels']} in, {d['max_output_channels']} out)"
                     for i, d in enumerate(devs))


def pick_device(spec: str | None, kind: str) -> int | None:
    """An input/output device by index or by (part of) its name; None = the default. Raises
    CliError naming the devices there are when none fits."""
    import sounddevice as sd

    devs = _devices()
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    if spec is None:
        default = sd.default.device[0 if kind == "input" else 1]
        if default is None or default < 0:
            cands = [i for i, d in enumerate(devs) if d[key] > 0]
            if not cands:
                raise CliError(f"no {kind} device found (devices: {describe_devices()})")
            return cands[0]
        return None
    if spec.isdigit():
        i = int(spec)
        if i < len(devs) and devs[i][key] > 0:
            return i
    else:
        for i, d in enumerate(devs):
            if spec.lower() in d["name"].lower() and d[key] > 0:
                return i
    raise CliError(f"no {kind} device matches '{spec}' (devices: {describe_devices()})")


@dataclass
class MicOptions:
    input_device: str | None = None
    output_device: str | None = None
    max_seconds: float = 1800.0
    unmask: bool = False


class MicCall(AudioCall):
    """AudioCall fed from the microphone, with prompts sent to the speaker as scheduled."""

    def __init__(self, runtime: CallRuntime, voice, speaker: OutputQueue, speech=None, out=sys.stdout,
                 unmask: bool = False):
        super().__init__(runtime, RATE, voice, speech=speech)
        self.speaker = speaker
        self.printer = TranscriptPrinter(runtime, out, unmask)
        self.music = HoldMusicFeed(RATE)

    def _after(self, actions, at: float) -> None:
        super()._after(actions, at)
        for a in actions:
            if isinstance(a, Play):
                self.speaker.play(self.voice.render(a.text, self.speaker.rate))
            elif isinstance(a, StopPlayback):
                self.speaker.stop()
        self.show()

    def show(self) -> None:
        self.printer.show()


def run_mic_call(rt: CallRuntime, voice, speech, opts: MicOptions) -> None:
    import sounddevice as sd

    in_dev = pick_device(opts.input_device, "input")
    out_dev = pick_device(opts.output_device, "output")
    blocks: queue.Queue[np.ndarray] = queue.Queue()

    def on_input(indata, _frames, _time, _status) -> None:
        blocks.put(indata[:, 0].copy())

    try:
        speaker = OutputQueue(out_dev, RATE, BLOCK)
        stream = sd.InputStream(samplerate=RATE, channels=1, dtype="float32", device=in_dev,
                                blocksize=BLOCK, callback=on_input)
    except Exception as exc:  # PortAudio refuses the device or format
        raise CliError(f"cannot open the sound devices: {exc} (devices: {describe_devices()})") from None
    call = MicCall(rt, voice, speaker, speech, unmask=opts.unmask)
    try:
        stream.start()
        print(f"{rt.tree.name}: panggilan dimulai (mikrofon). Ctrl-C untuk menutup telepon.", flush=True)
        call.begin()
        while not rt.ended and call.pos < opts.max_seconds:
            try:
                block = blocks.get(timeout=5.0)
            except queue.Empty:
                raise CliError("the input device delivers no audio") from None
            call.feed(block)
            call.rt.now = max(call.rt.now, call.pos)
            call.show()
            if rt.music_on_hold:
                call.music.keep_queued(speaker)   # between announcements
        if not rt.ended:
            call.feed_event(Hangup(at=call.t))
        speaker.drain()   # let the goodbye prompt finish playing
        call.show()
    except KeyboardInterrupt:
        if not rt.ended:
            call.feed_event(Hangup(at=call.t))
            call.show()
    finally:
        stream.stop()
        stream.close()
        speaker.close()
