"""Scenario tests for call trees: YAML conversations with expectations.

The format follows Bespoken's IVR tests (a list of interactions: what the caller does, what
the IVR should say next) and ivr-tester (ordered steps with conditions on what the IVR says,
plus a final assertion on how the call ended). A file holds shared settings and scenarios:

    tree: ../menus/vika.yaml        # relative to this file (default: the bundled VIKA tree)
    today: 2026-11-23               # date the services use (default: today)
    scenarios:
      - name: status kepesertaan, peserta aktif
        steps:
          - expect: {node: menu_utama, prompt: "tekan 1"}       # checks the opening
          - keys: "1"                                            # caller presses keys
          - keys: "1"
            expect: {node: status_nik}
          - keys: "3174054508900002#"
          - say: "satu dua"                  # caller speaks (text -> perfect recogniser)
            confidence: 0.6                  # ... heard with this confidence (default 1.0)
          - audio: caller.wav                # caller audio (tones and speech), relative path
          - wait: 10                         # caller stays silent (seconds)
          - barge: "1"                       # keys pressed while the prompt still plays
          - hangup: true
        end: {outcome: transfer, transfer: {queue: ganti_kelas}}

Settings beside `db` (a database file, `:memory:` or `unavailable`: every service fails):
`unavailable: [permintaan]` fails only the named services (the back end is down for them,
so the tree's `default` branch is taken); `queue: off`, or `queue: {seed, hour, config,
max_length}` for the agent-queue model (`max_length: 0` makes every queue refuse a caller no
agent can take at once: the "queue full" branch).

Expectations (`expect` on a step is checked after that input; `end` after the call ends):
`prompt` (text or list; each must appear, case-insensitive, in what the IVR said since the
previous input), `prompt_regex`, `not_prompt`, `node` (where the call is now), `visited`,
`outcome`, `end_node`, `transfer` ({queue, request, fields}), `vars`.
A step's `expect` may also be a plain string: shorthand for `{prompt: ...}`.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ivr.calldate import CallDateError, parse_call_date
from ivr.privacy import input_is_public, mask_named
from ivr.yamlsafe import LineDict, YamlError, load_yaml_file
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.scripted import ScriptedCall
from ivr.drivers.setup import open_queue
from ivr.tree.loader import TreeLoadError, load_tree

INPUT_KEYS = ("keys", "barge", "say", "wait", "audio", "hangup")
EXPECT_KEYS = ("prompt", "prompt_regex", "not_prompt", "node", "visited", "outcome", "end_node",
               "transfer", "vars")
SCENARIO_KEYS = ("name", "steps", "end", "today", "tree", "db", "queue", "unavailable", "description")
FILE_KEYS = ("tree", "today", "db", "queue", "unavailable", "scenarios", "name", "steps", "end", "description")
QUEUE_KEYS = ("seed", "hour", "config", "max_length")


class ScenarioError(ValueError):
    """The scenario file itself is wrong (not a failing call)."""


@dataclass
class Scenario:
    name: str
    file: str
    line: int
    tree: Path
    today: dt.date
    db: str | None
    steps: list[LineDict]
    end: dict | None
    queue: dict | None = None   # None: no queue model (transfers end the call)
    unavailable: tuple[str, ...] = ()   # services that fail in this scenario


@dataclass
class ScenarioResult:
    scenario: Scenario
    ok: bool
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    visited: set[str] = field(default_factory=set)
    edges: set[tuple[str, str]] = field(default_factory=set)   # (from, to) tree edges the call took
    transcript: list[str] = field(default_factory=list)


def _where(path: str, d) -> str:
    return f"{path}:{getattr(d, 'line', 0)}"


def load_scenarios(path: str | Path, default_tree: Path) -> list[Scenario]:
    p = Path(path)
    try:
        doc = load_yaml_file(p)
    except YamlError as exc:
        raise ScenarioError(str(exc)) from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{p}:1:1: a scenario file must be a mapping with `scenarios:` (or `steps:`)")
    for k in doc:
        if k not in FILE_KEYS:
            raise ScenarioError(f"{_where(str(p), doc)}: unknown key '{k}' (expected one of {', '.join(FILE_KEYS)})")
    base = p.parent
    items = doc.get("scenarios")
    if items is None:
        items = [doc]
    if not isinstance(items, list) or not items:
        raise ScenarioError(f"{_where(str(p), doc)}: `scenarios` must be a non-empty list")
    out = []
    for i, sc in enumerate(items):
        if not isinstance(sc, dict):
            raise ScenarioError(f"{p}: scenario #{i + 1} must be a mapping")
        for k in sc:
            if k not in SCENARIO_KEYS and sc is not doc:
                raise ScenarioError(f"{_where(str(p), sc)}: unknown key '{k}' in scenario (expected one of {', '.join(SCENARIO_KEYS)})")
        tree = sc.get("tree", doc.get("tree"))
        tree_path = (base / str(tree)).resolve() if tree else default_tree
        today = _today(str(p), sc if "today" in sc else doc)
        steps = sc.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ScenarioError(f"{_where(str(p), sc)}: scenario needs a non-empty `steps` list")
        for st in steps:
            _check_step(str(p), st)
        end = sc.get("end")
        if end is not None:
            _check_expect(str(p), end, "end")
        db = sc.get("db", doc.get("db"))
        queue = _queue_settings(str(p), sc.get("queue", doc.get("queue", {})), base, sc)
        down = sc.get("unavailable", doc.get("unavailable", []))
        if not isinstance(down, list) or not all(isinstance(x, str) for x in down):
            raise ScenarioError(f"{_where(str(p), sc)}: unavailable must be a list of service names, got {_kind(down)}")
        out.append(Scenario(str(sc.get("name") or f"{p.stem} #{i + 1}"), str(p), getattr(sc, "line", 1),
                            tree_path, today, (db if db in (":memory:", "unavailable") else str(base / db)) if db else None,
                            steps, end, queue, tuple(down)))
    return out


def _today(path: str, holder: LineDict) -> dt.date:
    """The scenario's `today:` (its own, else the file's), by the rule `--today` follows
    (ivr.calldate); absent: the machine's date."""
    raw = holder.get("today")
    if raw is None:
        return dt.date.today()
    try:
        return parse_call_date(raw)
    except CallDateError as exc:
        line = holder.line_of("today") if isinstance(holder, LineDict) else 0
        raise ScenarioError(f"{path}:{line}: today: {exc}") from None


