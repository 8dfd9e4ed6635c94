"""One declaration of the services (ivr.jkn.specs): the services keep to it, lint, the queue
configuration and the validators read it, and the phone and class rules exist once."""
from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from ivr.engine.validators import validate
from ivr.jkn import specs
from ivr.jkn.participants import DEMO_PARTICIPANTS
from ivr.jkn.services import REQUEST_ARGS, JknServices
from ivr.queue.config import REQUEST_TYPES
from ivr.tree import lint
from ivr.tree.loader import load_tree_text

TODAY = dt.date(2026, 11, 23)
DEMO = {d.key: d.participant for d in DEMO_PARTICIPANTS}


@pytest.fixture(scope="module")
def svc():
    s = JknServices(":memory:", clock=lambda: dt.datetime(2026, 11, 23, 9, 0))
    yield s
    s.close()


def _keeps_to_spec(name, result):
    spec = specs.SERVICES[name]
    assert result.outcome in spec.outcomes, (name, result.outcome)
    assert set(result.vars) <= set(spec.sets), (name, set(result.vars) - set(spec.sets))


def test_services_return_only_declared_outcomes_and_variables(svc):
    for p in DEMO.values():
        for name in ("cek_peserta", "cek_tagihan"):
            _keeps_to_spec(name, svc.invoke(name, {"nik": p.nik, "tgl_lahir": p.tgl_lahir.strftime("%d%m%Y")}, TODAY))
    _keeps_to_spec("iuran_kelas", svc.invoke("iuran_kelas", {}, TODAY))
    calls = [
        {"jenis": "pendaftaran", "nik": "3174010101900001", "tgl_lahir": "01011990", "kelas": "2"},
        {"jenis": "penambahan_peserta", "nik": DEMO["aktif"].nik, "nik_anggota": "3174015003150001",
         "tgl_lahir": "10032015"},
        {"jenis": "ganti_kelas", "nik": DEMO["baru"].nik, "kelas": "1"},
        {"jenis": "ganti_fktp", "nik": DEMO["aktif"].nik},
        {"jenis": "ganti_nomor_hp", "nik": DEMO["aktif"].nik, "tgl_lahir": "05081990", "hp": "081234567890"},
        {"jenis": "callback", "hp": "081234567890"},
        {"jenis": "ganti_npwp", "nik": "3273011708850099", "npwp": "012345678901000"},
    ]
    for args in calls:
        _keeps_to_spec("permintaan", svc.invoke("permintaan", args, TODAY))


def test_every_declared_request_type_is_handled_with_its_declared_arguments(svc):
    assert REQUEST_ARGS == {j: r.args for j, r in specs.REQUESTS.items()}
    for jenis in specs.REQUESTS:
        assert jenis in ("pendaftaran", "callback") or hasattr(svc, f"_req_{jenis}"), jenis


def test_queue_config_and_lint_read_the_declaration():
    assert REQUEST_TYPES == specs.AGENT_QUEUES
    assert {r.queue for r in specs.REQUESTS.values()} - {None} == set(REQUEST_TYPES)
    assert "ganti_fktp" in specs.REQUESTS and "callback" in specs.REQUESTS
    assert lint.SERVICES is specs.SERVICES and lint.SERVICE_ERROR_OUTCOME == specs.SERVICE_ERROR_OUTCOME


TREE = textwrap.dedent("""
    version: 1
    start: a
    global_keys: {agent: null}
    nodes:
      a:
        type: service
        service: permintaan
        args: {jenis: ganti_nomor_hp, nik: "123"}
        branches: {selesai: b}
        default: b
      b:
        type: service
        service: permintaan
        args: {jenis: ganti_nomer_hp, nik: "123"}
        branches: {selesai: c}
        default: c
      c:
        type: service
        service: cek_peserta
        args: {nik: "123"}
        branches: {aktif: bye}
        default: bye
      bye: {type: hangup, prompt: "Terima kasih."}
""")


def test_lint_warns_about_arguments_the_declaration_requires():
    text = "\n".join(f"{e.message} {e.hint}" for e in lint.lint(load_tree_text(TREE)))
    assert "needs argument(s) tgl_lahir, hp" in text
    assert "unknown request type 'ganti_nomer_hp'" in text and "ganti_nomor_hp" in text
    assert "service 'cek_peserta' needs argument(s) tgl_lahir" in text


@pytest.mark.parametrize("hp", ["081234567890", "0812345678", "0812345678901", "0712345678", "081234567", "08123456789012"])
def test_phone_rule_is_the_same_while_typing_and_at_the_agent(svc, hp):
    typed_ok = validate("phone", hp)[0]
    r = svc.invoke("permintaan", {"jenis": "ganti_nomor_hp", "nik": DEMO["aktif"].nik, "tgl_lahir": "05081990",
                                  "hp": hp}, TODAY)
    assert (r.outcome == "selesai") == typed_ok, (hp, r.vars.get("alasan"))


@pytest.mark.parametrize("kelas", ["1", "2", "3", "0", "4"])
def test_class_rule_is_the_same_while_typing_and_at_the_agent(svc, kelas):
    typed_ok = validate("kelas", kelas)[0]
    try:
        svc.invoke("permintaan", {"jenis": "ganti_kelas", "nik": DEMO["baru"].nik, "kelas": kelas}, TODAY)
        service_ok = True
    except ValueError:
        service_ok = False
    assert service_ok == typed_ok
