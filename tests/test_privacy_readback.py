"""A collect's read-back says the caller's number out loud: transcripts and call logs hide its
digits like the input's (ivr.privacy.prompt_is_private), and the ya/tidak answer given at a
personal collect is hidden like any input there."""
from __future__ import annotations

import re

import datetime as dt
import io
import json
from pathlib import Path

from ivr.drivers.calllog import CallLog
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.scripted import ScriptedCall
from ivr.privacy import mask_readback, prompt_is_private
from ivr.tree.loader import load_tree

VIKA = Path(__file__).resolve().parent.parent / "menus" / "vika.yaml"


def _voice_call():
    tree = load_tree(VIKA)
    buf = io.StringIO()
    rt = CallRuntime(tree, today=dt.date(2026, 11, 23), log=CallLog(stream=buf))
    call = ScriptedCall(rt)
    call.start()
    call.say("tagihan")
    call.say("tagihan")
    call.say("tiga dua tujuh tiga nol satu satu tujuh nol delapan delapan lima nol nol nol tiga", confidence=0.6)
    call.say("ya")
    call.say("satu tujuh nol delapan satu sembilan delapan lima", confidence=0.6)
    call.say("benar")
    return rt, buf.getvalue()


def test_read_back_and_yes_no_are_masked_in_transcript_and_log():
    rt, log = _voice_call()
    plays = [a for a in rt.session.stats.prompts if a.prompt == "readback"]
    assert [p.text.split(".")[0] for p in plays] == ["3273011708850003", "17081985"]   # said in clear
    lines = [line.format() for line in rt.lines()]
    readbacks = [x for x in lines if "Benar?" in x]
    def shown_digits(x: str) -> str:   # digits left in a read-back line, instruction keys aside
        body = x.split(":", 1)[1].replace("[", "").split("]")[-1]
        return "".join(c for c in re.sub(r"[Tt]ekan \d|\d jika", "", body) if c.isdigit())
    assert len(readbacks) == 2 and not any(shown_digits(x) for x in readbacks)
    assert all("tekan 1" in x.lower() for x in readbacks)                # the keys to press stay readable
    assert all("****************" in x or "********" in x for x in readbacks)
    assert not any('"ya"' in x or '"benar"' in x for x in lines)           # the answer at a NIK collect
    assert "3273011708850003" not in log and "1708 1985" not in log   # (17081985 is the greeting's example)
    actions = [json.loads(r) for r in log.splitlines() if '"readback"' in r]
    assert actions and all("*" in r["text"] and not shown_digits(": " + r["text"]) for r in actions)
    unmasked = [line.format(unmask=True) for line in rt.lines()]
    assert any("3273011708850003" in x for x in unmasked)                    # --unmask still shows it


def test_group_read_back_is_masked_too():
    tree = load_tree(VIKA)
    rt = CallRuntime(tree, today=dt.date(2026, 11, 23))
    call = ScriptedCall(rt)
    call.start()
    call.say("tagihan")
    call.say("tagihan")
    call.say("tiga dua tujuh tiga", confidence=0.5)
    line = [x.format() for x in rt.lines() if "Benar?" in x.text][-1]
    assert "* * * *. Benar?" in line and "3 2 7 3" not in line


def test_only_read_backs_at_personal_collects_are_private():
    tree = load_tree(VIKA)
    assert prompt_is_private(tree.nodes["status_nik"], "readback")
    assert not prompt_is_private(tree.nodes["status_nik"], "greet_long")
    assert not prompt_is_private(tree.nodes["menu_utama"], "readback")
    assert mask_readback("0 1 1 7. Benar?") == "* * * *. Benar?"
