"""How the engine runs each node kind: one handler per kind, in one table (like FreeSWITCH's
menu action table), instead of an if-chain over kind names in the session.

`CallSession` owns the call's state and the shared steps (play a prompt, listen, count a
failure, go to a node, end the call); a handler decides what a node of its kind does with
them when the call enters it and when the caller answers while it listens. What a kind *is*
(its fields, edges, grammar, diagram) is its `KindSpec` in ivr.tree.kinds; adding a kind is
that entry plus one handler registered here (`register_handler`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ivr.engine.events import Action, Invoke, Transfer
from ivr.engine.validators import validate
from ivr.grammar import Choice, Grammar

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

    def grammar(self, s: CallSession, node: Node) -> Grammar:
        """What the caller may answer at this listen (sent in `Listen`): the tree's grammar
        for the node by default; a kind with phases (a collect's read-back) changes it."""
        return s.tree.grammar_for(node.id)

    def reprompt(self, s: CallSession, node: Node, out: list[Action]) -> None:
        """What is said again after a wrong answer or a silence, before listening again."""
        s.play(node, "greet_short", out)

    def key(self, s: CallSession, node: Node, key: str, at: float, out: list[Action]) -> None:
        """A DTMF key that counts as input while the node listens."""
        s.choose(node, key, out)

    def choice(self, s: CallSession, node: Node, token: str, out: list[Action]) -> None:
        """A recogniser matched a choice of the node's grammar (an option or a global)."""
        s.choose(node, token, out)

    def spoken_digits(self, s: CallSession, node: Node, digits: str, at: float, out: list[Action],
                      confidence: float = 1.0) -> None:
        """A recogniser heard a digit string where the node wants none."""
        s.listening = None
        s.fail(node, "nomatch", out)

    def deadline(self, s: CallSession, node: Node, digits: str, out: list[Action]) -> None:
        """The listen's deadline passed: no input yet (a timeout), or digits to finish."""
        s.timeout(node, out)


class MenuHandler(KindHandler):
    back_returns_here = True


#: Texts for the recovering dialogue's prompts when the tree gives none. {angka} is the
#: number heard: a whole number written as one run of digits (the voice's verbalizer reads
#: it grouped, 4-4-4-4 for a NIK, 2-2-4 for a date), a group written digit by digit.
DIALOGUE_PROMPTS: dict[str, str] = {
    "readback": "{angka}. Benar? Katakan ya atau tekan 1. Jika salah, katakan tidak atau tekan 2.",
    "reject": "Baik, silakan ulangi.",
    "use_keys": "Silakan tekan nomor Anda pada keypad, diakhiri tanda pagar.",
}
YES_WORDS: tuple[str, ...] = ("ya", "iya", "benar", "betul", "ya benar")
NO_WORDS: tuple[str, ...] = ("tidak", "salah", "bukan", "tidak benar")
CORRECT_WORDS: tuple[str, ...] = ("salah",)   # after a group, no read-back pending: drop that group
YES_KEY, NO_KEY = "1", "2"


@dataclass
class CollectState:
    """A collect's dialogue at the node now (`CallSession.kind_state`, reset on entering a
    node): spoken groups taken so far, the digits read back and awaiting ya/tidak, and how
    many read-backs the caller rejected."""

    groups: list[str] = field(default_factory=list)
    pending: str = ""       # read back, awaiting ya/tidak (1/2)
    whole: bool = False     # pending is the whole number, not one group
    rejects: int = 0
    keys_offered: bool = False
    keyed: bool = False     # the caller uses the keypad already: no offer of it
    spoken: bool = False    # whole-number mode: part of the digits so far was spoken ...
    unsure: bool = False    # ... below `confirm_below`
    rejected: list[str] = field(default_factory=list)  # read-backs of this group the caller said no to

    @property
    def taken(self) -> str:
        return "".join(self.groups)


class CollectHandler(KindHandler):
    """A digit string, keyed or spoken, ended by the terminator, by max_length or by the
    inter-digit timeout, then checked by the validator.

    The recovering dialogue for speech (fields `confirm_below`, `groups`, `keys_after` of
    ivr.tree.kinds.CollectData): a spoken number whose recogniser confidence is below
    `confirm_below` is read back (prompt `readback`) and confirmed by "ya"/"benar" or key 1,
    rejected by "tidak"/"salah" (or "ulangi") or key 2; with `groups`, a long number is
    taken a group at a time and only an unsure group is read back, and "salah"/"ulangi"
    after a group drops it; after `keys_after` rejected read-backs of one group the keypad is offered
    (prompt `use_keys`), every spoken answer is read back from then on, and each further
    rejection counts as a failure. A valid number is read back, never an invalid one (that
    gets the `invalid` prompt as before); keyed digits are never read back."""

    def terminator(self, node: Node) -> str:
        return node.data.terminator

    @staticmethod
    def _state(s: CallSession) -> CollectState:
        if s.kind_state is None:
            s.kind_state = CollectState()
        return s.kind_state

    def grammar(self, s: CallSession, node: Node) -> Grammar:
        base = s.tree.grammar_for(node.id)
        st, d = s.kind_state, node.data
        if st is not None and st.pending:
            return Grammar((Choice("yes", YES_WORDS), Choice("no", NO_WORDS)) + base.choices, name=node.id)
        if d.groups:
            # one group at a time (the recogniser's answer check holds it to the group's
            # length); the first answer may also be the whole number, said in one go
            taken = len(st.taken) if st is not None else 0
            size = min(d.groups, d.max_length - taken)
            return dataclasses.replace(base, choices=(Choice("again", CORRECT_WORDS),) + base.choices,
                                       min_digits=size if d.min_length == d.max_length else 1,
                                       max_digits=size if taken else d.max_length, validator="none",
                                       exclude=tuple(st.rejected) if st is not None else ())
        if st is not None and st.rejected:
            return dataclasses.replace(base, exclude=tuple(st.rejected))
        return base

    def reprompt(self, s: CallSession, node: Node, out: list[Action]) -> None:
        st, d = s.kind_state, node.data
        dialogue = d.confirm_below > 0 or d.groups > 0
        if (dialogue and d.keys_after and s.failures >= d.keys_after
                and not (st is not None and (st.keys_offered or st.keyed))):
            st = self._state(s)               # not heard twice (no-match, too short): offer the keypad
            st.pending, st.keys_offered = "", True
            st.groups.clear()
            self._say(s, node, "use_keys", out)
        elif st is not None and st.pending:
            self._read_back(s, node, out, listen=False)
        elif st is not None and st.keys_offered:
            self._say(s, node, "use_keys", out)
        elif st is not None and st.groups:
            self._say(s, node, "reject", out)   # mid-number: say the last group again
        else:
            s.play(node, "greet_short", out)

    def key(self, s: CallSession, node: Node, key: str, at: float, out: list[Action]) -> None:
        d = node.data
        li = s.listening
        st = s.kind_state
        action = s.tree.global_keys.action_for(key)
        if st is not None and st.pending:
            s.listening = None
            if key == YES_KEY:
                self._accept(s, node, out)
            elif key == NO_KEY:
                self._reject(s, node, out)
            elif action == "repeat" and action in node.globals_enabled:
                self._read_back(s, node, out)
            elif action and action in node.globals_enabled:
                s.global_action(node, action, out)
            else:
                s.fail(node, "invalid", out)
            return
        if key.isdigit():
            st = self._state(s)
            st.keyed = True
        taken = st.taken if st is not None else ""
        if key == d.terminator and d.terminator:
            self._complete(s, node, taken + li.digits, out)
        elif key.isdigit():
            li.digits += key
            li.last_digit_at = at
            if len(taken) + len(li.digits) >= d.max_length:
                if d.terminator:
                    s.swallow(d.terminator, at + node.inter_digit_timeout)
                self._complete(s, node, taken + li.digits, out)
        elif action and action in node.globals_enabled:
            s.global_action(node, action, out)
        else:
            s.fail(node, "invalid", out)

    def choice(self, s: CallSession, node: Node, token: str, out: list[Action]) -> None:
        action = token[7:] if token.startswith("global:") else None
        st = s.kind_state
        if st is not None and st.pending:
            if token == "yes":
                self._accept(s, node, out)
            elif token == "no" or action == "repeat":   # "ulangi" at a read-back: I'll say it again
                self._reject(s, node, out)
            elif action and action in node.globals_enabled:
                s.global_action(node, action, out)
            else:
                s.fail(node, "nomatch", out)
        elif (token == "again" or action == "repeat") and st is not None and st.groups:
            st.groups.pop()                               # "salah" / "ulangi" right after a group
            self._say(s, node, "reject", out)
            s.listen(node, out)
        elif action and action in node.globals_enabled:
            s.global_action(node, action, out)
        else:
            s.fail(node, "nomatch", out)

    def spoken_digits(self, s: CallSession, node: Node, digits: str, at: float, out: list[Action],
                      confidence: float = 1.0) -> None:
        d = node.data
        st = self._state(s)
        unsure = d.confirm_below > 0 and (confidence < d.confirm_below or d.confirm_below >= 1 or st.keys_offered)
        st.pending = ""   # a number said at a read-back is a new answer, not a ya/tidak
        if d.groups:
            s.listening = None
            whole = st.taken + digits
            size = min(d.groups, d.max_length - len(st.taken))
            if len(whole) > d.max_length:
                s.fail(node, "invalid", out)
            elif d.min_length == d.max_length and len(digits) < size:
                s.fail(node, "nomatch", out)        # a short group is a digit lost: say it again
            elif len(whole) == d.max_length and not self._valid(s, node, whole):
                st.groups.clear()
                s.finish_digits(node, whole, out)   # never read back an invalid number
            elif unsure:
                st.pending, st.whole = digits, False
                self._read_back(s, node, out)
            else:
                st.groups.append(digits)
                self._next_group(s, node, out)
            return
        # the whole number, possibly in parts: a caller may read a 16-digit NIK in groups,
        # pausing between them (the inter-digit timeout applies). It ends at max_length (or
        # by the inter-digit timeout once min_length is reached).
        li = s.listening
        li.digits += digits
        li.last_digit_at = at
        st.spoken = True
        st.unsure |= unsure
        if len(li.digits) > d.max_length:
            s.listening = None
            st.spoken = st.unsure = False
            s.fail(node, "invalid", out)
        elif len(li.digits) == d.max_length:
            self._complete(s, node, li.digits, out)

    def deadline(self, s: CallSession, node: Node, digits: str, out: list[Action]) -> None:
        st = s.kind_state
        if st is not None and st.pending:
            s.listening = None
            s.timeout(node, out)
        elif digits or (st is not None and st.groups and len(st.taken) >= node.data.min_length):
            self._complete(s, node, (st.taken if st is not None else "") + digits, out)
        else:
            s.timeout(node, out)

    # ---- the dialogue's steps -------------------------------------------------------------
    def _say(self, s: CallSession, node: Node, prompt: str, out: list[Action]) -> None:
        s.play(node, prompt, out, text=node.prompts.get(prompt) or DIALOGUE_PROMPTS[prompt])

    def _read_back(self, s: CallSession, node: Node, out: list[Action], listen: bool = True) -> None:
        """Say the pending digits back and ask ya/tidak (prompt `readback`, {angka})."""
        st = s.kind_state
        # a run of 5 or more digits is read digit by digit, grouped, by the verbalizer; a
        # shorter group is written digit by digit so it is not read as a quantity
        said = st.pending if len(st.pending) >= 5 else " ".join(st.pending)
        raw = node.prompts.readback or DIALOGUE_PROMPTS["readback"]
        s.play(node, "readback", out, text=raw.replace("{angka}", said))
        if listen:
            s.listen(node, out)

    def _valid(self, s: CallSession, node: Node, digits: str) -> bool:
        d = node.data
        return len(digits) >= d.min_length and validate(d.validator, digits, s.today)[0]

    def _complete(self, s: CallSession, node: Node, digits: str, out: list[Action]) -> None:
        """The whole number is in: read it back first when part of it was spoken unsure
        (and it is valid: an invalid one gets the `invalid` prompt), else check and go on."""
        s.listening = None
        st = self._state(s)
        read_back = st.spoken and st.unsure and self._valid(s, node, digits)
        st.spoken = st.unsure = False
        st.groups.clear()
        if read_back:
            st.pending, st.whole = digits, True
            self._read_back(s, node, out)
        else:
            s.finish_digits(node, digits, out)

    def _next_group(self, s: CallSession, node: Node, out: list[Action]) -> None:
        st = s.kind_state
        s.failures = 0   # max_failures counts per group: a long number should not run out on its 3rd no-match
        st.rejected.clear()   # a new group: what the caller rejected was another group
        st.rejects = 0        # keys_after counts per group too: two groups misheard once each is no reason for keys
        if len(st.taken) >= node.data.max_length:
            digits = st.taken
            st.groups.clear()
            s.finish_digits(node, digits, out)
        else:
            s.listen(node, out)   # the next group: no prompt, the caller goes on

    def _accept(self, s: CallSession, node: Node, out: list[Action]) -> None:
        st = s.kind_state
        digits, st.pending = st.pending, ""
        st.rejected.clear()
        if st.whole:
            s.finish_digits(node, digits, out)
        else:
            st.groups.append(digits)
            self._next_group(s, node, out)

    def _reject(self, s: CallSession, node: Node, out: list[Action]) -> None:
        d, st = node.data, s.kind_state
        if st.pending:
            st.rejected.append(st.pending)   # never read the same wrong number back again
        st.pending = ""
        st.rejects += 1
        if d.keys_after and st.rejects == d.keys_after and not st.keys_offered:
            st.keys_offered = True
            st.groups.clear()   # "tekan NIK Anda": the caller keys the whole number
            st.rejected.clear()
            self._say(s, node, "use_keys", out)
            s.listen(node, out)
        elif not d.keys_after or st.rejects > d.keys_after:
            # heard wrong again: a failure (on_exceeded bounds it), with the same words
            s.fail(node, "reject", out, text=node.prompts.get("reject") or DIALOGUE_PROMPTS["reject"])
        else:
            self._say(s, node, "reject", out)
            s.listen(node, out)


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
