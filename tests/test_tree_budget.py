"""The speech budget of `ivr lint` (issue 12 §2): prompt lengths as rendered, filled-in
prompts by their worst case, the menu-option limit, and the honesty of the worst cases."""
from __future__ import annotations

import datetime as dt

from ivr.tree.budget import WORST_CASE, Budget, PromptClock, estimate_seconds, worst_case
from ivr.tree.lint import lint
from ivr.tree.loader import load_tree_text

TODAY = dt.date(2026, 11, 23)


def _tree(nodes: str):
    return load_tree_text("version: 1\nstart: a\nglobal_keys: {agent: null}\nnodes:\n" + nodes)


def _codes(tree, **kw):
    return [(e.code, e.severity, e.message) for e in lint(tree, **kw)]


def test_a_long_static_prompt_is_a_warning_with_its_length():
    long = "Ini kalimat yang sangat panjang sekali. " * 10
    t = _tree(f"  a: {{type: say, prompt: '{long}', next: b}}\n  b: {{type: hangup, prompt: Selesai.}}\n")
    found = [c for c in _codes(t) if c[0] == "prompt-length"]
    assert len(found) == 1 and found[0][1] == "warning" and "over the 20 s budget" in found[0][2]
    assert not [c for c in _codes(t, budget=Budget(max_prompt_seconds=60)) if c[0] == "prompt-length"]


def test_filled_in_prompts_are_measured_with_the_worst_case_of_their_variables():
    # short as written, long once {pembayaran} and {nama} are filled in
    t = _tree("  a: {type: say, prompt: '{nama} {pembayaran} {pembayaran} {pembayaran}', next: b}\n"
              "  c: {type: service, service: cek_peserta, args: {nik: '1', tgl_lahir: '2'}, branches: {aktif: b}, default: b}\n"
              "  b: {type: hangup, prompt: Selesai.}\n")
    found = [c for c in _codes(t) if c[0] == "prompt-length"]
    assert found and "worst case of {nama}, {pembayaran}" in found[0][2]
    assert worst_case("{nama}") == WORST_CASE["nama"] and worst_case("{tak_dikenal}") != ""


def test_the_clock_renders_when_it_can_and_says_so_when_it_cannot():
    clock = PromptClock(lambda text: 99.0)
    assert clock.rendered and clock.seconds("x") == 99.0
    est = PromptClock.estimated("no TTS here")
    assert not est.rendered and est.note == "no TTS here" and est.seconds("abc") == estimate_seconds("abc")


def test_a_menu_over_the_option_limit_is_an_error():
    opts = ", ".join(f'"{k}": {{goto: b}}' for k in "123456")
    t = _tree(f"  a: {{type: menu, prompt: Pilih., options: {{{opts}}}}}\n  b: {{type: hangup, prompt: Selesai.}}\n")
    found = [c for c in _codes(t) if c[0] == "menu-options"]
    assert found and found[0][1] == "error" and "6 options, more than 5" in found[0][2]
    assert not [c for c in _codes(t, budget=Budget(max_menu_options=6)) if c[0] == "menu-options"]


def test_worst_cases_are_at_least_as_long_as_what_the_services_say():
    """The worst case of each service variable is no shorter than any demo participant's
    value on the reference day (else lint would pass prompts that run over)."""
    from ivr.jkn.services import JknServices

    svc = JknServices(":memory:")
    longest: dict[str, str] = {}
    for p in svc.participants.list():
        _, v = svc.describe(p, TODAY)
        for k, val in v.items():
            if len(val) > len(longest.get(k, "")):
                longest[k] = val
    for k in ("nama", "pembayaran", "pemulihan", "alasan", "segmen", "tagihan", "va"):
        assert len(WORST_CASE[k]) >= len(longest[k]) - 3, (k, longest[k])
