"""One phone call's media side: RTP audio in and out around an `AudioCall`.

The caller's audio, as played out of the jitter buffer, goes through `AudioCall.feed`
exactly as a WAV file or the microphone would: in-band DTMF tones become keys at the
time each tone started, speech goes to the recogniser, and the audio's sample count is
the call's clock. RFC 4733 events are keys too, delivered at their place on that same
timeline. Prompts are rendered at 8 kHz by a worker thread (`PromptStore`), G.711-encoded
once, and queued for the 20 ms sender (`ivr.sip.pacer`); a barge-in (`StopPlayback`)
empties the queue at once. Nothing on the send path renders, encodes or waits.

A phone may send a key both ways (RFC 4733 and the tone in its audio): a key heard in
band within `DUPLICATE_S` of the same key from RFC 4733 is the same press, counted once.
"""
from __future__ import annotations

import copy
import threading
import weakref
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ivr.dsp.audio import resample
from ivr.dsp.dtmf import DtmfDetector
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.timeline import PlayedPrompt, estimate_seconds
from ivr.drivers.wavfile import AudioCall
from ivr.engine.events import Digit, Hangup, Play, StopPlayback
from ivr.sip import g711
from ivr.sip.pacer import TxStream
from ivr.sip.rtp import FRAME, RATE
from ivr.speech.holdmusic import hold_music

DUPLICATE_S = 0.3
HOLD_BLOCK_S = 0.5
HOLD_AHEAD_FRAMES = 10          # hold music is queued when less than 200 ms is left
# The detector analyses this much audio at once: its fixed cost per analysis (~0.1 ms) is
# then paid 5 times a second per call, not 10 (200 calls: 0.9 -> 0.5 of a core). Digits and
# their times are the same; a key's barge-in comes up to this much later.
DTMF_BATCH_MS = 200.0
_PROTO: dict[int, DtmfDetector] = {}


def warm_up(rate: int = RATE) -> None:
    """Build the detector prototype at start-up: the first one imports and designs the
    filters (~1.5 s), which would stall every call arriving meanwhile."""
    _detector(rate)


def _detector(rate: int) -> DtmfDetector:
    """A fresh batched detector, copied from a prototype: building one designs its filters
    (~1.5 ms), a copy of a new one is ~0.2 ms of the call's set-up."""
    proto = _PROTO.get(rate)
    if proto is None:
        proto = _PROTO[rate] = DtmfDetector(rate, batch_ms=DTMF_BATCH_MS)
    return copy.deepcopy(proto)


@dataclass
class Rendered:
    """A prompt at 8 kHz, with its G.711 encodings made once (padded to whole frames)."""

    audio: np.ndarray
    personal: bool = False
    _enc: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.audio) / RATE

    def encoded(self, codec: str) -> bytes:
        got = self._enc.get(codec)
        if got is None:
            got = g711.encode(self.audio, codec)
            if len(got) % FRAME:
                got += g711.silence(codec, FRAME - len(got) % FRAME)
            self._enc[codec] = got
        return got


