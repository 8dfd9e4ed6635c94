"""Queue config loader: the shipped menus/queues.yaml, and errors with file:line:col."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ivr.queue.config import REQUEST_TYPES, QueueConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "menus" / "queues.yaml"

GOOD = """\
version: 1
start_hour: 8
patience: {dist: exponential, mean: 100}
queues:
  informasi:
    priority: 0
    max_length: 5
    service: {dist: gamma, mean: 180, cv: 0.8}
  pengaduan:
    priority: 2
    service: {dist: deterministic, mean: 300}
    patience: none
agents:
  umum:
    skills: [informasi, pengaduan]
    shifts:
      - {from: 22, to: 6, agents: 2}
      - {from: 6, to: 22, agents: 5}
      - {from: 8, to: 12, agents: 3}
traffic:
  calls_per_hour: 60
  mix: {informasi: 3, pengaduan: 1}
announcements:
  callback_key: "#"
  periodic_announce_s: 45
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(QueueConfigError) as ei:
        parse_config(text, "q.yaml")
    return [str(i) for i in ei.value.issues]


def test_shipped_config_has_every_request_type_served():
    cfg = load_config(SHIPPED)
    assert set(cfg.queues) == set(REQUEST_TYPES)
    served = {s for g in cfg.groups.values() for s in g.skills}
    assert served == set(REQUEST_TYPES)
    assert sum(share for _, share in cfg.traffic.mix) == pytest.approx(1.0)
    assert len(cfg.traffic.profile) == 24
    # someone can answer every queue at every hour of the day (the line is open 24 hours)
    for h in range(24):
        for q in REQUEST_TYPES:
            assert any(q in g.skills and g.agents_by_hour[h] > 0 for g in cfg.groups.values()), (q, h)


def test_shipped_config_says_figures_are_not_published():
    text = SHIPPED.read_text(encoding="utf-8").lower()
    assert "not a published" in text or "not published" in text


def test_good_config_is_typed():
    cfg = parse_config(GOOD, "q.yaml")
    assert cfg.start_hour == 8
    info = cfg.queues["informasi"]
    assert info.max_length == 5 and info.service.kind == "gamma" and info.service.cv == 0.8
    assert info.patience is not None and info.patience.mean == 100
    assert cfg.queues["pengaduan"].patience is None  # `patience: none` overrides
    assert cfg.queues["pengaduan"].max_length is None
    by_hour = cfg.groups["umum"].agents_by_hour
    assert by_hour[23] == 2 and by_hour[3] == 2 and by_hour[6] == 5 and by_hour[9] == 8 and by_hour[12] == 5
    assert dict(cfg.traffic.mix) == {"informasi": 0.75, "pengaduan": 0.25}
    assert cfg.announcements.callback_key == "#"
    assert cfg.announcements.periodic_announce_s == 45
    assert cfg.announcements.hold_music is True


def test_unknown_key_points_at_line_and_column_with_hint():
    text = GOOD.replace("    max_length: 5\n", "    max_lenght: 5\n")
    msgs = issues_of(text)
    assert msgs == ["q.yaml:7:5: unknown key 'max_lenght' in queue 'informasi'; did you mean 'max_length'?"]


def test_every_problem_reported_at_once_in_line_order():
    text = (GOOD.replace("dist: gamma", "dist: gama")
            .replace("skills: [informasi, pengaduan]", "skills: [informasi, pengaduann]")
            .replace("informasi: 3,", "informasi: -3,"))
    msgs = issues_of(text)
    assert len(msgs) == 4, msgs
    assert msgs[0].startswith("q.yaml:8:21:") and "did you mean 'gamma'" in msgs[0]
    # the misspelt skill leaves queue pengaduan without agents: said at the queue's name
    assert msgs[1].startswith("q.yaml:9:3:") and "'pengaduan' has no agent group" in msgs[1]
    assert msgs[2].startswith("q.yaml:15:25:") and "skill 'pengaduann' is not a queue; did you mean 'pengaduan'" in msgs[2]
    assert msgs[3].startswith("q.yaml:22:20:") and "traffic.mix.informasi must be >= 0" in msgs[3]


@pytest.mark.parametrize(
    "old,new,expect",
    [
        ("service: {dist: gamma, mean: 180, cv: 0.8}", "service: {dist: gamma, mean: 180}", "needs cv"),
        ("service: {dist: deterministic, mean: 300}", "service: {dist: deterministic, mean: -3}", "must be > 0"),
        ("service: {dist: deterministic, mean: 300}", "service: {dist: exponential, mean: 30, cv: 2}", "fixed cv"),
        ("calls_per_hour: 60", "calls_per_hour: lots", "must be a number"),
        ("callback_key: \"#\"", "callback_key: \"ab\"", "one keypad key"),
        ("{from: 8, to: 12, agents: 3}", "{from: 8, to: 25, agents: 3}", "must be <= 24"),
        ("version: 1", "version: 2", "unsupported version 2"),
        ("  calls_per_hour: 60\n", "  calls_per_hour: 60\n  profile: [1, 2]\n", "list of 24 factors"),
        ("skills: [informasi, pengaduan]", "skills: [informasi]", "queue 'pengaduan' has no agent group"),
    ],
)
def test_specific_errors(old, new, expect):
    assert old in GOOD
    msgs = issues_of(GOOD.replace(old, new))
    assert any(expect in m for m in msgs), msgs
    assert all(m.startswith("q.yaml:") for m in msgs)


