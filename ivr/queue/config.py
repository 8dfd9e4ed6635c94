"""Agent-queue configuration (`menus/queues.yaml`): loader, validation and typed settings.

Why a hand-written loader: the queue file is edited by people who are not programmers, so
every mistake must come back as ``file:line:col: message`` pointing at the offending node
(like the call-tree loader), all mistakes at once, never a traceback. The YAML is read by
the one hardened reader, ``ivr.yamlsafe.compose`` (which keeps each node's position), with
limits that refuse anchors/aliases (the "billion laughs" expansion), deep nesting and huge
files; the validator refuses custom tags, so a hostile or broken file cannot exhaust memory.

File layout (see menus/queues.yaml for a commented example)::

    version: 1
    start_hour: 9                # time of day (0-24) a live call / simulation starts at
    patience: {dist: exponential, mean: 150}   # or `none` for callers who never hang up
    queues:
      pendaftaran:
        label: Pendaftaran peserta
        priority: 1              # higher is answered first by agents with several skills
        max_length: 40           # callers beyond this hear "busy" (null = no limit)
        service: {dist: lognormal, mean: 420, cv: 0.6}
        patience: {...}          # optional per-queue override
    agents:
      kepesertaan:
        skills: [pendaftaran, penambahan_peserta]
        shifts:                  # agents on duty from hour `from` to hour `to` (may wrap)
          - {from: 7, to: 15, agents: 10}
    traffic:
      calls_per_hour: 220        # at profile factor 1.0
      profile: [24 factors, one per hour of day]
      mix: {pendaftaran: 0.12, ...}   # shares, normalised to sum 1
    announcements:
      announce_position: true
      announce_holdtime: true
      periodic_announce_s: 30
      callback_key: "*"
      hold_music: true
    agent_names: [Rina, Dewi, ...]   # optional; who greets the caller (default AGENT_NAMES)
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ivr.jkn.specs import AGENT_QUEUES
from ivr.yamlsafe import Limits, YamlError
from ivr.yamlsafe import compose as compose_yaml
from ivr.yamlsafe import read_text as read_yaml_text

__all__ = [
    "REQUEST_TYPES",
    "Distribution",
    "QueueSpec",
    "AgentGroup",
    "Traffic",
    "Announcements",
    "QueueConfig",
    "ConfigIssue",
    "QueueConfigError",
    "load_config",
    "parse_config",
    "single_queue_config",
    "AGENT_NAMES",
]

#: The agent queues of the request types the 165 agents handle, as the JKN services declare
#: them (ivr.jkn.specs.REQUESTS: `ganti_fktp` is answered in the `perubahan_data` queue, a
#: `callback` is left from any queue); the shipped config has one queue each.
REQUEST_TYPES: tuple[str, ...] = AGENT_QUEUES

DIST_KINDS = ("exponential", "lognormal", "gamma", "deterministic")
MAX_FILE_BYTES = 1 << 20
#: Most agents one simulated pool may have: the model keeps a record per agent, so memory and
#: start-up grow with the count (100,000 agents: about 1.5 s and 140 MB); far beyond any
#: real 165 staffing. `ivr queue erlang` has no such limit.
MAX_SIM_AGENTS = 100_000
MAX_DEPTH = 12
MAX_EVENTS = 50_000
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

#: Who greets a caller ("Selamat pagi, dengan Rina"), when the queue file names nobody. The
#: model numbers agents per group ("kepesertaan/3"); `QueueConfig.agent_name` maps a number
#: to one of these. Short given names: the greeting stays within the speech budget, whose
#: worst case for {agen} (ivr.tree.budget) is a name this long.
AGENT_NAMES: tuple[str, ...] = (
    "Rina", "Dewi", "Andi", "Sari", "Rizki", "Putri", "Agus", "Wulan", "Fajar", "Maya",
    "Yusuf", "Intan", "Dimas", "Fitri", "Bayu", "Nia", "Hendra", "Ayu", "Ilham", "Lestari",
)
#: What an agent name may be: a given name or two, letters only (it is spoken, and it sits in
#: every greeting, so it must be short).
_AGENT_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z' .-]{0,19}$")
MAX_AGENT_NAMES = 1000


# --------------------------------------------------------------------------- typed settings
@dataclass(frozen=True)
class Distribution:
    """A positive random duration in seconds: ``kind`` with ``mean`` and coefficient of variation ``cv``.

    exponential has cv 1, deterministic cv 0; lognormal and gamma take any cv > 0.
    """

    kind: str
    mean: float
    cv: float = 1.0

    def sampler(self, rng: Any, block: int = 16384):
        """Return a zero-argument callable giving one sample per call (drawn in numpy blocks)."""
        draw = self._block_draw(rng)

        def gen():
            while True:
                yield from draw(block).tolist()

        return gen().__next__

    def _block_draw(self, rng: Any):
        m, cv = self.mean, self.cv
        if self.kind == "exponential":
            return lambda n: rng.exponential(m, n)
        if self.kind == "deterministic":
            import numpy as np

            return lambda n: np.full(n, m)
        if self.kind == "lognormal":
            s2 = math.log1p(cv * cv)
            mu, s = math.log(m) - s2 / 2.0, math.sqrt(s2)
            return lambda n: rng.lognormal(mu, s, n)
        if self.kind == "gamma":
            shape = 1.0 / (cv * cv)
            return lambda n: rng.gamma(shape, m / shape, n)
        raise ValueError(f"unknown distribution {self.kind!r}")


@dataclass(frozen=True)
class QueueSpec:
    """One queue (one request type)."""

    name: str
    label: str
    priority: int
    max_length: int | None
    service: Distribution
    patience: Distribution | None  # None: callers in this queue never abandon


@dataclass(frozen=True)
class AgentGroup:
    """Agents sharing a skill set; ``agents_by_hour[h]`` are on duty from h:00 to h+1:00."""

    name: str
    skills: tuple[str, ...]
    agents_by_hour: tuple[int, ...]

    @property
    def peak(self) -> int:
        return max(self.agents_by_hour)


@dataclass(frozen=True)
class Traffic:
    """Background arrivals: Poisson with rate ``calls_per_hour * profile[hour]``."""

    calls_per_hour: float
    profile: tuple[float, ...]  # 24 factors
    mix: tuple[tuple[str, float], ...]  # (queue, share), shares sum to 1

    def rate_per_hour(self, hour: int) -> float:
        return self.calls_per_hour * self.profile[hour % 24]


@dataclass(frozen=True)
class Announcements:
    """What a waiting caller hears (Asterisk queues.conf names)."""

    announce_position: bool = True
    announce_holdtime: bool = True
    periodic_announce_s: float = 30.0
    callback_key: str | None = "*"
    hold_music: bool = True


@dataclass(frozen=True)
class QueueConfig:
    """The whole queue configuration; built by :func:`load_config` or :func:`single_queue_config`."""

    queues: dict[str, QueueSpec]
    groups: dict[str, AgentGroup]
    traffic: Traffic
    announcements: Announcements = field(default_factory=Announcements)
    start_hour: float = 9.0
    source: str = "<config>"
    agent_names: tuple[str, ...] = AGENT_NAMES

    def agent_name(self, agent_id: str) -> str:
        """The name an agent greets with. The model's ids are "group/N" (N from 1 within the
        group); agents are numbered across the groups in file order, so two agents on duty
        together get different names while there are names enough. "" for an id the model
        did not make."""
        group, _, num = (agent_id or "").rpartition("/")
        if group not in self.groups or not num.isdigit() or int(num) < 1 or not self.agent_names:
            return ""
        offset = 0
        for name, g in self.groups.items():
            if name == group:
                break
            offset += g.peak
        return self.agent_names[(offset + int(num) - 1) % len(self.agent_names)]

    def offered_load(self, hour: int | None = None) -> float:
        """Offered traffic in Erlangs (at ``hour``, or averaged over the day)."""
        aht = sum(share * self.queues[q].service.mean for q, share in self.traffic.mix)
        if hour is None:
            rate = self.traffic.calls_per_hour * sum(self.traffic.profile) / 24.0
        else:
            rate = self.traffic.rate_per_hour(hour)
        return rate * aht / 3600.0

    def mean_handle_time(self) -> float:
        return sum(share * self.queues[q].service.mean for q, share in self.traffic.mix)

    def with_flat_staff(self, total: int) -> "QueueConfig":
        """The same config with ``total`` agents on duty around the clock, split over the groups
        in proportion to their scheduled agent-hours (largest remainder; every group keeps at
        least one agent when ``total`` allows). Used by staffing studies (`--agents`)."""
        _check_sim_agents(total)
        names = list(self.groups)
        weights = [sum(self.groups[n].agents_by_hour) or 1 for n in names]
        wsum = float(sum(weights))
        raw = [total * w / wsum for w in weights]
        counts = [int(math.floor(x)) for x in raw]
        if total >= len(names):
            counts = [max(1, c) for c in counts]
        while sum(counts) > total:
            i = max(range(len(names)), key=lambda k: (counts[k] - raw[k], counts[k]))
            counts[i] -= 1
        order = sorted(range(len(names)), key=lambda k: raw[k] - counts[k], reverse=True)
        i = 0
        while sum(counts) < total:
            counts[order[i % len(order)]] += 1
            i += 1
        groups = {
            n: replace(self.groups[n], agents_by_hour=(c,) * 24) for n, c in zip(names, counts)
        }
        return replace(self, groups=groups)

    def with_flat_traffic(self, hour: int) -> "QueueConfig":
        """The same config with the arrival rate of ``hour`` held all day (stationary study)."""
        rate = self.traffic.rate_per_hour(hour)
        return replace(self, traffic=replace(self.traffic, calls_per_hour=rate, profile=(1.0,) * 24))


def _check_sim_agents(agents: int) -> None:
    if agents < 1:
        raise ValueError("agents must be >= 1")
    if agents > MAX_SIM_AGENTS:
        raise ValueError(f"at most {MAX_SIM_AGENTS:,} agents in a simulation (got {agents:,}); "
                         "`ivr queue erlang` gives the closed-form figures for any pool")


def single_queue_config(
    traffic: float, aht: float, agents: int, patience: float | None, *, name: str = "umum"
) -> QueueConfig:
    """An M/M/c (patience None) or M/M/c+M queue as a QueueConfig, so the Erlang checks run
    through exactly the same model code as the full 165 configuration."""
    if not (traffic > 0 and math.isfinite(traffic)):
        raise ValueError("traffic must be a positive number of Erlangs")
    if not (aht > 0 and math.isfinite(aht)):
        raise ValueError("AHT must be a positive number of seconds")
    _check_sim_agents(agents)
    if patience is not None and not (patience > 0 and math.isfinite(patience)):
        raise ValueError("patience must be a positive number of seconds")
    pat = Distribution("exponential", float(patience)) if patience else None
    q = QueueSpec(name, name, 0, None, Distribution("exponential", float(aht)), pat)
    g = AgentGroup("agents", (name,), (int(agents),) * 24)
    t = Traffic(traffic / aht * 3600.0, (1.0,) * 24, ((name, 1.0),))
    return QueueConfig({name: q}, {"agents": g}, t, Announcements(), 0.0, "<M/M/c>")


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class ConfigIssue:
    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class QueueConfigError(ValueError):
    """Raised with every problem found; ``str()`` is one ``file:line:col: message`` per line."""

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


# --------------------------------------------------------------------------- loading
#: What a queue file may contain (ivr.yamlsafe reads every user YAML file with its limits):
#: no anchors or aliases, shallow nesting, a bounded number of values.
QUEUE_LIMITS = Limits(max_bytes=MAX_FILE_BYTES, max_depth=MAX_DEPTH, max_values=MAX_EVENTS,
                      aliases=False, what="queue files")


def _issue(exc: YamlError) -> QueueConfigError:
    message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
    return QueueConfigError([ConfigIssue(exc.path, exc.line, exc.col, message)])


def load_config(path: str | Path) -> QueueConfig:
    """Read and validate a queue YAML file."""
    try:
        text = read_yaml_text(path, QUEUE_LIMITS)
    except YamlError as exc:
        raise _issue(exc) from None
    return parse_config(text, str(path))


def parse_config(text: str, filename: str = "<string>") -> QueueConfig:
    """Validate YAML text; raise :class:`QueueConfigError` listing every problem."""
    try:
        root = compose_yaml(text, filename, QUEUE_LIMITS)
    except YamlError as exc:
        raise _issue(exc) from None
    v = _Validator(filename)
    cfg = v.config(root)
    if v.issues:
        raise QueueConfigError(sorted(v.issues, key=lambda i: (i.line, i.col)))
    assert cfg is not None
    return cfg


_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MISSING = object()


class _Validator:
    """Turns composed nodes into typed settings, collecting issues with positions."""

    def __init__(self, filename: str):
        self.file = filename
        self.issues: list[ConfigIssue] = []
        self._ctor = yaml.constructor.SafeConstructor()
        self._queue_keys: dict[str, tuple[yaml.Node, yaml.Node]] = {}

    # -- helpers -------------------------------------------------------------------------
    def err(self, node: yaml.Node | None, message: str) -> None:
        if node is None:
            self.issues.append(ConfigIssue(self.file, 1, 1, message))
        else:
            m = node.start_mark
            self.issues.append(ConfigIssue(self.file, m.line + 1, m.column + 1, message))

    def mapping(self, node: yaml.Node, what: str, allowed: tuple[str, ...] | None = None) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.err(node, f"{what} must be a mapping (key: value lines)")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.tag not in _SCALAR_TAGS:
                self.err(k, f"keys in {what} must be plain names")
                continue
            key = str(k.value)
            if key in out:
                self.err(k, f"duplicate key '{key}' in {what} (first at line {out[key][0].start_mark.line + 1})")
                continue
            if allowed is not None and key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else f"; allowed: {', '.join(allowed)}"
                self.err(k, f"unknown key '{key}' in {what}{extra}")
                continue
            out[key] = (k, v)
        return out

    def scalar(self, node: yaml.Node, what: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.err(node, f"{what} must be a single value, not a list or mapping")
            return _MISSING
        if node.tag not in _SCALAR_TAGS:
            self.err(node, f"{what}: YAML tag {node.tag} is not allowed")
            return _MISSING
        try:
            return self._ctor.construct_object(node)
        except Exception:  # noqa: BLE001 - malformed scalar for its tag
            self.err(node, f"{what}: cannot read value {node.value!r}")
            return _MISSING

    def number(self, node: yaml.Node, what: str, *, lo: float | None = None, lo_open: bool = False,
               hi: float | None = None, integer: bool = False) -> float | None:
        x = self.scalar(node, what)
        if x is _MISSING:
            return None
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            self.err(node, f"{what} must be a {'whole ' if integer else ''}number, got {node.value!r}")
            return None
        if integer and not isinstance(x, int):
            if float(x).is_integer():
                x = int(x)
            else:
                self.err(node, f"{what} must be a whole number, got {node.value}")
                return None
        if not math.isfinite(x):
            self.err(node, f"{what} must be finite, got {node.value}")
            return None
        if lo is not None and (x < lo or (lo_open and x == lo)):
            self.err(node, f"{what} must be {'>' if lo_open else '>='} {lo:g}, got {x:g}")
            return None
        if hi is not None and x > hi:
            self.err(node, f"{what} must be <= {hi:g}, got {x:g}")
            return None
        return x

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        x = self.scalar(node, what)
        if x is _MISSING:
            return None
        if not isinstance(x, bool):
            self.err(node, f"{what} must be true or false, got {node.value!r}")
            return None
        return x

    def string(self, node: yaml.Node, what: str) -> str | None:
        x = self.scalar(node, what)
        if x is _MISSING:
            return None
        if not isinstance(x, str) or not x.strip():
            self.err(node, f"{what} must be non-empty text")
            return None
        return x

    def is_null(self, node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def is_none_word(self, node: yaml.Node) -> bool:
        return self.is_null(node) or (
            isinstance(node, yaml.ScalarNode) and str(node.value).strip().lower() in ("none", "never")
        )

    def require(self, m: dict, key: str, parent: yaml.Node, what: str):
        if key not in m:
            self.err(parent, f"{what} is missing required key '{key}'")
            return None
        return m[key][1]

    # -- sections ------------------------------------------------------------------------
    def config(self, root: yaml.Node | None) -> QueueConfig | None:
        if root is None:
            self.err(None, "the file is empty; expected keys version, queues, agents, traffic")
            return None
        top = self.mapping(root, "the queue file", ("version", "start_hour", "patience", "queues", "agents", "traffic", "announcements",
                                                      "agent_names"))
        if top is None:
            return None
        vnode = self.require(top, "version", root, "the queue file")
        if vnode is not None:
            ver = self.number(vnode, "version", integer=True)
            if ver is not None and ver != 1:
                self.err(vnode, f"unsupported version {ver}; this simulator reads version 1")
        start_hour = 9.0
        if "start_hour" in top:
            sh = self.number(top["start_hour"][1], "start_hour", lo=0, hi=24)
            start_hour = float(sh) % 24 if sh is not None else start_hour
        patience: Distribution | None = None
        pnode = self.require(top, "patience", root, "the queue file")
        if pnode is not None:
            patience = self.patience(pnode, "patience")
        queues: dict[str, QueueSpec] = {}
        qnode = self.require(top, "queues", root, "the queue file")
        if qnode is not None:
            queues = self.queues(qnode, patience)
        groups: dict[str, AgentGroup] = {}
        anode = self.require(top, "agents", root, "the queue file")
        if anode is not None:
            groups = self.agents(anode, queues)
        traffic = None
        tnode = self.require(top, "traffic", root, "the queue file")
        if tnode is not None:
            traffic = self.traffic(tnode, queues)
        ann = Announcements()
        if "announcements" in top:
            ann = self.announcements(top["announcements"][1]) or ann
        names = AGENT_NAMES
        if "agent_names" in top:
            names = self.agent_names(top["agent_names"][1]) or names
        if queues and groups:
            served = {s for g in groups.values() for s in g.skills}
            for name, (knode, _) in self._queue_keys.items():
                if name not in served:
                    self.err(knode, f"queue '{name}' has no agent group with this skill; its callers would wait forever")
                elif not any(name in g.skills and g.peak > 0 for g in groups.values()):
                    self.err(knode, f"queue '{name}': no agent with this skill is ever on duty")
        if self.issues or traffic is None:
            return None
        return QueueConfig(queues, groups, traffic, ann, start_hour, self.file, names)

    def agent_names(self, node: yaml.Node) -> tuple[str, ...] | None:
        """agent_names: a list of short given names, each once."""
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.err(node, "agent_names must be a list of names, e.g. [Rina, Dewi, Andi]")
            return None
        if len(node.value) > MAX_AGENT_NAMES:
            self.err(node, f"agent_names has {len(node.value)} names; at most {MAX_AGENT_NAMES}")
            return None
        out: list[str] = []
        for item in node.value:
            x = self.scalar(item, "agent_names")
            if x is _MISSING:
                continue
            name = str(x).strip() if isinstance(x, str) else ""
            if not _AGENT_NAME_RE.match(name):
                self.err(item, f"agent name {item.value!r} must be letters (a given name, up to 20 characters)")
            elif name in out:
                self.err(item, f"agent name '{name}' is listed twice")
            else:
                out.append(name)
        return tuple(out) if len(out) == len(node.value) else None

    def distribution(self, node: yaml.Node, what: str) -> Distribution | None:
        m = self.mapping(node, what, ("dist", "mean", "cv"))
        if m is None:
            return None
        kind_node = self.require(m, "dist", node, what)
        mean_node = self.require(m, "mean", node, what)
        kind = self.string(kind_node, f"{what}.dist") if kind_node is not None else None
        if kind is not None and kind not in DIST_KINDS:
            hint = difflib.get_close_matches(kind, DIST_KINDS, n=1)
            self.err(kind_node, f"{what}.dist '{kind}' is not one of {', '.join(DIST_KINDS)}" + (f"; did you mean '{hint[0]}'?" if hint else ""))
            kind = None
        mean = self.number(mean_node, f"{what}.mean (seconds)", lo=0, lo_open=True) if mean_node is not None else None
        cv = {"exponential": 1.0, "deterministic": 0.0}.get(kind or "", None)
        if "cv" in m:
            cnode = m["cv"][1]
            if kind in ("exponential", "deterministic"):
                self.err(cnode, f"{what}.cv: a {kind} distribution has a fixed cv ({cv:g}); remove cv or use lognormal/gamma")
            else:
                cv = self.number(cnode, f"{what}.cv", lo=0, lo_open=True, hi=20)
        elif kind in ("lognormal", "gamma"):
            self.err(node, f"{what}: a {kind} distribution needs cv (coefficient of variation, e.g. 0.6)")
        if kind is None or mean is None or cv is None:
            return None
        return Distribution(kind, float(mean), float(cv))

    def patience(self, node: yaml.Node, what: str) -> Distribution | None:
        if self.is_none_word(node):
            return None
        return self.distribution(node, what)

    def queues(self, node: yaml.Node, patience: Distribution | None) -> dict[str, QueueSpec]:
        m = self.mapping(node, "queues")
        self._queue_keys = {}
        out: dict[str, QueueSpec] = {}
        if m is None:
            return out
        if not m:
            self.err(node, "queues is empty; define at least one queue")
        for name, (knode, vnode) in m.items():
            self._queue_keys[name] = (knode, vnode)
            what = f"queue '{name}'"
            if not _NAME_RE.match(name):
                self.err(knode, f"{what}: names are lower-case letters, digits and _ (e.g. ganti_kelas)")
                continue
            q = self.mapping(vnode, what, ("label", "priority", "max_length", "service", "patience"))
            if q is None:
                continue
            label = name
            if "label" in q:
                label = self.string(q["label"][1], f"{what}.label") or name
            priority = 0
            if "priority" in q:
                p = self.number(q["priority"][1], f"{what}.priority", integer=True, lo=-100, hi=100)
                priority = int(p) if p is not None else 0
            max_length: int | None = None
            if "max_length" in q and not self.is_null(q["max_length"][1]):
                ml = self.number(q["max_length"][1], f"{what}.max_length", integer=True, lo=1)
                max_length = int(ml) if ml is not None else None
            snode = self.require(q, "service", vnode, what)
            service = self.distribution(snode, f"{what}.service") if snode is not None else None
            qpat = patience
            if "patience" in q:
                qpat = self.patience(q["patience"][1], f"{what}.patience")
            if service is not None:
                out[name] = QueueSpec(name, label, priority, max_length, service, qpat)
        return out

    def agents(self, node: yaml.Node, queues: dict[str, QueueSpec]) -> dict[str, AgentGroup]:
        m = self.mapping(node, "agents")
        out: dict[str, AgentGroup] = {}
        if m is None:
            return out
        if not m:
            self.err(node, "agents is empty; define at least one agent group")
        for name, (knode, vnode) in m.items():
            what = f"agent group '{name}'"
            if not _NAME_RE.match(name):
                self.err(knode, f"{what}: names are lower-case letters, digits and _")
                continue
            g = self.mapping(vnode, what, ("skills", "shifts"))
            if g is None:
                continue
            skills: list[str] = []
            snode = self.require(g, "skills", vnode, what)
            if snode is not None:
                if not isinstance(snode, yaml.SequenceNode) or not snode.value:
                    self.err(snode, f"{what}.skills must be a non-empty list of queue names")
                else:
                    for item in snode.value:
                        s = self.string(item, f"{what}.skills item")
                        if s is None:
                            continue
                        if s not in self._queue_keys:
                            hint = difflib.get_close_matches(s, list(self._queue_keys), n=1)
                            self.err(item, f"{what}: skill '{s}' is not a queue" + (f"; did you mean '{hint[0]}'?" if hint else ""))
                        elif s in skills:
                            self.err(item, f"{what}: skill '{s}' listed twice")
                        else:
                            skills.append(s)
            by_hour = [0] * 24
            shnode = self.require(g, "shifts", vnode, what)
            if shnode is not None:
                if not isinstance(shnode, yaml.SequenceNode) or not shnode.value:
                    self.err(shnode, f"{what}.shifts must be a non-empty list of {{from, to, agents}}")
                else:
                    for item in shnode.value:
                        sh = self.mapping(item, f"{what} shift", ("from", "to", "agents"))
                        if sh is None:
                            continue
                        vals = {}
                        for key, lo, hi in (("from", 0, 23), ("to", 1, 24), ("agents", 0, 10000)):
                            kn = self.require(sh, key, item, f"{what} shift")
                            if kn is not None:
                                vals[key] = self.number(kn, f"{what} shift '{key}'", integer=True, lo=lo, hi=hi)
                        if len(vals) == 3 and None not in vals.values():
                            a, b, n = int(vals["from"]), int(vals["to"]), int(vals["agents"])
                            if a == b % 24:
                                hours = list(range(24))  # from == to: all day
                            elif a < b:
                                hours = list(range(a, b))
                            else:  # wraps past midnight
                                hours = list(range(a, 24)) + list(range(0, b))
                            for h in hours:
                                by_hour[h] += n
            if skills:
                out[name] = AgentGroup(name, tuple(skills), tuple(by_hour))
        return out

    def traffic(self, node: yaml.Node, queues: dict[str, QueueSpec]) -> Traffic | None:
        m = self.mapping(node, "traffic", ("calls_per_hour", "profile", "mix"))
        if m is None:
            return None
        cnode = self.require(m, "calls_per_hour", node, "traffic")
        rate = self.number(cnode, "traffic.calls_per_hour", lo=0, lo_open=True) if cnode is not None else None
        profile: tuple[float, ...] | None = (1.0,) * 24
        if "profile" in m:
            pnode = m["profile"][1]
            if not isinstance(pnode, yaml.SequenceNode) or len(pnode.value) != 24:
                n = len(pnode.value) if isinstance(pnode, yaml.SequenceNode) else "not a list"
                self.err(pnode, f"traffic.profile must be a list of 24 factors, one per hour of day (got {n})")
                profile = None
            else:
                vals = [self.number(x, f"traffic.profile[{i}]", lo=0) for i, x in enumerate(pnode.value)]
                if None in vals:
                    profile = None
                elif sum(vals) <= 0:  # type: ignore[arg-type]
                    self.err(pnode, "traffic.profile is all zero: no calls would ever arrive")
                    profile = None
                else:
                    profile = tuple(float(v) for v in vals)  # type: ignore[arg-type]
        mnode = self.require(m, "mix", node, "traffic")
        mix: list[tuple[str, float]] = []
        if mnode is not None:
            mm = self.mapping(mnode, "traffic.mix")
            if mm is not None:
                for q, (kn, vn) in mm.items():
                    if q not in self._queue_keys:
                        hint = difflib.get_close_matches(q, list(self._queue_keys), n=1)
                        self.err(kn, f"traffic.mix: '{q}' is not a queue" + (f"; did you mean '{hint[0]}'?" if hint else ""))
                        continue
                    share = self.number(vn, f"traffic.mix.{q}", lo=0)
                    if share is not None and share > 0:
                        mix.append((q, float(share)))
                if mm and not mix and not self.issues:
                    self.err(mnode, "traffic.mix: all shares are zero")
                elif not mm:
                    self.err(mnode, "traffic.mix is empty")
        if rate is None or profile is None or not mix:
            return None
        total = sum(s for _, s in mix)
        return Traffic(float(rate), profile, tuple((q, s / total) for q, s in mix))

    def announcements(self, node: yaml.Node) -> Announcements | None:
        keys = ("announce_position", "announce_holdtime", "periodic_announce_s", "callback_key", "hold_music")
        m = self.mapping(node, "announcements", keys)
        if m is None:
            return None
        d = Announcements()
        kw: dict[str, Any] = {}
        for key in ("announce_position", "announce_holdtime", "hold_music"):
            if key in m:
                b = self.boolean(m[key][1], f"announcements.{key}")
                if b is not None:
                    kw[key] = b
        if "periodic_announce_s" in m:
            n = m["periodic_announce_s"][1]
            if self.is_null(n) or (isinstance(n, yaml.ScalarNode) and n.value in ("0", "off")):
                kw["periodic_announce_s"] = 0.0
            else:
                x = self.number(n, "announcements.periodic_announce_s", lo=5, hi=3600)
                if x is not None:
                    kw["periodic_announce_s"] = float(x)
        if "callback_key" in m:
            n = m["callback_key"][1]
            if self.is_null(n):
                kw["callback_key"] = None
            else:
                x = self.scalar(n, "announcements.callback_key")
                s = str(x) if x is not _MISSING and not isinstance(x, bool) else None
                if s is None or s not in list("0123456789*#"):
                    self.err(n, "announcements.callback_key must be one keypad key: 0-9, * or # (quote * and #)")
                else:
                    kw["callback_key"] = s
        return replace(d, **kw)