class PromptStore:
    """Prompt renderings for every call of a server, made off the media path.

    A `Play` must not wait for the TTS: synthesis runs in a worker thread (espeak-ng works
    in C, outside the GIL) as soon as the call knows the prompt, and the call plays it
    when it is there. A prompt every caller hears is kept (bounded, least recently used),
    so it is rendered and G.711-encoded once per server. A personalised prompt (a caller's
    name, class, bill) goes through the TTS with `personal=True` (nothing on disk) and is
    kept in memory only while a call that said it is up: calls hold a reference and
    `release` it when they end."""

    def __init__(self, voice, keep: int = 512, workers: int = 1):
        self.voice = voice
        self.keep = keep
        self._public: OrderedDict[str, Rendered] = OrderedDict()
        self._personal: dict[str, list] = {}          # text -> [Rendered, calls holding it]
        self._inflight: dict[str, Future] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts")
        self._lock = threading.Lock()

    def estimate(self, text: str) -> float:
        return estimate_seconds(text)

    def get(self, text: str) -> Rendered | None:
        with self._lock:
            got = self._public.get(text)
            if got is not None:
                self._public.move_to_end(text)
                return got
            held = self._personal.get(text)
            return held[0] if held is not None else None

    def request(self, text: str, personal: bool) -> "Future[Rendered]":
        """The rendering of `text`, now or later (one synthesis however many calls ask)."""
        with self._lock:
            fut = self._inflight.get(text)
            if fut is None:
                fut = self._inflight[text] = self._pool.submit(self._render, text, personal)
            return fut

    def render_now(self, text: str) -> Rendered:
        """Render on this thread (start-up: the tree's fixed prompts before the first call)."""
        got = self.get(text)
        return got if got is not None else self._render(text, False)

    def hold(self, text: str) -> None:
        with self._lock:
            held = self._personal.get(text)
            if held is not None:
                held[1] += 1

    def release(self, text: str) -> None:
        with self._lock:
            held = self._personal.get(text)
            if held is not None:
                held[1] -= 1
                if held[1] <= 0:
                    del self._personal[text]

    def _render(self, text: str, personal: bool) -> Rendered:
        try:
            audio = self._synth(text, personal)
            r = Rendered(audio, personal)
            r.encoded("PCMU")
            r.encoded("PCMA")
            with self._lock:
                if personal:
                    self._personal[text] = [r, 0]
                else:
                    self._public[text] = r
                    if len(self._public) > self.keep:
                        self._public.popitem(last=False)
            return r
        finally:
            with self._lock:
                self._inflight.pop(text, None)

    def _synth(self, text: str, personal: bool) -> np.ndarray:
        tts = getattr(self.voice, "tts", None)
        if tts is not None:                      # TtsVoice: straight to the TTS, its cache rules
            samples, src = tts.load(text, personal=personal)
            x = (samples if samples.ndim == 1 else samples[:, 0]).astype(np.float32)
            return resample(x, src, RATE) if src != RATE else x
        audio = self.voice.render(text, RATE)
        # no TTS: silence as long as the prompt, so the caller hears it take its time
        return audio if audio is not None else np.zeros(int(self.voice.duration(text) * RATE), np.float32)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class _CallVoice:
    """What the call's timeline asks of a voice: a prompt's length, without waiting for the
    TTS. A prompt already rendered has its length; one not yet rendered gets the estimate
    from its text, and the call corrects its timeline when the rendering comes
    (`RtpCall._pump`)."""

    def __init__(self, store: PromptStore):
        self.store = store

    def duration(self, text: str) -> float:
        got = self.store.get(text)
        return got.duration if got is not None else self.store.estimate(text)

    def render(self, text: str, rate: int):
        return None


@dataclass
class _Out:
    """A prompt on its way out: its rendering (or the future of it) and its timeline entry."""

    text: str
    entry: PlayedPrompt
    rendered: Rendered | None
    future: Future | None = None
    estimated: bool = False


class _DedupDetector:
    """The DTMF detector with in-band digits that repeat an RFC 4733 key left out.

    It reaches its call through a weak proxy: a strong reference made every call a
    reference cycle (call -> detector -> call), so an ended call -- its runtime, detector
    buffers and prompts, ~0.5 MB -- waited for Python's cyclic collector, which numpy
    arrays do not prompt; `ivr serve` grew ~150 MB per 300 calls and kept it."""

    def __init__(self, det, call: "RtpCall"):
        self.det = det
        self.call = weakref.proxy(call)

    def feed(self, chunk):
        return [d for d in self.det.feed(chunk) if not self.call._seen_event(d.digit, self.call.t0 + d.start)]

    def flush(self):
        return [d for d in self.det.flush() if not self.call._seen_event(d.digit, self.call.t0 + d.start)]

    def pop_starts(self):
        return self.det.pop_starts()

    @property
    def tone_active(self) -> bool:
        return self.det.tone_active

    @property
    def held_since(self) -> float | None:
        return self.det.held_since


