"""The name the population registry (Dukcapil) holds for a NIK: simulated.

Why: a registration over the phone takes a NIK and a date of birth, never a typed name; the
agent's screen shows the name that Dukcapil returns for the NIK, and that is the name the
participant is then greeted by. The simulator has no registry, so the name is drawn from the
synthetic participants' name lists, fixed by the NIK (the same NIK always gives the same name,
so a scenario hears the same name on every run) and by the sex the NIK encodes.
"""
from __future__ import annotations

import hashlib

from ivr.jkn.participants import FAMILY, FEMALE, MALE


def nama_dukcapil(nik: str, sex: str) -> str:
    """A full name for the holder of `nik` (`sex` "L" or "P", as decoded from the NIK)."""
    h = int.from_bytes(hashlib.sha256(nik.encode("ascii")).digest()[:8], "big")
    first = (FEMALE if sex == "P" else MALE)[h % 997 % len(FEMALE if sex == "P" else MALE)]
    return f"{first} {FAMILY[h // 997 % len(FAMILY)]}"
