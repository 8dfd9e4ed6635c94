"""`ivr graph`: a diagram of a call tree, drawn by Graphviz.

Shapes say what a node does (menu box, collect parallelogram, say note, service component,
transfer house, hangup double octagon); edge labels say what leads there (the key and label of
an option, a service outcome). The ways a caller ends up somewhere by failing (on_exceeded)
are dashed, and the global keys are written once in the legend rather than drawn from every
menu.
"""
from __future__ import annotations

from pathlib import Path

import graphviz

from ivr.tree.model import Node, Tree

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

def _escape(text: str) -> str:
    """Prompt text inside a dot label: backslashes are dot escapes, so double them."""
    return text.replace("\\", "\\\\")


class GraphError(ValueError):
    """The output cannot be made (unknown format, Graphviz missing)."""


def _node_label(n: Node, labels: bool) -> str:
    if not labels:
        return n.id
    detail = n.spec.detail(n) if n.spec.detail else ""
    return n.id + (f"\\n{_escape(detail)}" if detail else "")


def build(tree: Tree, labels: bool = True, rankdir: str = "LR") -> graphviz.Digraph:
    """The diagram as a graphviz.Digraph (not yet rendered)."""
    g = graphviz.Digraph(name=tree.name or "tree")
    g.attr(rankdir=rankdir, fontname="Helvetica", fontsize="11", nodesep="0.25", ranksep="0.6",
           labelloc="t", label=f"{tree.name} - {len(tree.nodes)} nodes" if labels else tree.name)
    g.attr("node", fontname="Helvetica", fontsize="10", margin="0.08,0.04")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#4b5563", arrowsize="0.7")

    g.node("__start__", "start", shape="circle", style="filled", fillcolor="#111827", fontcolor="white",
           width="0.5", fixedsize="true")
    if tree.start in tree.nodes:
        g.edge("__start__", tree.start)
    agent_side = agent_dialogue(tree)
    for n in tree.nodes.values():
        if n.id not in agent_side:
            g.node(n.id, _node_label(n, labels), **n.spec.style)
    if agent_side:
        with g.subgraph(name="cluster_agent") as c:
            c.attr(label="after an agent answers (simulated agent)" if labels else "", style="rounded,dashed",
                   color="#9ca3af",
                   fontcolor="#6b7280")
            for n in tree.nodes.values():
                if n.id in agent_side:
                    c.node(n.id, _node_label(n, labels), **n.spec.style)
    common_exceeded = usual_exceeded_target(tree)

    def edge(src: str, dst: str | None, label: str = "", **attrs: str) -> None:
        if dst and dst in tree.nodes:
            g.edge(src, dst, label=label if labels else "", **attrs)

    for n in tree.nodes.values():
        drawn: dict[tuple[str, str], list] = {}   # edges of one group to one target: one arrow
        for e in n.spec.edges(n):
            if e.role == "exceeded" and e.target == common_exceeded:
                continue
            key = (e.group, e.target) if e.group else (str(len(drawn)), e.target)
            drawn.setdefault(key, []).append(e)
        for (_, target), es in drawn.items():
            edge(n.id, target, "\\n".join(_escape(e.label) for e in es), **dict(es[0].attrs))

    if labels:
        gk = tree.global_keys
        parts = [f"{key} {action}" for action, key in (("back", gk.back), ("agent", gk.agent), ("repeat", gk.repeat)) if key]
        legend = "global keys: " + ", ".join(parts) if parts else "no global keys"
        if tree.agent_node and gk.agent:
            legend += f" (agent -> {tree.agent_node})"
        legend += "\\ldashed red: max failures/timeouts reached"
        if common_exceeded:
            legend += f" (not drawn: -> {common_exceeded})"
        legend += "\\l"
        g.node("__legend__", legend, shape="plaintext", fontsize="9")
    return g


def agent_dialogue(tree: Tree) -> set[str]:
    """Nodes a call reaches only after an agent answers (through a transfer's `agent` or
    `callback`): drawn together, apart from the IVR menus."""
    def walk(skip_agent: bool) -> set[str]:
        roots = [r for r in (tree.start, tree.agent_node) if r in tree.nodes]
        seen, todo = set(roots), list(roots)
        while todo:
            n = tree.nodes[todo.pop()]
            targets = [e.target for e in n.spec.edges(n) if not (skip_agent and e.after_agent)]
            for t in targets:
                if t in tree.nodes and t not in seen:
                    seen.add(t)
                    todo.append(t)
        return seen
    return walk(False) - walk(True)


def usual_exceeded_target(tree: Tree) -> str | None:
    """The on_exceeded target most menus and collects share (usually the tree default), if
    at least four do: its edges would cross the whole diagram, so the legend names it instead."""
    counts: dict[str, int] = {}
    for n in tree.nodes.values():
        if n.spec.listens and n.on_exceeded.goto:
            counts[n.on_exceeded.goto] = counts.get(n.on_exceeded.goto, 0) + 1
    if not counts:
        return None
    target, count = max(counts.items(), key=lambda kv: kv[1])
    return target if count >= 4 else None


def output_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise GraphError(f"unknown output format '{suffix or Path(path).name}': use one of "
                         + ", ".join(sorted(FORMATS)))
    return fmt


def render(tree: Tree, path: str | Path, labels: bool = True, rankdir: str = "LR") -> Path:
    """Write the diagram to `path`; the format follows its suffix."""
    fmt = output_format(path)
    g = build(tree, labels, rankdir)
    p = Path(path)
    if fmt == "dot":
        data = g.source.encode("utf-8")
    else:
        try:
            data = g.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise GraphError("Graphviz 'dot' is not installed (apt install graphviz); "
                             "or write a .dot file and render it elsewhere") from None
        except graphviz.CalledProcessError as exc:
            raise GraphError(f"Graphviz failed: {(exc.stderr or b'').decode(errors='replace').strip()}") from None
    p.write_bytes(data)
    return p