class RtpCall(AudioCall):
    """AudioCall fed from RTP, with prompts queued for RTP (see module docstring)."""

    def __init__(self, runtime: CallRuntime, store: PromptStore, speech=None, codec: str = "PCMU",
                 tx: TxStream | None = None, wake=None):
        super().__init__(runtime, RATE, _CallVoice(store), speech=speech)
        self.store = store
        self.codec = codec
        self.tx = tx                    # None until the media address is known
        self.wake = wake                # runs a function on the loop thread (a rendering came)
        self.det = _DedupDetector(self.det, self)
        self._outq: deque[_Out] = deque()
        self._held: list[str] = []      # personal prompts this call keeps in the store
        self._hold_t = 0.0
        self._keys_rfc: deque[tuple[float, str]] = deque(maxlen=16)
        self._keys_band: deque[tuple[float, str]] = deque(maxlen=16)
        self.keys_rfc4733 = 0
        self.keys_inband = 0
        self.samples_in = 0
        self.late_renders = 0           # renderings that came after their prompt's planned end

    def new_detector(self) -> DtmfDetector:
        return _detector(RATE)

    # ---- prompts out ---------------------------------------------------------------------
    def _after(self, actions, at: float) -> None:
        first = len(self.played)
        super()._after(actions, at)
        k = first
        for a in actions:
            if isinstance(a, Play):
                entry = self.played[k]
                k += 1
                got = self.store.get(a.text)
                item = _Out(a.text, entry, got)
                if got is None:
                    personal = self.rt.personal_text(a.text)
                    item.estimated = True
                    item.future = self.store.request(a.text, personal)
                    if self.wake is not None:
                        item.future.add_done_callback(lambda _f: self.wake(self.pump))
                self._outq.append(item)
            elif isinstance(a, StopPlayback):
                self._outq.clear()
                if self.tx is not None:
                    self.tx.clear()
        self.pump()

    def pump(self) -> None:
        """Move prompts whose rendering is there, in order, to the sender; a prompt whose
        length was estimated gets its real length (and start) on the timeline, and the
        prompts queued after it move with it. Hold music fills the line between queue
        announcements while the caller waits for an agent."""
        q = self._outq
        while q:
            item = q[0]
            if item.rendered is None:
                fut = item.future
                if fut is None or not fut.done():
                    break
                try:
                    item.rendered = fut.result()
                except Exception:          # a prompt the TTS cannot say: silence for its length
                    item.rendered = Rendered(np.zeros(int((item.entry.end - item.entry.start) * RATE), np.float32))
            q.popleft()
            r = item.rendered
            if item.entry.cut is not None:
                continue                   # barged in before it was heard
            if r.personal:
                self.store.hold(item.text)
                self._held.append(item.text)
            if item.estimated:
                self._retime(item.entry, r.duration)
            if self.tx is not None:
                self.tx.push(r.encoded(self.codec))
        if not q and self.tx is not None and self.tx.queued_frames < HOLD_AHEAD_FRAMES and \
                self.rt.session.holding is not None and not self.rt.ended and self.rt.hold_music:
            self.tx.push(g711.encode(hold_music(HOLD_BLOCK_S, RATE, offset=self._hold_t), self.codec))
            self._hold_t += HOLD_BLOCK_S

    def _retime(self, entry: PlayedPrompt, duration: float) -> None:
        """The prompt starts now at the earliest (it was waiting for the TTS) and lasts as
        long as its audio; later queued prompts shift by the same amount."""
        queued = self.played[len(self.played) - len(self.prompt_ends):]
        for i, e in enumerate(queued):
            if e is entry:
                break
        else:
            self.late_renders += 1         # its PromptDone already fired: just play it
            return
        start = max(entry.start, self.t)
        delta = start + duration - entry.end
        entry.start = start
        for j in range(i, len(queued)):
            if j > i:
                queued[j].start += delta
            queued[j].end += delta
            self.prompt_ends[j] += delta

    @property
    def playing(self) -> bool:
        return bool(self._outq) or (self.tx is not None and self.tx.queued_frames > 0)

    def close(self) -> None:
        """The call is over: its personal prompts may leave the store."""
        for text in self._held:
            self.store.release(text)
        self._held = []
        self._outq.clear()

    # ---- caller in -----------------------------------------------------------------------
    def _seen_event(self, key: str, t: float) -> bool:
        dup = any(k == key and abs(t - te) <= DUPLICATE_S for te, k in self._keys_rfc)
        if not dup:
            self.keys_inband += 1
            self._keys_band.append((t, key))
        return dup

    def media(self, samples: np.ndarray, keys: list[tuple[int, str]]) -> None:
        """Caller audio that follows what came before, with RFC 4733 keys at their sample
        offsets within it (sorted)."""
        done = 0
        for off, key in keys:
            off = min(max(off, done), len(samples))
            if off > done:
                self.feed(samples[done:off])
                done = off
            if self.rt.ended:
                return
            at = max(self.t, self.t0 + (self.samples_in + off) / RATE)
            if any(k == key and abs(at - te) <= DUPLICATE_S for te, k in self._keys_band):
                continue     # the same press already heard in band
            self._keys_rfc.append((at, key))
            self.keys_rfc4733 += 1
            self._deliver([(at, 0, Digit(key, at=at))])
        if done < len(samples) and not self.rt.ended:
            self.feed(samples[done:])
        self.samples_in += len(samples)
        self.rt.now = max(self.rt.now, self.pos)
        self.pump()

    def hangup(self) -> None:
        """The caller hung up (BYE), now: what was still to play is not heard."""
        self.prompt_ends.clear()
        if not self.rt.ended:
            self.feed_event(Hangup(at=max(self.t, self.pos)))
        self.rt.finish(max(self.t, self.pos))
