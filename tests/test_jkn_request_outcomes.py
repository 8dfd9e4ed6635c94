"""Each request type of `permintaan` returns exactly the outcomes ivr.jkn.specs declares for
it: every declared outcome is produced by some well-formed arguments, no other outcome by any
of them; a malformed identifier is a service error (the tree's bug), never `ditolak`. And
`ivr lint` warns about a branch for an outcome the node's request type never returns."""
from __future__ import annotations

import datetime as dt
import itertools
import textwrap

import pytest

from ivr.jkn import specs
from ivr.jkn.participants import DEMO_PARTICIPANTS
from ivr.jkn.services import JknServices, ServiceError
from ivr.rules.identifiers import make_nik
from ivr.tree import lint
from ivr.tree.loader import load_tree_text

TODAY = dt.date(2026, 11, 23)
NEW_DOB = dt.date(2015, 3, 10)
NEW_NIK = make_nik("317401", NEW_DOB, "P", 9001)          # valid, nobody has it: a new member
UNKNOWN_NIK = make_nik("317401", dt.date(1980, 1, 1), "L", 9002)   # valid, nobody has it: not found


#: optional arguments a request uses when given (ganti_email: the phone the link is sent to)
OPTIONAL = {"ganti_email": ("hp",)}


def _people(svc: JknServices) -> list:
    """The demo participants and a few of every segment and status from the store."""
    people = {d.participant.nik: svc.participants.by_nik(d.participant.nik) for d in DEMO_PARTICIPANTS}
    for segmen, status in itertools.product(("PBI", "PPU", "PBPU", "BP"), ("aktif", "nonaktif")):
        for p in svc.participants.list(segmen=segmen, status=status)[:2]:
            people.setdefault(p.nik, p)
    return [p for p in people.values() if p is not None]


def _candidates(svc: JknServices, arg: str, people: list) -> list[str]:
    ddmmyyyy = lambda d: d.strftime("%d%m%Y")  # noqa: E731
    return {
        "nik": [p.nik for p in people] + [UNKNOWN_NIK],
        "nik_anggota": [NEW_NIK, people[0].nik],
        "tgl_lahir": list(dict.fromkeys([ddmmyyyy(p.tgl_lahir) for p in people]
                                        + [ddmmyyyy(NEW_DOB), "01011980", "01011990"])),
        "kelas": ["1", "2", "3"],
        "perubahan": ["identitas", "mutasi"],
        "hp": ["081234567890", "0712345678"],
        "npwp": ["012345678901000"],
        "kode_pos": ["40111"],
        "kategori": ["1", "4"],
    }[arg]


@pytest.mark.parametrize("jenis", sorted(specs.REQUESTS))
def test_request_type_returns_exactly_its_declared_outcomes(jenis):
    declared = specs.REQUESTS[jenis].outcomes
    seen: set[str] = set()
    svc = JknServices(":memory:", clock=lambda: dt.datetime(2026, 11, 23, 9, 0))
    try:
        people = _people(svc)
        needed = specs.REQUESTS[jenis].args + OPTIONAL.get(jenis, ())
        for values in itertools.product(*(_candidates(svc, a, people) for a in needed)):
            args = {"jenis": jenis, **dict(zip(needed, values))}
            try:
                seen.add(svc.invoke("permintaan", args, TODAY).outcome)
            except ServiceError:
                seen.add(specs.SERVICE_ERROR_OUTCOME)
    finally:
        svc.close()
    seen.discard(specs.SERVICE_ERROR_OUTCOME)      # e.g. a bad phone for a callback: any service may fail
    assert seen == set(declared), (jenis, seen, declared)


@pytest.mark.parametrize("args", [
    {"jenis": "perubahan_data", "nik": "2074054508900002", "perubahan": "identitas"},   # province 20
    {"jenis": "ganti_npwp", "nik": "3174054508900002", "npwp": "12345"},
    {"jenis": "ganti_alamat", "nik": "3174054508900002", "kode_pos": "4011"},
    {"jenis": "penambahan_peserta", "nik": "3174054508900002", "nik_anggota": "3174010000000000",
     "tgl_lahir": "10032015"},
])
def test_malformed_identifier_is_a_service_error_not_a_refusal(args):
    svc = JknServices(":memory:", clock=lambda: dt.datetime(2026, 11, 23, 9, 0))
    try:
        with pytest.raises(ServiceError):
            svc.invoke("permintaan", args, TODAY)
    finally:
        svc.close()


def test_outcomes_of_reads_the_request_type():
    assert specs.outcomes_of("permintaan", {"jenis": "ganti_email"}) == ("selesai", "tidak_ditemukan")
    assert specs.outcomes_of("permintaan", {"jenis": "{jenis}"}) == specs.SERVICES["permintaan"].outcomes
    assert specs.outcomes_of("cek_peserta", {}) == specs.SERVICES["cek_peserta"].outcomes
    assert specs.outcomes_of("nope") is None


TREE = textwrap.dedent("""\
    version: 1
    start: a
    global_keys: {agent: null}
    nodes:
      a:
        type: service
        service: permintaan
        args: {jenis: pengaduan, nik: "3174054508900002", kategori: "1"}
        branches: {selesai: b, ditolak: b, tidak_ditemukan: b}
        default: b
      b:
        type: service
        service: permintaan
        args: {jenis: ganti_kelas, nik: "3174054508900002", kelas: "1"}
        branches: {selesai: bye, ditolak: bye, tidak_ditemukan: bye}
        default: bye
      bye: {type: hangup, prompt: "Terima kasih."}
""")


def test_lint_warns_about_a_branch_the_request_type_never_takes():
    found = [e for e in lint.lint(load_tree_text(TREE)) if "never returns" in e.message]
    assert [(e.pos.line, e.message) for e in found] == [
        (9, "node 'a': request type 'pengaduan' never returns outcome 'ditolak'")]
    assert found[0].severity == "warning" and found[0].pos.col > 0 and "selesai, tidak_ditemukan" in found[0].hint