def _queue_settings(path: str, q, base: Path, where) -> dict | None:
    """`queue: off` (transfers end the call) or {seed, hour, config}; default: the queue
    file beside the tree, seed 0."""
    if q is False or q == "off":
        return None
    if q is None or q is True or q == "on":
        q = {}
    if not isinstance(q, dict):
        raise ScenarioError(f"{_where(path, where)}: queue must be 'off' or a mapping with {', '.join(QUEUE_KEYS)}")
    for k in q:
        if k not in QUEUE_KEYS:
            raise ScenarioError(f"{_where(path, q)}: unknown queue setting '{k}' (expected one of {', '.join(QUEUE_KEYS)})")
    out = {"seed": int(q.get("seed", 0)), "hour": q.get("hour"), "config": None, "max_length": None}
    if "max_length" in q:
        ml = q["max_length"]
        if not isinstance(ml, int) or isinstance(ml, bool) or ml < 0:
            raise ScenarioError(f"{_where(path, q)}: queue max_length must be a whole number >= 0, got {_kind(ml)}")
        out["max_length"] = ml
    if q.get("config"):
        out["config"] = str(base / str(q["config"]))
    return out


def _check_step(path: str, st) -> None:
    if not isinstance(st, dict):
        raise ScenarioError(f"{path}: each step must be a mapping, got {st!r}")
    inputs = [k for k in st if k in INPUT_KEYS]
    unknown = [k for k in st if k not in INPUT_KEYS and k not in ("expect", "confidence")]
    if unknown:
        raise ScenarioError(f"{_where(path, st)}: unknown step key '{unknown[0]}' "
                            f"(inputs: {', '.join(INPUT_KEYS)}; checks go under `expect`)")
    if len(inputs) > 1:
        raise ScenarioError(f"{_where(path, st)}: one input per step, got {', '.join(inputs)}")
    if "confidence" in st and ("say" not in st or not isinstance(st["confidence"], (int, float))
                               or isinstance(st["confidence"], bool) or not 0 <= st["confidence"] <= 1):
        raise ScenarioError(f"{_where(path, st)}: confidence goes with say: and is a number from 0 to 1 "
                            "(the recogniser's confidence in what the caller said)")
    if "wait" in st and (not isinstance(st["wait"], (int, float)) or isinstance(st["wait"], bool)
                         or not 0 <= st["wait"] <= 86400):
        raise ScenarioError(f"{_where(path, st)}: wait must be a number of seconds from 0 to 86400")
    for k in ("keys", "barge"):
        if k in st:
            v = str(st[k])
            bad = sorted(set(v) - set("0123456789*#ABCDw "))
            if bad:
                raise ScenarioError(f"{_where(path, st)}: {k}: unexpected character(s) {bad}")
    if "expect" in st:
        _check_expect(path, st["expect"], "expect", st)


