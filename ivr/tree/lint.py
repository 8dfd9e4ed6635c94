"""`ivr lint`: problems a tree can load with but should not ship with.

The loader already rejects what cannot run (unknown keys, wrong types, dangling gotos). Lint
looks at the tree as a graph and as a caller would meet it: nodes nobody can reach, options
that can never be chosen because a global key or word takes them first, loops a caller can
never leave, prompts that say nothing, and `{variables}` nothing ever sets (which the engine
would quietly speak as an empty string).

Every finding is a `TreeError` with a severity: `error` for what breaks a call, `warning` for
what is probably a mistake. `ivr lint` fails on both unless `--allow-warnings` is given.
"""
from __future__ import annotations

import difflib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ivr.engine.session import MAX_HOPS
from ivr.engine.validators import VALIDATORS
from ivr.jkn.specs import REQUESTS, SERVICE_ERROR_OUTCOME, ServiceSpec, outcomes_of
from ivr.jkn.specs import SERVICES as JKN_SERVICES
from ivr.tree.budget import Budget, PromptClock, worst_case
from ivr.tree.loader import VAR_REF, TreeError, TreeLoadError, load_tree
from ivr.tree.model import GLOBAL_ACTIONS, PROMPT_NAMES, Node, Pos, Tree



#: The JKN services, as ivr.jkn.specs declares them (plain data: lint needs no database).
#: Every service may also fail, which the engine turns into the outcome `error`.
SERVICES: dict[str, ServiceSpec] = JKN_SERVICES

#: Variables the engine itself sets (see ivr.engine.session).
ENGINE_VARS: dict[str, str] = {
    "antrean": "the queue of the transfer",
    "posisi": "the caller's place in the agent queue",
    "waktu_tunggu": "the estimated wait in the agent queue",
    "agen": "the name of the agent who answered (the queue file's agent_names)",
    "angka": "a collect's read-back: the digits heard, grouped (prompt readback only)",
    "salam": "Selamat pagi/siang/sore/malam for the hour the agent answered",
}
#: Extra variables a collect validator sets (the validators' own table, ivr.engine.validators).
VALIDATOR_VARS: dict[str, tuple[str, ...]] = {name: v.sets for name, v in VALIDATORS.items() if v.sets}


# ---- graph helpers --------------------------------------------------------------------------
def global_available(tree: Tree, node: Node, action: str) -> bool:
    """Can the caller use global `action` at this node (by key or by word)?"""
    if not node.spec.listens or action not in node.globals_enabled:
        return False
    if action == "agent" and not tree.agent_node:
        return False
    key = getattr(tree.global_keys, action)
    if key is not None and node.spec.input == "digits" and (key.isdigit() or key == node.data.terminator):
        key = None  # digits and the terminator belong to the collect
    if key is not None and any(o.key == key for o in node.spec.choices(node)):
        key = None  # the option wins
    return key is not None or bool(tree.global_words.get(action))


def edges(tree: Tree) -> dict[str, list[tuple[str, str]]]:
    """node id -> [(target id, why)], for every way the call can move on, including the global
    `agent` key. `back` only returns to where the caller has been, so it adds no edge."""
    out: dict[str, list[tuple[str, str]]] = {nid: [] for nid in tree.nodes}
    for n in tree.nodes.values():
        out[n.id] = [(e.target, e.why) for e in n.spec.edges(n)]
        if tree.agent_node and global_available(tree, n, "agent"):
            out[n.id].append((tree.agent_node, "global agent"))
    return {k: [(t, why) for t, why in v if t in tree.nodes] for k, v in out.items()}


