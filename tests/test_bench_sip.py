"""bench.sip's scale-out capacity search (the SIPp/Kamailio runs themselves are a bench, not a test)."""
from __future__ import annotations

from bench.sip.__main__ import highest_carried


def test_capacity_search_finds_the_knee_within_its_step():
    probes = []

    def carries(rate):
        probes.append(rate)
        return rate <= 207.0

    found = highest_carried(carries, 25.0, 1600.0, 1.06)
    assert 207.0 / 1.06 <= found <= 207.0
    assert len(probes) <= 10          # bisection, not a sweep


def test_capacity_search_says_zero_when_nothing_is_carried_and_top_when_everything_is():
    assert highest_carried(lambda r: False, 25.0, 1600.0, 1.06) == 0.0
    assert 1600.0 / 1.06 <= highest_carried(lambda r: True, 25.0, 1600.0, 1.06) < 1600.0


# ---- voice callers (bench/sip/voice.py): the parts that need no Whisper and no SIPp

def test_voice_bench_tree_is_a_chain_of_four_digit_collects_that_lints_clean():
    from bench.sip import voice
    from ivr.tree.lint import lint
    from ivr.tree.loader import load_tree_text

    tree = load_tree_text(voice.TREE, "voice-tree.yaml")
    collects = [n for n in tree.nodes.values() if n.kind == "collect"]
    assert len(collects) == voice.GROUPS + 1          # the last one listens while the caller hangs up
    assert all(n.data.min_length == n.data.max_length == voice.GROUP for n in collects)
    assert lint(tree) == []


def test_voice_caller_speaks_in_its_slots_and_is_silent_between():
    import numpy as np

    from bench.sip import voice

    rate = 8000
    x = voice.caller_audio(["1234", "5678"] + ["0000"] * (voice.GROUPS - 2), rate)
    assert len(x) == int(voice.call_seconds() * rate)

    def rms(a, b):
        seg = x[int(a * rate):int(b * rate)]
        return float(np.sqrt(np.mean(seg ** 2)))

    for i in range(voice.GROUPS):
        start = voice.LEAD_S + i * voice.SLOT_S
        assert rms(start, start + 2.0) > 0.02                     # a group is read here
        assert rms(start + voice.SLOT_S - 1.5, start + voice.SLOT_S) < 1e-4   # and the caller waits
    assert rms(0, voice.LEAD_S) < 1e-4                            # the first prompt plays first


def test_voice_answers_are_read_from_real_call_logs_and_summarised(tmp_path):
    from bench.sip import voice
    from ivr.drivers.calllog import CallLog
    from ivr.engine.events import Speech
    from ivr.grammar import RecognitionResult

    def write(name, answers):
        """answers: (group slot, delay, nomatch); the caller stops speaking 2 s into its slot."""
        with CallLog(tmp_path / name) as log:
            for slot, d, nomatch in answers:
                r = RecognitionResult(text="satu dua tiga empat", digits="1234", nomatch=nomatch, end=1.0,
                                      extra={"answer_delay_s": d})
                log.event(Speech(r, at=voice.LEAD_S + slot * voice.SLOT_S + 2.0 + d), sensitive=True)

    # call 1: groups 0-3 answered (group 1 as a no-match; group 3 late, in two parts), 4-5 lost
    write("call-1.jsonl", [(0, 0.7, False), (1, 0.9, True), (2, 1.1, False), (3, 5.0, False), (3, 5.6, False)])
    got = voice.answers(tmp_path)
    assert sorted(a["delay"] for a in got) == [0.7, 0.9, 1.1, 5.0, 5.6]
    assert sorted(a["slot"] for a in got) == [0, 1, 2, 3, 3]      # a late answer keeps its own group
    assert "1234" not in (tmp_path / "call-1.jsonl").read_text()    # the caller's digits stay masked
    s = voice.summary(1, got, cpu_s=10.0, wall_s=40.0, cores=2)
    assert s["answered"] == 4 and s["split"] == 1 and s["lost"] == voice.GROUPS - 4 and s["nomatch"] == 1
    assert s["p50"] == 1.1 and s["max"] == 5.6 and s["cpu_pct"] == 12.5
    assert not s["fits"]                                            # groups were lost
    # call 2: every group, fast; with call 1 left out, two callers' worth of answers fit
    write("call-2.jsonl", [(k, 0.5, False) for k in range(voice.GROUPS)])
    both = voice.answers(tmp_path)
    assert voice.summary(2, both, 10.0, 40.0, 2)["lost"] == voice.GROUPS - 4   # slots count per call
    fast = [a for a in both if a["call"] == "call-2.jsonl"]
    assert voice.summary(1, fast, 10.0, 40.0, 2)["fits"]
    slow = [dict(a, delay=2.5) for a in fast]
    assert not voice.summary(1, slow, 10.0, 40.0, 2)["fits"]        # every group, but p90 > 2 s
