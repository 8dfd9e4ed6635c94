"""RecognizerInput's background mode (the SIP server): finish() runs on a worker thread, feed()
returns at once, the answer is stamped when a later feed finds it ready, and an answer that
belongs to a listen that is over is never delivered into the next one."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from ivr.drivers.speech_input import RecognizerInput
from ivr.engine.events import Speech, SpeechStarted
from ivr.grammar import Grammar, RecognitionResult

RATE = 16000
CHUNK = np.zeros(1600, np.float32)    # 0.1 s
WAIT_S = 10.0                         # a bound on waits for the worker, never a timing


class GatedRecognizer:
    """A recogniser whose finish() blocks until the test releases it. The test says when
    the caller speaks and stops (`speech_start`, `endpoint`); it records any use of the
    recogniser while finish() is running (it is not thread-safe)."""

    def __init__(self):
        self.release = threading.Event()
        self.entered = threading.Event()
        self.finishing = False
        self.misuse: list[str] = []
        self.starts: list[Grammar] = []
        self.closed = False
        self.today = None
        self.speech_start = None
        self.endpoint = False
        self.samples = 0
        self.answer = "satu"
        self.speech_end = 0.0                 # the result's `end` (0: not known)

    @property
    def duration(self) -> float:
        return self.samples / RATE

    def _check(self, what: str) -> None:
        if self.finishing:
            self.misuse.append(what)

    def start(self, grammar) -> None:
        self._check("start")
        self.starts.append(grammar)
        self.samples = 0
        self.speech_start = None
        self.endpoint = False

    def feed(self, pcm) -> None:
        self._check("feed")
        self.samples += len(pcm)

    def finish(self) -> RecognitionResult:
        self._check("finish")
        self.finishing = True
        self.entered.set()
        try:
            if not self.release.wait(WAIT_S):
                raise RuntimeError("never released")
            return RecognitionResult(text=self.answer, choice="1", nomatch=False, end=self.speech_end)
        finally:
            self.finishing = False

    def close(self) -> None:
        self._check("close")
        self.closed = True


MENU = Grammar(())
OTHER = Grammar((), digits=True, min_digits=1, max_digits=4)


def _speak_until_endpoint(inp: RecognizerInput, rec: GatedRecognizer, t: float) -> tuple[list, float]:
    """Feed 0.3 s of 'speech' ending at the endpoint; returns the events and the next time."""
    events = []
    for k in range(3):
        if k == 0:
            rec.speech_start = 0.0
        if k == 2:
            rec.endpoint = True
        events += inp.feed(CHUNK, t)
        t += 0.1
    return events, t


def _wait_done(inp: RecognizerInput) -> None:
    inp._pending.future.exception(timeout=WAIT_S)   # waits for the worker, whatever it returned


def test_feed_returns_at_once_and_a_later_feed_delivers_the_answer_at_its_own_time():
    rec = GatedRecognizer()
    inp = RecognizerInput(rec, background=True)
    inp.set_grammar(MENU)
    events, t = _speak_until_endpoint(inp, rec, 0.0)
    # the caller started speaking; the answer is being worked out, not yet delivered
    assert [type(e) for e in events] == [SpeechStarted]
    assert rec.entered.wait(WAIT_S) and inp.pending
    for _ in range(5):                  # the answer is not ready: audio flows, nothing comes
        assert inp.feed(CHUNK, t) == []
        t += 0.1
    assert inp.pending and inp.results == 0
    rec.release.set()
    _wait_done(inp)
    got = inp.feed(CHUNK, t)
    assert len(got) == 1 and isinstance(got[0], Speech)
    assert got[0].result.text == "satu"
    # stamped when found ready (the end of the chunk that found it), not at the endpoint (0.3 s)
    assert got[0].at == pytest.approx(t + 0.1)
    assert inp.results == 1 and not inp.pending
    assert inp.dropped_s == pytest.approx(0.6)
    # the recogniser was never touched while it worked; the next utterance starts afresh
    assert rec.misuse == []
    assert rec.starts == [MENU, MENU]
    assert inp.feed(CHUNK, t + 0.1) == [] and rec.samples == len(CHUNK)
    inp.close()


def test_an_answer_says_how_long_after_the_end_of_speech_it_reached_the_call():
    rec = GatedRecognizer()
    rec.speech_end = 0.2                  # the caller stopped 0.2 s into the utterance
    inp = RecognizerInput(rec, background=True)
    inp.set_grammar(MENU)
    assert inp.feed(CHUNK, 5.0) == []     # the utterance starts at 5.0 s on the call's clock
    _, t = _speak_until_endpoint(inp, rec, 5.1)
    assert rec.entered.wait(WAIT_S)
    for _ in range(8):                    # the decode takes a while (other calls use the CPU)
        assert inp.feed(CHUNK, t) == []
        t += 0.1
    rec.release.set()
    _wait_done(inp)
    got = inp.feed(CHUNK, t)
    # delivered at the end of that chunk; speech ended at 5.0 + 0.2
    assert got[0].at == pytest.approx(t + 0.1)
    assert got[0].result.extra["answer_delay_s"] == pytest.approx(t + 0.1 - 5.2, abs=1e-3)
    inp.close()


@pytest.mark.parametrize("interrupt", ["set_grammar", "mute"])
def test_an_answer_pending_when_a_new_listen_or_a_key_comes_is_never_delivered(interrupt):
    rec = GatedRecognizer()
    inp = RecognizerInput(rec, background=True)
    inp.set_grammar(MENU)
    _, t = _speak_until_endpoint(inp, rec, 0.0)
    assert rec.entered.wait(WAIT_S)
    if interrupt == "set_grammar":
        inp.set_grammar(OTHER)
    else:
        inp.mute()
    assert rec.misuse == []            # the busy recogniser was not restarted under the worker
    assert inp.feed(CHUNK, t) == []
    rec.release.set()
    _wait_done(inp)
    assert inp.feed(CHUNK, t + 0.1) == []          # the stale answer is dropped
    assert inp.results == 0 and not inp.pending
    # the listen now in force starts once the recogniser is free, and hears the caller again
    assert rec.starts[-1] == (OTHER if interrupt == "set_grammar" else MENU)
    rec.answer = "dua"
    rec.release.clear()
    rec.entered.clear()
    events, t = _speak_until_endpoint(inp, rec, t + 0.2)
    assert [type(e) for e in events] == [SpeechStarted]
    rec.release.set()
    assert rec.entered.wait(WAIT_S)
    _wait_done(inp)
    got = inp.feed(CHUNK, t)
    assert [e.result.text for e in got] == ["dua"]
    assert rec.misuse == []
    inp.close()


def test_hang_up_while_pending_drops_the_answer_and_closes_the_recogniser_once_free():
    rec = GatedRecognizer()
    inp = RecognizerInput(rec, background=True, owns=True)
    inp.set_grammar(MENU)
    _speak_until_endpoint(inp, rec, 0.0)
    assert rec.entered.wait(WAIT_S)
    fut = inp._pending.future
    inp.close()                         # returns at once: nothing waits for the worker
    assert not rec.closed and not fut.done()
    assert inp.feed(CHUNK, 1.0) == [] and inp.flush(1.1) == []
    done = threading.Event()
    fut.add_done_callback(lambda _f: done.set())
    rec.release.set()
    assert done.wait(WAIT_S)
    assert rec.closed and rec.misuse == []


def test_flush_at_the_end_of_the_audio_waits_for_the_pending_answer():
    rec = GatedRecognizer()
    inp = RecognizerInput(rec, background=True)
    inp.set_grammar(MENU)
    _, t = _speak_until_endpoint(inp, rec, 0.0)
    assert rec.entered.wait(WAIT_S)
    threading.Timer(0.0, rec.release.set).start()   # released from another thread while flush waits
    got = inp.flush(t + 0.5)
    assert [(e.result.text, e.at) for e in got] == [("satu", t + 0.5)]
    inp.close()


def test_the_synchronous_default_answers_at_the_endpoint_in_the_same_feed():
    rec = GatedRecognizer()
    rec.release.set()
    inp = RecognizerInput(rec)
    inp.set_grammar(MENU)
    events, _ = _speak_until_endpoint(inp, rec, 1.0)
    assert [type(e) for e in events] == [SpeechStarted, Speech]
    assert events[0].at == pytest.approx(1.0)
    assert events[1].at == pytest.approx(1.3) and events[1].result.text == "satu"
    assert inp._pool is None and not inp.pending      # no thread was started
    assert rec.starts == [MENU, MENU]
    inp.close()
    assert not rec.closed                              # not owned: the caller's to close


def test_the_sip_server_gives_each_call_its_own_recogniser_in_background_mode(monkeypatch):
    import types

    import ivr.sip.commands as sipcmd

    made: list[GatedRecognizer] = []

    langs: list[str] = []

    def fake_recognizer(_args, **options):
        made.append(GatedRecognizer())
        langs.append(options["language"])   # the tree's language reaches every call's recogniser
        return made[-1]

    monkeypatch.setattr(sipcmd, "speech_recognizer", fake_recognizer)
    factory = sipcmd._speech(types.SimpleNamespace(), "ms")
    assert len(made) == 1                      # built at start: a missing model fails at once
    a, b = factory(), factory()
    assert a.rec is not b.rec and len(made) == 2 and langs == ["ms", "ms"]
    assert a.background and b.background
    calls = sipcmd.CallFactory(None, None, None, None, factory, None, None)
    calls.done(types.SimpleNamespace(n=1, call=types.SimpleNamespace(speech=a)))
    assert a.rec.closed and not b.rec.closed


def test_an_rtp_call_hears_the_answer_when_it_is_ready_not_at_the_endpoint():
    import datetime as dt

    from ivr.drivers.runtime import CallRuntime
    from ivr.drivers.setup import open_services, open_tree
    from ivr.drivers.timeline import EstimatedVoice
    from ivr.sip.call import RATE as SIP_RATE
    from ivr.sip.call import PromptStore, RtpCall

    rec = GatedRecognizer()
    inp = RecognizerInput(rec, background=True)
    store = PromptStore(EstimatedVoice())
    rt = CallRuntime(open_tree(None), services=open_services(None), today=dt.date(2026, 11, 23), call_id="t")
    call = RtpCall(rt, store, speech=inp)
    call.begin()
    assert rec.starts and rt.listen is not None     # the first menu listens for speech
    tenth = np.zeros(SIP_RATE // 10, np.float32)
    rec.speech_start = 0.0
    call.media(tenth, [])
    rec.endpoint = True
    call.media(tenth, [])                           # the endpoint at 0.2 s: media returns at once
    assert rec.entered.wait(WAIT_S) and inp.pending
    for _ in range(5):
        call.media(tenth, [])
    said = [ln for ln in rt.transcript if ln.who == "caller"]
    assert said == []                               # nothing heard while the answer is worked out
    rec.release.set()
    _wait_done(inp)
    call.media(tenth, [])
    said = [ln for ln in rt.transcript if ln.who == "caller"]
    assert [ln.text for ln in said] == ['"satu"']
    assert said[0].t == pytest.approx(0.8)         # the end of the audio that found it ready
    inp.close()
    store.close()