def test_duplicate_key_is_an_error():
    msgs = issues_of(GOOD.replace("start_hour: 8\n", "start_hour: 8\nstart_hour: 9\n"))
    assert msgs == ["q.yaml:3:1: duplicate key 'start_hour' in the queue file (first at line 2)"]


def test_missing_sections():
    msgs = issues_of("version: 1\n")
    assert any("missing required key 'queues'" in m for m in msgs)
    assert any("missing required key 'traffic'" in m for m in msgs)
    assert issues_of("") == ["q.yaml:1:1: the file is empty; expected keys version, queues, agents, traffic"]


def test_yaml_syntax_error_has_position():
    msgs = issues_of("version: 1\nqueues: [a, b\n")
    assert len(msgs) == 1 and msgs[0].startswith("q.yaml:3:") and "YAML syntax error" in msgs[0]


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    t0 = time.perf_counter()
    msgs = issues_of(bomb)
    assert time.perf_counter() - t0 < 1.0
    assert msgs == ["q.yaml:1:4: YAML anchors and aliases (& and *) are not allowed in queue files; write the values out"]


def test_deep_nesting_is_refused():
    deep = "version: " + "[" * 40 + "]" * 40 + "\n"
    msgs = issues_of(deep)
    assert len(msgs) == 1 and "nesting deeper than" in msgs[0]


def test_custom_tags_are_refused():
    msgs = issues_of(GOOD.replace("calls_per_hour: 60", "calls_per_hour: !!python/object:os.system 60"))
    assert any("tag" in m for m in msgs)


def test_missing_file_error(tmp_path):
    with pytest.raises(QueueConfigError, match="cannot read file"):
        load_config(tmp_path / "nope.yaml")


def test_flat_staff_split_keeps_total_and_every_group():
    cfg = load_config(SHIPPED)
    for total in (4, 7, 30, 101):
        flat = cfg.with_flat_staff(total)
        counts = [g.agents_by_hour[0] for g in flat.groups.values()]
        assert sum(counts) == total
        assert min(counts) >= 1
        assert all(len(set(g.agents_by_hour)) == 1 for g in flat.groups.values())


# ---- agent names: who greets the caller -------------------------------------------------
def test_agent_names_default_and_shipped():
    from ivr.queue.config import AGENT_NAMES

    cfg = parse_config(GOOD, "q.yaml")
    assert cfg.agent_names == AGENT_NAMES and len(set(AGENT_NAMES)) == len(AGENT_NAMES)
    shipped = load_config(SHIPPED)
    assert shipped.agent_names[:3] == ("Rina", "Dewi", "Andi")
    # agents are numbered across groups in file order: the first of the second group follows
    # the first group's peak staffing, so agents on duty together have different names
    first_group, second_group = list(shipped.groups)[:2]
    peak = shipped.groups[first_group].peak
    assert shipped.agent_name(f"{first_group}/1") == "Rina"
    assert shipped.agent_name(f"{first_group}/2") == "Dewi"
    assert shipped.agent_name(f"{second_group}/1") == shipped.agent_names[peak % len(shipped.agent_names)]
    on_duty = [f"{g}/{n}" for g, grp in shipped.groups.items() for n in range(1, grp.peak + 1)]
    names = [shipped.agent_name(a) for a in on_duty]
    assert all(names) and len(set(names[:len(shipped.agent_names)])) == len(shipped.agent_names)
    # ids the model never makes have no name (the engine then says the id's number)
    assert [shipped.agent_name(a) for a in ("", "nobody/1", f"{first_group}/0", f"{first_group}/x")] == ["", "", "", ""]


def test_agent_names_from_the_file_wrap_round():
    cfg = parse_config(GOOD + "agent_names: [Siti, Joko]\n", "q.yaml")
    assert cfg.agent_names == ("Siti", "Joko")
    assert [cfg.agent_name(f"umum/{n}") for n in (1, 2, 3)] == ["Siti", "Joko", "Siti"]
    # a staffing study keeps the names
    assert cfg.with_flat_staff(4).agent_names == ("Siti", "Joko")


@pytest.mark.parametrize("value,expect", [
    ("[]", "agent_names must be a list of names"),
    ("Rina", "agent_names must be a list of names"),
    ("[Rina, Rina]", "agent name 'Rina' is listed twice"),
    ("[Rina, '0811']", "must be letters"),
    ("[Rina, {a: 1}]", "must be a single value"),
    ("[Rina, Nama Yang Terlalu Panjang Sekali]", "must be letters"),
])
def test_agent_names_errors_point_at_the_name(value, expect):
    msgs = issues_of(GOOD + f"agent_names: {value}\n")
    assert len(msgs) == 1 and expect in msgs[0], msgs
    assert msgs[0].startswith("q.yaml:26:"), msgs
