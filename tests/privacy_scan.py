"""A scanner for personal numbers in anything the tool wrote or printed (tests' helper).

It knows the participants database's NIKs, card numbers, phone numbers and dates of birth
and finds any of them in a text however it was written: plain digits, digits grouped or
spaced or hyphenated ("3174 0545 0890 0002", "3174-0545-0890-0002", "17 08 1985"), or
Indonesian digit words ("tiga satu tujuh empat ...", zero as "nol" or "kosong"), also
mixed. Text is read as runs of digits: a digit or a digit word extends the run, a
separator (spaces, - . , / :) keeps it open, anything else closes it; each run is checked
for every needle as a substring. Public texts (the IVR's own prompts, e.g. the example
date in "17 Agustus 1985 menjadi 17081985") can be removed first: they identify nobody.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.grammar import DIGIT_WORDS   # nol/kosong, satu ... sembilan: the words the IVR understands

_DIGIT = r"(?:\d|(?<![a-z])(?:" + "|".join(DIGIT_WORDS) + r")(?![a-z]))"
_RUN = re.compile(_DIGIT + r"(?:[\s\-.,/:]*" + _DIGIT + ")*", re.I)
_ONE = re.compile(_DIGIT, re.I)
_BINARY_RUN = re.compile(rb"[0-9](?:[ \-.,/:]*[0-9]){7,}")


@dataclass(frozen=True)
class Hit:
    where: str
    kind: str
    value: str
    context: str


@dataclass
class PiiScanner:
    """Needles by length: {len: {digits: kind}}."""

    needles: dict[int, dict[str, str]] = field(default_factory=dict)
    public_texts: tuple[str, ...] = ()

    def add(self, kind: str, value: str | None) -> None:
        d = re.sub(r"\D", "", value or "")
        if len(d) >= 8:
            self.needles.setdefault(len(d), {})[d] = kind
            if kind == "phone" and d.startswith("0"):
                self.add("phone", "62" + d[1:])   # +62 812 ... is the same number

    @classmethod
    def for_participants(cls, people, public_texts: Iterable[str] = ()) -> "PiiScanner":
        s = cls(public_texts=tuple(sorted({t for t in public_texts if t}, key=len, reverse=True)))
        for p in people:
            s.add("nik", p.nik)
            s.add("card", p.no_kartu)
            s.add("phone", p.hp)
            s.add("dob", p.tgl_lahir.strftime("%d%m%Y"))
        return s

    def runs(self, text: str) -> list[tuple[str, int]]:
        """(digits, offset in text) of every run of digits/digit words."""
        out = []
        for m in _RUN.finditer(text):
            digits = "".join(t if t.isdigit() else DIGIT_WORDS[t.lower()] for t in _ONE.findall(m.group()))
            if len(digits) >= 8:
                out.append((digits, m.start()))
        return out

    def scan_text(self, text: str, where: str) -> list[Hit]:
        for pub in self.public_texts:
            text = text.replace(pub, " ")
        hits: list[Hit] = []
        lengths = sorted(self.needles)
        for run, at in self.runs(text):
            for n in lengths:
                table = self.needles[n]
                for i in range(len(run) - n + 1):
                    kind = table.get(run[i:i + n])
                    if kind:
                        hits.append(Hit(where, kind, run[i:i + n], text[max(0, at - 40):at + 80]))
        return hits

    def scan_file(self, path: Path) -> list[Hit]:
        """A text file as text; a binary one (a WAV recording, its metadata chunks) for
        ASCII digit runs only, which is what text inside binary data can hold."""
        data = path.read_bytes()
        try:
            return self.scan_text(data.decode("utf-8"), str(path))
        except UnicodeDecodeError:
            pass
        hits: list[Hit] = []
        for m in _BINARY_RUN.finditer(data):
            hits += self.scan_text(m.group().decode("ascii"), f"{path}@{m.start()}")
        return hits

    def scan_tree(self, root: Path) -> tuple[int, list[Hit]]:
        """Every file under `root`: (files scanned, hits)."""
        files = [p for p in sorted(root.rglob("*")) if p.is_file()]
        hits: list[Hit] = []
        for p in files:
            hits += self.scan_file(p)
        return len(files), hits


def public_prompts(tree_path: Path) -> list[str]:
    """A tree's own prompt texts without variables: public, they identify nobody even where
    one shows an example date of birth that happens to be a demo participant's."""
    from ivr.tree.loader import load_tree

    tree = load_tree(tree_path)
    out = []
    for node in tree.nodes.values():
        for name in node.prompts.__dataclass_fields__:
            text = node.prompts.get(name)
            if text and "{" not in text:
                out.append(text)
    return out