def _check_expect(path: str, e, what: str, parent=None) -> None:
    if isinstance(e, str):
        return
    if not isinstance(e, dict):
        raise ScenarioError(f"{_where(path, parent or e)}: {what} must be a mapping or a prompt text")
    for k in e:
        if k not in EXPECT_KEYS:
            raise ScenarioError(f"{_where(path, e)}: unknown expectation '{k}' (expected one of {', '.join(EXPECT_KEYS)})")
        _check_expect_value(path, e, k)
    for rx in _as_list(e["prompt_regex"]) if "prompt_regex" in e else []:
        try:
            re.compile(rx)
        except re.error as exc:
            raise ScenarioError(f"{_where(path, e)}: prompt_regex /{rx}/ is not a valid regular expression ({exc})") from None


#: The shape each expectation's value must have, so that a mistake (`vars: [1, 2]`) is a
#: file:line error when the file is loaded rather than a crash when the check runs.
_TEXTS = ("prompt", "prompt_regex", "not_prompt", "visited")     # a text, or a list of texts
_NAMES = ("node", "outcome", "end_node")                          # one text
_TRANSFER_KEYS = ("queue", "request", "fields")


def _scalar(v) -> bool:
    return v is not None and not isinstance(v, (dict, list))


def _check_expect_value(path: str, e: dict, k: str) -> None:
    v = e[k]
    where = _where(path, v if isinstance(v, LineDict) else e)
    if k in _TEXTS:
        if not (_scalar(v) or (isinstance(v, list) and v and all(_scalar(x) for x in v))):
            raise ScenarioError(f"{where}: {k} must be a text or a list of texts, got {_kind(v)}")
    elif k in _NAMES:
        if not _scalar(v):
            raise ScenarioError(f"{where}: {k} must be one name, got {_kind(v)}")
    elif k == "vars":
        if not isinstance(v, dict) or any(isinstance(x, (dict, list)) for x in v.values()):
            raise ScenarioError(f"{where}: vars must be a mapping of variable: value "
                                f"(e.g. vars: {{kelas: 3}}), got {_kind(v)}")
    elif k == "transfer" and v is not None:   # null / {}: any transfer
        if not isinstance(v, dict):
            raise ScenarioError(f"{where}: transfer must be a mapping with {', '.join(_TRANSFER_KEYS)}, got {_kind(v)}")
        for tk, tv in v.items():
            if tk not in _TRANSFER_KEYS:
                raise ScenarioError(f"{where}: unknown transfer check '{tk}' (expected one of {', '.join(_TRANSFER_KEYS)})")
            if tk == "fields" and not (tv is None or (isinstance(tv, dict)
                                                       and not any(isinstance(x, (dict, list)) for x in tv.values()))):
                raise ScenarioError(f"{where}: transfer fields must be a mapping of field: value, got {_kind(tv)}")
            if tk != "fields" and not _scalar(tv):
                raise ScenarioError(f"{where}: transfer {tk} must be one name, got {_kind(tv)}")


def _kind(v) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, (dict, list)):
        return f"a {'mapping' if isinstance(v, dict) else 'list'} {json.dumps(v, default=str)[:60]}"
    return f"{type(v).__name__} {v!r}"


def _as_list(v) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