def reachable(tree: Tree, graph: dict[str, list[tuple[str, str]]] | None = None) -> set[str]:
    graph = graph if graph is not None else edges(tree)
    roots = [r for r in (tree.start, tree.agent_node) if r and r in tree.nodes]
    seen = set(roots)
    todo = deque(roots)
    while todo:
        for t, _ in graph[todo.popleft()]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def strongly_connected(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (trees may be deep; Python's stack is not)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            recurse = False
            children = succ.get(v, [])
            while i < len(children):
                w = children[i]
                i += 1
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _cycle_text(start: str, members: set[str], succ: dict[str, list[str]], limit: int = 6) -> str:
    """A shortest cycle through `start` inside `members`, as 'a -> b -> a'."""
    prev: dict[str, str] = {}
    todo = deque([start])
    last = None
    while todo and last is None:
        v = todo.popleft()
        for w in succ.get(v, []):
            if w == start and (v != start or len(members) == 1):  # a self-loop says little
                last = v
                break
            if w in members and w not in prev:
                prev[w] = v
                todo.append(w)
    path = [start]
    v = last
    while v is not None and v != start:
        path.insert(1, v)
        v = prev.get(v)
    names = path + [start]
    if len(names) > limit + 1:
        names = names[:limit] + ["...", start]
    return " -> ".join(names)


# ---- the checks -----------------------------------------------------------------------------
class _Linter:
    def __init__(self, tree: Tree, budget: Budget | None = None, clock: PromptClock | None = None):
        self.tree = tree
        self.budget = budget or Budget()
        self.clock = clock or PromptClock.estimated()
        self.out: list[TreeError] = []
        self.graph = edges(tree)
        self.order = {nid: i for i, nid in enumerate(tree.nodes)}

    def add(self, pos: Pos, message: str, hint: str = "", severity: str = "error", code: str = "") -> None:
        self.out.append(TreeError(pos, message, hint, severity, code))

    def run(self) -> list[TreeError]:
        self.unreachable()
        for n in self.tree.nodes.values():
            if n.spec.options is not None:
                self.menu_options(n)
            if n.spec.input == "digits":
                self.collect(n)
            if n.kind == "service":
                self.service(n)
            self.prompts(n)
            self.prompt_lengths(n)
        self.default_prompts()
        self.loops()
        self.say_chains()
        self.variables()
        seen: set[tuple] = set()
        unique = []
        for e in self.out:
            k = (e.pos.line, e.pos.col, e.message)
            if k not in seen:
                seen.add(k)
                unique.append(e)
        return sorted(unique, key=lambda e: (e.pos.line, e.pos.col, e.message))

    # -- reachability -------------------------------------------------------------------
    def unreachable(self) -> None:
        if not self.tree.start or self.tree.start not in self.tree.nodes:
            return
        seen = reachable(self.tree, self.graph)
        for n in self.tree.nodes.values():
            if n.id not in seen:
                self.add(n.pos, f"node '{n.id}' is unreachable",
                         "no path leads to it from start or agent_node; link it or delete it",
                         "warning", "unreachable")

    # -- options ------------------------------------------------------------------------
    def menu_options(self, n: Node) -> None:
        t = self.tree
        choices = n.spec.choices(n)
        limit = self.budget.max_menu_options
        if n.kind == "menu" and len(choices) > limit:
            self.add(n.key_pos.get("options", n.pos),
                     f"node '{n.id}': menu has {len(choices)} options, more than {limit}",
                     "a caller cannot keep more in mind; group them under sub-menus "
                     "(or raise the limit with --max-options)", "error", "menu-options")
        for o in n.spec.choices(n):
            pos = o.pos or n.pos
            if o.key is not None:
                action = t.global_keys.action_for(o.key)
                if action and action in n.globals_enabled and not (action == "agent" and not t.agent_node):
                    others = [a for a in n.globals_enabled if a != action]
                    self.add(pos, f"key '{o.key}' clashes with global key {action}",
                             f"the option wins, so '{action}' never works at node '{n.id}'; use another key "
                             f"or set `globals: [{', '.join(others)}]` on the node", "error", "global-clash")
                if o.key in "ABCD" and not o.words:
                    self.add(pos, f"key '{o.key}' is not on phone keypads",
                             "most callers cannot press A-D; add `say:` words or use 0-9, * or #",
                             "warning", "keypad")
            for w in o.words:
                for action in GLOBAL_ACTIONS:
                    if action in n.globals_enabled and w in t.global_words.get(action, ()):
                        self.add(pos, f"spoken word '{w}' is also a global word for {action}",
                                 f"at node '{n.id}' '{w}' could mean either; remove it from one of them",
                                 "error", "global-clash")

    def collect(self, n: Node) -> None:
        pos = n.key_pos.get("terminator", n.pos)
        d = n.data
        if d.terminator and d.terminator.isdigit():
            self.add(pos, f"node '{n.id}': terminator '{d.terminator}' is a digit",
                     f"the digit {d.terminator} would end the input instead of being part of {d.var}; use '#'",
                     "error", "terminator")
        self.collect_dialogue(n)

    def collect_dialogue(self, n: Node) -> None:
        """The spoken-number dialogue (ivr.engine.handlers.CollectHandler). The engine takes
        groups of min(groups, digits still missing), so a last group shorter than `groups`
        (a 13-digit card in fours) works; a group longer than the whole number cannot be. A
        read-back is played only with `confirm_below`, and the engine puts the digits in by
        replacing the literal `{angka}`: without it the caller is asked "Benar?" about a
        number nobody said."""
        d = n.data
        if d.groups > d.max_length:
            self.add(n.key_pos.get("groups", n.pos),
                     f"node '{n.id}': groups {d.groups} is more than max_length {d.max_length}",
                     f"the {d.max_length} digits would be one group; use fewer digits per group "
                     f"(4 for a 16-digit NIK), or delete `groups` to take the number whole", "warning", "groups")
        text = n.prompts.readback
        if d.confirm_below > 0 and text.strip() and "{angka}" not in text:
            self.add(self.prompt_pos(n, "readback"),
                     f"node '{n.id}': prompt 'readback' does not say {{angka}}",
                     "the read-back would ask the caller to confirm digits it never says; "
                     "put {angka} where the number goes (e.g. '{angka}. Benar?')", "warning", "readback")

    def service(self, n: Node) -> None:
        d = n.data
        spec = SERVICES.get(d.service)
        pos = n.key_pos.get("service", n.pos)
        if spec is None:
            m = difflib.get_close_matches(d.service, list(SERVICES), n=1)
            hint = f"did you mean '{m[0]}'?" if m else "known services: " + ", ".join(sorted(SERVICES))
            self.add(pos, f"node '{n.id}': unknown service '{d.service}'", hint, "warning", "service")
            return
        self.service_args(n, spec)
        # a `permintaan` of a literal request type returns only that type's outcomes
        # (ivr.jkn.specs.RequestSpec.outcomes): a branch for another is dead, a tree bug
        args = dict(d.args)
        outcomes = outcomes_of(d.service, args) or spec.outcomes
        what = (f"request type '{args['jenis']}'" if outcomes is not spec.outcomes
                else f"service '{d.service}'")
        known = set(outcomes) | {SERVICE_ERROR_OUTCOME}
        for outcome, _ in d.branches:
            if outcome not in known:
                self.add(n.key_pos.get("branches", n.pos),
                         f"node '{n.id}': {what} never returns outcome '{outcome}'",
                         "its outcomes are " + ", ".join(outcomes + (SERVICE_ERROR_OUTCOME,))
                         + "; remove the branch", "warning", "branch")
        if not d.default:
            missing = [o for o in outcomes + (SERVICE_ERROR_OUTCOME,) if o not in dict(d.branches)]
            if missing:
                self.add(n.pos, f"node '{n.id}': outcome(s) {', '.join(missing)} have no branch and there is no default",
                         "the call would end with an error; add `default: NODE`", "warning", "branch")

    def service_args(self, n: Node, spec: ServiceSpec) -> None:
        """The arguments the declaration (ivr.jkn.specs) requires: the service's own and, for
        a `permintaan` with a literal `jenis`, those of that request type."""
        args = dict(n.data.args)
        pos = n.key_pos.get("args", n.pos)
        needed = list(spec.args)
        jenis = args.get("jenis", "")
        if n.data.service == "permintaan" and jenis and not VAR_REF.search(jenis):
            req = REQUESTS.get(jenis)
            if req is None:
                m = difflib.get_close_matches(jenis, list(REQUESTS), n=1)
                self.add(pos, f"node '{n.id}': unknown request type '{jenis}'",
                         f"did you mean '{m[0]}'?" if m else "known: " + ", ".join(sorted(REQUESTS)), "warning", "service")
            else:
                needed += req.args
        missing = [a for a in needed if not str(args.get(a, "")).strip()]
        if missing:
            self.add(pos, f"node '{n.id}': service '{n.data.service}'{f' ({jenis})' if jenis else ''} needs argument(s) "
                     f"{', '.join(missing)}", "add them under `args:`; the call would end with an error", "warning",
                     "service")

    # -- prompts ------------------------------------------------------------------------
    def prompts(self, n: Node) -> None:
        greet = n.prompts.greet_long
        for name in PROMPT_NAMES:
            pos = n.key_pos.get(f"prompts.{name}")
            if pos is not None and not n.prompts.get(name).strip():
                self.add(pos, f"node '{n.id}': prompt '{name}' is empty" if name != "greet_long"
                         else f"node '{n.id}' ({n.kind}) has an empty prompt",
                         "write the text, or delete the key", "error", "empty-prompt")
        if greet.strip() or "prompts.greet_long" in n.key_pos or n.spec.missing_greet is None:
            return
        severity, message, hint = n.spec.missing_greet
        self.add(n.pos, f"node '{n.id}' ({n.kind}) {message}", hint, severity, "empty-prompt")

    def prompt_lengths(self, n: Node) -> None:
        """Each prompt the node speaks, measured as the caller hears it (ivr.tree.budget):
        rendered when TTS is there, filled-in prompts with the worst case of their variables."""
        limit = self.budget.max_prompt_seconds
        for name in n.spec.prompts:
            text = n.prompts.get(name)
            if not text or not text.strip():
                continue
            filled = "{" in text
            secs = self.clock.seconds(worst_case(text) if filled else text)
            if secs <= limit:
                continue
            how = "rendered" if self.clock.rendered else "estimated"
            what = ("worst case of " + ", ".join(sorted({"{" + v + "}" for v in VAR_REF.findall(text)}))
                    if filled else how)
            self.add(self.prompt_pos(n, name),
                     f"node '{n.id}': prompt '{name}' is {secs:.1f} s of speech ({what}{', ' + how if filled else ''}), "
                     f"over the {limit:g} s budget",
                     "callers forget what came first; say a short answer and offer the rest "
                     "(\"tekan 1 untuk rincian\"), or raise the budget with --max-prompt-seconds",
                     "warning", "prompt-length")

    def prompt_pos(self, n: Node, name: str) -> Pos:
        """Where the text a node speaks as `name` was written (its own key, the prompt it
        falls back to, or the tree default)."""
        fallback = {"greet_short": "greet_long", "nomatch": "invalid", "too_short": "invalid"}
        for key in (name, fallback.get(name)):
            if key is None:
                continue
            pos = n.key_pos.get(f"prompts.{key}")
            if pos is not None and n.prompts.get(key) == n.prompts.get(name):
                return pos
            pos = self.tree.key_pos.get(f"defaults.prompts.{key}")
            if pos is not None and f"prompts.{key}" not in n.key_pos:
                return pos
        return n.pos

    def default_prompts(self) -> None:
        t = self.tree
        for name in PROMPT_NAMES:
            pos = t.key_pos.get(f"defaults.prompts.{name}")
            if pos is None:
                continue
            texts = {n.prompts.get(name) for n in t.nodes.values() if f"prompts.{name}" not in n.key_pos}
            if any(not s.strip() for s in texts):
                self.add(pos, f"default prompt '{name}' is empty",
                         "write the text, or delete the key", "error", "empty-prompt")

    # -- loops ----------------------------------------------------------------------------
    def loops(self) -> None:
        t = self.tree
        succ = {k: [w for w, _ in v] for k, v in self.graph.items()}
        ids = list(t.nodes)
        reported: set[str] = set()

        # 1. cycles of nodes that never wait for the caller (say, service)
        moves_on = {nid for nid, n in t.nodes.items() if not n.spec.listens and not n.spec.ends}
        quick = {k: [w for w in v if w in moves_on] for k, v in succ.items() if k in moves_on}
        for comp in strongly_connected([i for i in ids if i in quick], quick):
            members = set(comp)
            if len(comp) == 1 and comp[0] not in quick[comp[0]]:
                continue
            first = min(comp, key=self.order.__getitem__)
            cycle = _cycle_text(first, members, quick)
            leaves = any(w not in members for v in comp for w in succ[v])
            if not leaves:
                self.add(t.nodes[first].pos, f"infinite loop: {cycle} never waits for the caller",
                         "say and service nodes move on at once; put a menu or a hangup in the loop",
                         "error", "loop")
                reported |= members
            else:
                self.add(t.nodes[first].pos, f"loop {cycle} never waits for the caller",
                         "it only ends when a service returns another outcome; the engine stops a call "
                         "after 200 such steps", "warning", "loop")

        # 2. loops (with menus) that a caller can never leave
        preds: dict[str, set[str]] = {k: set() for k in ids}
        for v, ws in succ.items():
            for w in ws:
                preds[w].add(v)
        for comp in strongly_connected(ids, succ):
            members = set(comp)
            if members & reported:
                continue
            if len(comp) == 1 and comp[0] not in succ[comp[0]]:
                continue
            nodes = [t.nodes[v] for v in comp]
            if any(w not in members for v in comp for w in succ[v]):
                continue
            if any(n.spec.ends for n in nodes):
                continue
            if any(n.spec.listens and not n.on_exceeded.goto for n in nodes):
                continue  # max_failures / max_timeouts hang up
            entered_from_menu = any(t.nodes[p].spec.listens for v in comp for p in preds[v] - members)
            if entered_from_menu and any(global_available(t, n, "back") for n in nodes):
                continue  # the back key returns to the menu the caller came from
            first = min(comp, key=self.order.__getitem__)
            where = _cycle_text(first, members, succ)
            if where.count(" -> ") < len(comp):  # the shortest cycle misses some: name them all
                names = sorted(comp, key=self.order.__getitem__)
                where = "nodes " + ", ".join(names[:8]) + (", ..." if len(names) > 8 else "") + " only lead to each other"
            self.add(t.nodes[first].pos, f"loop with no way out: {where}",
                     "no option, branch or on_exceeded leaves it and it has no hangup or transfer; "
                     "the caller can only hang up", "error", "loop")

    # -- say chains ---------------------------------------------------------------------------
    def say_chains(self) -> None:
        """`say` nodes in a row are entered without waiting for the caller, all in one engine
        step; past MAX_HOPS entries the engine stops the call with "error". Report each chain
        that long at the node where it starts. (Say loops are reported by `loops`.)"""
        t = self.tree
        says = {nid for nid, n in t.nodes.items() if n.spec.instant}
        nxt = {nid: t.nodes[nid].data.next for nid in says}
        has_say_pred = {w for w in nxt.values() if w in says}
        run: dict[str, int] = {}   # says in a row from this node on (0 inside a loop)
        for start in says:
            path, seen = [], set()
            v = start
            while v in says and v not in run and v not in seen:
                seen.add(v)
                path.append(v)
                v = nxt[v]
            tail = run.get(v, 0) if v not in seen else None
            for i, u in enumerate(reversed(path)):
                run[u] = 0 if tail is None else tail + i + 1
        for nid in sorted(says - has_say_pred, key=self.order.__getitem__):
            k = run[nid]
            if k + 1 > MAX_HOPS:   # k says, then the node after them: k + 1 entries in one step
                last = nid
                for _ in range(k - 1):
                    last = nxt[last]
                self.add(t.nodes[nid].pos,
                         f"{k} say nodes in a row ({nid} -> ... -> {last}): the engine ends a call with "
                         f"'error' after {MAX_HOPS} nodes without waiting for the caller",
                         f"join their prompts into fewer say nodes (at most {MAX_HOPS - 1} in a row), or put a "
                         "menu between them", "error", "say-chain")

    # -- variables --------------------------------------------------------------------------
    def settable(self) -> set[str] | None:
        """Every variable something can set; None when an unknown service could set anything."""
        t = self.tree
        names = set(t.variables) | set(ENGINE_VARS)
        for n in t.nodes.values():
            for attr, f, _ in n.spec.own_fields().values():
                if f.type == "var" and getattr(n.data, attr):
                    names.add(getattr(n.data, attr))   # a collect's var, or any kind's `var` field
            if n.spec.input == "digits":
                names.update(VALIDATOR_VARS.get(n.data.validator, ()))
            if n.kind == "service":
                spec = SERVICES.get(n.data.service)
                if spec is None:
                    return None
                names.update(spec.sets)
        return names

    def variables(self) -> None:
        t = self.tree
        names = self.settable()
        if names is None:
            return
        for n in t.nodes.values():
            uses: list[tuple[str, Pos]] = []
            for name in PROMPT_NAMES:
                if name not in n.spec.prompts:
                    continue   # a prompt this kind never speaks
                text = n.prompts.get(name)
                if not text or "{" not in text:
                    continue
                uses.append((text, self.prompt_pos(n, name)))
            for prefix, (attr, f, _) in n.spec.own_fields().items():
                if f.type != "strmap":
                    continue
                for k, v in getattr(n.data, attr):
                    uses.append((v, n.key_pos.get(f"{prefix}.{k}") or n.key_pos.get(prefix) or n.pos))
            for text, pos in uses:
                for m in VAR_REF.finditer(text):
                    var = m.group(1)
                    if var in names:
                        continue
                    close = difflib.get_close_matches(var, sorted(names), n=1)
                    hint = (f"did you mean '{{{close[0]}}}'? " if close else "") + \
                        "no node var, tree variable or service sets it, so it is spoken as nothing"
                    self.add(pos, f"variable '{{{var}}}' is never set", hint, "warning", "variable")


def lint(tree: Tree, budget: Budget | None = None, clock: PromptClock | None = None) -> list[TreeError]:
    """Problems in a loaded tree, beyond the loader's errors, sorted by position. Prompt
    lengths are measured with `clock` (default: estimated from the text; `lint_file` renders
    them with TTS)."""
    return _Linter(tree, budget, clock).run()


_TTS_CLOCK: PromptClock | None = None


def tts_clock() -> PromptClock:
    """The process's rendering clock (one TTS engine, one memo of measured prompts)."""
    global _TTS_CLOCK
    if _TTS_CLOCK is None:
        _TTS_CLOCK = PromptClock.with_tts()
    return _TTS_CLOCK


@dataclass
class LintResult:
    """Everything `ivr lint` says about one file."""

    path: str
    problems: list[TreeError]
    nodes: int = 0
    loaded: bool = True
    note: str = ""      # e.g. prompt lengths estimated because TTS is not available

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


def lint_file(path: str | Path, budget: Budget | None = None, clock: PromptClock | None = None) -> LintResult:
    """Load and lint one file, prompt lengths rendered with TTS unless `clock` is given. A
    missing file raises FileNotFoundError (a usage error, not a problem in a tree)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(str(p))
    if p.is_dir():
        raise IsADirectoryError(str(p))
    try:
        tree = load_tree(p)
    except TreeLoadError as exc:
        return LintResult(str(p), list(exc.errors), 0, loaded=False)
    clock = clock or tts_clock()
    return LintResult(str(p), lint(tree, budget, clock), len(tree.nodes), note=clock.note)
