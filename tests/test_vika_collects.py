"""Every collect in the shipped VIKA tree tells the caller what to type (issue 12 §2): its
own short re-prompt, its own timeout prompt naming what is awaited, and an example. Checked
on the file as written, so a tree default cannot stand in for a node's own prompt."""
from __future__ import annotations

import yaml


def _collects(repo):
    nodes = yaml.safe_load((repo / "menus" / "vika.yaml").read_text(encoding="utf-8"))["nodes"]
    return {nid: n for nid, n in nodes.items() if n.get("type") == "collect"}


def test_every_collect_has_greet_short_timeout_and_an_example(repo):
    collects = _collects(repo)
    assert any(nid.startswith("agen_") for nid in collects)       # the agent side is included
    missing = []
    for nid, node in collects.items():
        prompts = node.get("prompts", {})
        long, short, timeout = (prompts.get(k, "") for k in ("greet_long", "greet_short", "timeout"))
        if not short or short == long:
            missing.append(f"{nid}: greet_short")
        if not timeout.startswith("Maaf, kami belum menerima") or timeout.endswith("jawaban Anda."):
            missing.append(f"{nid}: timeout (say what is awaited)")
        if "contoh" not in (long + " " + short).lower():
            missing.append(f"{nid}: example")
    assert not missing, missing


def test_agent_greetings_use_name_and_time_of_day(repo):
    """The first prompt of each agent dialogue greets with {salam} and {agen}."""
    nodes = yaml.safe_load((repo / "menus" / "vika.yaml").read_text(encoding="utf-8"))["nodes"]
    firsts = {n["agent"] for n in nodes.values() if n.get("type") == "transfer" and n.get("agent")}
    assert firsts
    for nid in firsts:
        node = nodes[nid]
        first = node.get("prompt") or node.get("prompts", {}).get("greet_long", "")
        assert first.startswith("{salam}, dengan {agen}."), (nid, first)