class _Check:
    def __init__(self, rt, since: int, unmask: bool = False):
        self.rt = rt
        self.since = since
        self.unmask = unmask
        # variables a personal collect gathered (a NIK, a date of birth): hidden in messages
        self.personal = {n.data.var for n in rt.tree.nodes.values() if n.kind == "collect" and not input_is_public(n)}

    def shown(self, name: str, value) -> str:
        """A variable's or field's value as a failure message may show it (masked unless
        --unmask; see `ivr.privacy.mask_named`)."""
        if value is None or self.unmask:
            return repr(value)
        values = {str(self.rt.session.vars[v]) for v in self.personal if self.rt.session.vars.get(v)}
        return repr(mask_named(name, value, personal=name in self.personal or str(value) in values))

    def said(self) -> str:
        return "\n".join(line.text for line in self.rt.transcript[self.since:] if line.who == "ivr" and line.heard)

    def run(self, e, label: str) -> list[str]:
        if isinstance(e, str):
            e = {"prompt": e}
        fails: list[str] = []
        said = self.said()
        s = self.rt.session
        for txt in _as_list(e["prompt"]) if "prompt" in e else []:
            if txt.lower() not in said.lower():
                fails.append(f"{label}: expected the IVR to say '{txt}'; it said: {said[-300:]!r}")
        for rx in _as_list(e["prompt_regex"]) if "prompt_regex" in e else []:
            if not re.search(rx, said, re.I | re.S):
                fails.append(f"{label}: no prompt matches /{rx}/; it said: {said[-300:]!r}")
        for txt in _as_list(e["not_prompt"]) if "not_prompt" in e else []:
            if txt.lower() in said.lower():
                fails.append(f"{label}: the IVR said '{txt}' but should not have")
        if "node" in e:
            cur = s.node.id if s.node else None
            if cur != e["node"]:
                fails.append(f"{label}: expected to be at node '{e['node']}', but at '{cur}'")
        for n in _as_list(e["visited"]) if "visited" in e else []:
            if n not in s.stats.path:
                fails.append(f"{label}: node '{n}' was never visited (path: {' > '.join(s.stats.path)})")
        if "outcome" in e and s.stats.outcome != e["outcome"]:
            fails.append(f"{label}: expected outcome '{e['outcome']}', got '{s.stats.outcome}'")
        if "end_node" in e and s.stats.end_node != e["end_node"]:
            fails.append(f"{label}: expected the call to end at '{e['end_node']}', got '{s.stats.end_node}'")
        if "transfer" in e:
            t = s.stats.transfer
            want = e["transfer"] or {}
            if t is None:
                fails.append(f"{label}: expected a transfer, there was none")
            else:
                if "queue" in want and t.queue != want["queue"]:
                    fails.append(f"{label}: transfer queue '{t.queue}', expected '{want['queue']}'")
                if "request" in want and t.request_type != want["request"]:
                    fails.append(f"{label}: transfer request '{t.request_type}', expected '{want['request']}'")
                for k, v in (want.get("fields") or {}).items():
                    if str(t.fields.get(k)) != str(v):
                        fails.append(f"{label}: transfer field {k}={self.shown(k, t.fields.get(k))}, "
                                     f"expected {self.shown(k, v)}")
        for k, v in (e.get("vars") or {}).items():
            if str(s.vars.get(k)) != str(v):
                fails.append(f"{label}: variable {k}={self.shown(k, s.vars.get(k))}, expected {self.shown(k, v)}")
        return fails


class _Unavailable:
    """`db: unavailable`: the JKN back end is down; every service call fails. With `only`
    (`unavailable: [names]`), only those services fail and the others answer from `inner`."""

    def __init__(self, inner=None, only: tuple[str, ...] = ()):
        self.inner, self.only = inner, only

    def invoke(self, name, args, today=None):
        if self.inner is not None and name not in self.only:
            return self.inner.invoke(name, args, today=today)
        raise ConnectionError(f"JKN back end unavailable for {name} (scenario setting)")


def _open_queue(sc: Scenario):
    """The scenario's live queue model; `max_length` overrides every queue's maximum length."""
    q = sc.queue
    if q["max_length"] is None:
        return open_queue(sc.tree, q["config"], q["seed"], q["hour"])
    from ivr.drivers.setup import queue_config_path
    from ivr.queue.config import load_config

    path = queue_config_path(sc.tree, q["config"])
    if path is None:
        return None
    return queue_model(load_config(path), q["seed"], q["hour"], q["max_length"])


