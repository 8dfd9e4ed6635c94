"""bench.voicecall's caller bot through the real engine and WAV driver, on synthetic audio:
a scripted recogniser stands in for Whisper (each burst of noise is "heard" as the next
scripted result), the read-back answers are real DTMF tones the driver's detector hears."""
from __future__ import annotations

import datetime as dt

import numpy as np

from bench.voicecall import CallerBot, bench_tree, main
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.wavfile import AudioCall
from ivr.engine.events import Speech, SpeechStarted
from ivr.grammar import RecognitionResult

RATE = 16000
NUMBER = ["3174", "0545", "0890", "0002"]


class ScriptedSpeech:
    """A SpeechInput: an utterance is any run of loud samples; when it ends, the next
    (digits, confidence) of the script is the result."""

    def __init__(self, script):
        self.script = list(script)
        self.loud = False

    def set_grammar(self, grammar, today=None):
        pass

    def mute(self):
        self.loud = False

    def feed(self, pcm, t0):
        out = []
        loud = bool(len(pcm)) and float(np.max(np.abs(pcm))) > 0.05
        if loud and not self.loud:
            out.append(SpeechStarted(at=t0))
        if self.loud and not loud and self.script:
            digits, conf = self.script.pop(0)
            out.append(Speech(RecognitionResult(digits, digits=digits, confidence=conf, nomatch=False), at=t0))
        self.loud = loud
        return out

    def flush(self, t):
        return []


def _burst():
    return (0.3 * np.random.default_rng(1).standard_normal(int(0.6 * RATE))).astype(np.float32)


def _call(dialogue, script):
    rt = CallRuntime(bench_tree(dialogue), today=dt.date(2026, 11, 23))
    call = AudioCall(rt, RATE, None, speech=ScriptedSpeech(script))
    call.begin()
    return CallerBot(call, RATE, [(g, _burst()) for g in NUMBER]).run()


def test_unsure_wrong_group_is_rejected_by_key_2_and_said_again():
    o = _call(True, [("3174", 0.99), ("0546", 0.5), ("0545", 0.6), ("0890", 0.99), ("0002", 0.99)])
    assert o.right and not o.wrong and not o.keyed
    assert o.prompts.count("readback") == 2 and "reject" in o.prompts
    assert o.turns == 7          # 5 utterances, keys 2 and 1


def test_two_rejections_and_the_bot_keys_the_number():
    o = _call(True, [("3175", 0.5), ("3176", 0.5)])
    assert o.right and o.keyed and "use_keys" in o.prompts


def test_plain_collect_accepts_a_confident_wrong_group_silently():
    o = _call(False, [("3174", 0.99), ("0546", 0.99), ("0890", 0.99), ("0002", 0.99)])
    assert o.wrong and o.value == "3174054608900002" and o.turns == 4


def test_without_the_development_set_it_says_so(tmp_path, capsys):
    assert main(["--real", str(tmp_path / "nowhere")]) == 2
    assert "the development set is not here" in capsys.readouterr().out
