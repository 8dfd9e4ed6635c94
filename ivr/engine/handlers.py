"""How the engine runs each node kind: one handler per kind, in one table (like FreeSWITCH's
menu action table), instead of an if-chain over kind names in the session.

`CallSession` owns the call's state and the shared steps (play a prompt, listen, count a
failure, go to a node, end the call); a handler decides what a node of its kind does with
them when the call enters it and when the caller answers while it listens. What a kind *is*
(its fields, edges, grammar, diagram) is its `KindSpec` in ivr.tree.kinds; adding a kind is
that entry plus one handler registered here (`register_handler`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ivr.engine.events import Action, Invoke, Transfer

if TYPE_CHECKING:   # annotations only: the session imports this module
    from ivr.engine.session import CallSession
    from ivr.tree.model import Node


class KindHandler:
    """The default handler: a node that says its greeting and listens for a choice among its
    kind's options (`KindSpec.options`), with the global keys and words."""

    #: Does `back` return to this node when the caller leaves it (menus: yes)?
    back_returns_here: bool = False

    def enter(self, s: CallSession, node: Node, greet: str, out: list[Action]) -> None:
        s.play(node, greet, out)
        s.listen(node, out)

    def terminator(self, node: Node) -> str:
        """The key that ends input at this node (sent in `Listen`); none by default."""
        return ""

    def key(self, s: CallSession, node: Node, key: str, at: float, out: list[Action]) -> None:
        """A DTMF key that counts as input while the node listens."""
        s.choose(node, key, out)

    def choice(self, s: CallSession, node: Node, token: str, out: list[Action]) -> None:
        """A recogniser matched a choice of the node's grammar (an option or a global)."""
        s.choose(node, token, out)

    def spoken_digits(self, s: CallSession, node: Node, digits: str, at: float, out: list[Action]) -> None:
        """A recogniser heard a digit string where the node wants none."""
        s.listening = None
        s.fail(node, "nomatch", out)

    def deadline(self, s: CallSession, node: Node, digits: str, out: list[Action]) -> None:
        """The listen's deadline passed: no input yet (a timeout), or digits to finish."""
        s.timeout(node, out)


class MenuHandler(KindHandler):
    back_returns_here = True


class CollectHandler(KindHandler):
    """A digit string, keyed or spoken (in groups), ended by the terminator, by max_length or
    by the inter-digit timeout, then checked by the validator."""

    def terminator(self, node: Node) -> str:
        return node.data.terminator

    def key(self, s: CallSession, node: Node, key: str, at: float, out: list[Action]) -> None:
        d = node.data
        li = s.listening
        if key == d.terminator and d.terminator:
            s.finish_digits(node, li.digits, out)
        elif key.isdigit():
            li.digits += key
            li.last_digit_at = at
            if len(li.digits) >= d.max_length:
                if d.terminator:
                    s.swallow(d.terminator, at + node.inter_digit_timeout)
                s.finish_digits(node, li.digits, out)
        else:
            action = s.tree.global_keys.action_for(key)
            if action and action in node.globals_enabled:
                s.global_action(node, action, out)
            else:
                s.fail(node, "invalid", out)

    def choice(self, s: CallSession, node: Node, token: str, out: list[Action]) -> None:
        action = token[7:] if token.startswith("global:") else None
        if action and action in node.globals_enabled:
            s.global_action(node, action, out)
        else:
            s.fail(node, "nomatch", out)

    def spoken_digits(self, s: CallSession, node: Node, digits: str, at: float, out: list[Action]) -> None:
        # spoken digits add to what was keyed or said before: a caller may read a 16-digit
        # NIK in groups, pausing between them (the inter-digit timeout applies). It ends at
        # max_length (or by the inter-digit timeout once min_length is reached, since a
        # longer number may still be on its way).
        li = s.listening
        li.digits += digits
        li.last_digit_at = at
        if len(li.digits) > node.data.max_length:
            s.listening = None
            s.fail(node, "invalid", out)
        elif len(li.digits) == node.data.max_length:
            s.finish_digits(node, li.digits, out)

    def deadline(self, s: CallSession, node: Node, digits: str, out: list[Action]) -> None:
        if digits:
            s.finish_digits(node, digits, out)
        else:
            s.timeout(node, out)


class SayHandler(KindHandler):
    def enter(self, s: CallSession, node: Node, greet: str, out: list[Action]) -> None:
        s.play(node, "greet_long", out)
        s.goto(node.data.next, out)


class ServiceHandler(KindHandler):
    """Asks the driver to run the service; `ServiceDone` picks the branch."""

    def enter(self, s: CallSession, node: Node, greet: str, out: list[Action]) -> None:
        s.play(node, "greet_long", out)
        s.waiting_service = node
        out.append(Invoke(node.data.service, {k: s.render(v) for k, v in node.data.args}, node.id))


class TransferHandler(KindHandler):
    """Hands the call to a queue: it ends here, or holds until an agent answers when the
    node has an `agent` dialogue (the session's queue-hold state)."""

    def enter(self, s: CallSession, node: Node, greet: str, out: list[Action]) -> None:
        d = node.data
        s.play(node, "greet_long", out)
        t = Transfer(d.queue, d.request_type, {k: s.render(v) for k, v in d.fields}, node.id)
        s.stats.transfer = t
        s.vars["antrean"] = d.queue
        out.append(t)
        if d.agent:
            s.hold(node)   # the driver answers with QueueUpdate events
        else:
            s.end("transfer", out)


class HangupHandler(KindHandler):
    def enter(self, s: CallSession, node: Node, greet: str, out: list[Action]) -> None:
        s.play(node, "greet_long", out)
        s.end("hangup", out)


class _Table(dict):
    def __missing__(self, kind: str) -> KindHandler:
        raise LookupError(f"the engine has no handler for node kind '{kind}' "
                          "(ivr.engine.handlers.register_handler)")


#: node kind -> handler
HANDLERS: dict[str, KindHandler] = _Table({
    "menu": MenuHandler(), "collect": CollectHandler(), "say": SayHandler(), "service": ServiceHandler(),
    "transfer": TransferHandler(), "hangup": HangupHandler(),
})


def register_handler(kind: str, handler: KindHandler) -> None:
    """Run nodes of `kind` (a kind registered in ivr.tree.kinds) with `handler`."""
    if kind in HANDLERS:
        raise ValueError(f"node kind '{kind}' already has an engine handler")
    HANDLERS[kind] = handler


def unregister_handler(kind: str) -> None:
    """Remove a handler added with `register_handler` (tests)."""
    HANDLERS.pop(kind, None)