def queue_model(cfg, seed: int, hour, max_length: int | None = None):
    """A live queue model for one call; `max_length` (when not None) replaces every queue's."""
    import dataclasses

    from ivr.queue.model import LiveQueue

    if max_length is not None:
        cfg = dataclasses.replace(cfg, queues={n: dataclasses.replace(spec, max_length=max_length)
                                               for n, spec in cfg.queues.items()})
    return LiveQueue(cfg, seed=seed, start_hour=hour)


def tree_edges(tree) -> set[tuple[str, str]]:
    """Every (from, to) pair of nodes one of the tree's edges links (`Node.targets()`, i.e.
    the kinds' `KindSpec.edges`: options, next, branches, default, on_exceeded, agent,
    callback). Several edges between the same two nodes (three outcomes to one node) are one
    pair; the global keys (agent, back) are not edges of the tree."""
    return {(n.id, t) for n in tree.nodes.values() for t, _ in n.targets() if t in tree.nodes}


def edges_taken(tree, path: list[str]) -> set[tuple[str, str]]:
    """The tree edges a call's node path went along (a jump by a global key is not one)."""
    edges = tree_edges(tree)   # ~0.1 ms for the VIKA tree: not worth a cache
    return {(a, b) for a, b in zip(path, path[1:]) if (a, b) in edges}


def run_scenario(sc: Scenario, services_factory, tree_cache: dict, unmask: bool = False) -> ScenarioResult:
    """Run one scenario. Failure messages and the transcript are masked (personal values
    hidden as in the logs) unless `unmask`."""
    t0 = time.perf_counter()
    key = str(sc.tree)
    if key not in tree_cache:
        try:
            tree_cache[key] = load_tree(sc.tree)
        except TreeLoadError as exc:
            tree_cache[key] = exc
    tree = tree_cache[key]
    if isinstance(tree, Exception):
        return ScenarioResult(sc, False, [f"tree does not load: {str(tree).splitlines()[0]}"])
    queue = None
    if sc.queue is not None:
        try:
            queue = _open_queue(sc)
        except Exception as exc:  # a broken queue file fails the scenario, not the runner
            return ScenarioResult(sc, False, [f"queue model: {exc}"])
    services = _Unavailable() if sc.db == "unavailable" else services_factory(sc.db)
    if sc.unavailable and sc.db != "unavailable":
        services = _Unavailable(services, sc.unavailable)
    rt = CallRuntime(tree, services=services, today=sc.today, queue=queue)
    call = ScriptedCall(rt)
    call.start()
    fails: list[str] = []
    since = 0
    for i, st in enumerate(sc.steps, 1):
        label = f"step {i} (line {getattr(st, 'line', '?')})"
        if rt.ended and any(k in st for k in INPUT_KEYS):
            fails.append(f"{label}: the call already ended ({rt.session.stats.outcome}) before this input")
            break
        if any(k in st for k in INPUT_KEYS):
            since = len(rt.transcript)
        if "keys" in st:
            call.press(str(st["keys"]))
            call.finish_input()
        elif "barge" in st:
            call.press(str(st["barge"]), barge=True)
            call.finish_input()
        elif "say" in st:
            call.say(str(st["say"]), confidence=st.get("confidence"))
        elif "wait" in st:
            call.wait(float(st["wait"]))
        elif "hangup" in st:
            call.hangup()
        elif "audio" in st:
            audio = Path(sc.file).parent / str(st["audio"])
            try:
                from ivr.drivers.wavfile import feed_audio
            except ImportError:
                fails.append(f"{label}: audio input is not available in this build")
                break
            try:
                feed_audio(call, audio)
            except (OSError, ValueError) as exc:
                fails.append(f"{label}: {exc}")
                break
        if "expect" in st:
            fails += _Check(rt, since, unmask).run(st["expect"], label)
        if fails:
            break
    if not fails and sc.end is not None:
        if not rt.ended:
            call.run_until_end()
        fails += _Check(rt, since, unmask).run(sc.end, "end")
    res = ScenarioResult(sc, not fails, fails, time.perf_counter() - t0, set(rt.session.stats.path),
                         edges_taken(tree, rt.session.stats.path), [line.format(unmask) for line in rt.lines()])
    return res
