"""One source for a participant's state (issue 12, section 1): what self-service says and what
agents say and apply are read from `ivr.jkn.services.state_of`, so they cannot disagree."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.jkn.participants import DEMO_PARTICIPANTS
from ivr.jkn.services import JknServices, can_change_class

TODAY = dt.date(2026, 11, 23)
DEMO = {d.key: d.participant for d in DEMO_PARTICIPANTS}


@pytest.fixture
def svc():
    s = JknServices(":memory:", clock=lambda: dt.datetime(2026, 11, 23, 9, 0))
    yield s
    s.close()


def _register(svc, nik="3174010101900001", dob="01011990", kelas="2"):
    return svc.invoke("permintaan", {"jenis": "pendaftaran", "nik": nik, "tgl_lahir": dob, "kelas": kelas}, TODAY)


def test_new_registrant_owes_a_first_payment_and_is_not_overdue(svc):
    reg = _register(svc)
    assert reg.outcome == "selesai" and "iuran pertama" in reg.vars["pembayaran"]
    bill = svc.invoke("cek_tagihan", {"nik": "3174010101900001", "tgl_lahir": "01011990"}, TODAY)
    v = bill.vars
    assert bill.outcome == "nonaktif" and v["tunggakan_bulan"] == "0" and v["tagihan"] == "Rp100.000"
    assert v["jatuh_tempo"] == "23 Desember 2026" and "lewat jatuh tempo" not in v["pembayaran"]
    assert "iuran pertama Rp100.000" in v["pembayaran"] and v["va"] in v["pembayaran"]
    assert "kembali" not in v["pembayaran"]                  # nothing to re-activate: a first payment
    assert v["nama"] not in ("", "Peserta") and v["nama"] == reg.vars["nama"]
    # December joins the first payment; both are late only once the first-payment date has passed
    dec = svc.invoke("cek_tagihan", {"nik": "3174010101900001", "tgl_lahir": "01011990"}, dt.date(2026, 12, 20))
    assert dec.vars["tunggakan_bulan"] == "0" and dec.vars["tagihan"] == "Rp200.000"
    late = svc.invoke("cek_tagihan", {"nik": "3174010101900001", "tgl_lahir": "01011990"}, dt.date(2026, 12, 24))
    assert late.vars["tunggakan_bulan"] == "2"


def test_the_registered_name_is_the_registry_name_and_stable(svc):
    a = _register(svc).vars["nama"]
    with JknServices(":memory:") as other:
        assert _register(other).vars["nama"] == a              # same NIK, same name, every run
    assert svc.participants.by_nik("3174010101900001").nama.split()[0] == a


def test_one_family_one_virtual_account(svc):
    head = DEMO["aktif"]
    added = svc.invoke("permintaan", {"jenis": "penambahan_peserta", "nik": head.nik,
                                      "nik_anggota": "3174015003150001", "tgl_lahir": "10032015"}, TODAY)
    family_va = "88888" + head.no_kartu[-11:]
    assert added.outcome == "selesai" and added.vars["va"] == family_va
    assert added.vars["kartu"] != added.vars["va"][-13:] and family_va in added.vars["pembayaran"]
    member = svc.invoke("cek_tagihan", {"nik": "3174015003150001", "tgl_lahir": "10032015"}, TODAY)
    assert member.vars["va"] == family_va and family_va in member.vars["pembayaran"]
    assert svc.invoke("cek_tagihan", {"nik": head.nik, "tgl_lahir": "05081990"}, TODAY).vars["va"] == family_va


def test_ppu_family_member_is_paid_by_the_employer(svc):
    added = svc.invoke("permintaan", {"jenis": "penambahan_peserta", "nik": DEMO["ppu"].nik,
                                      "nik_anggota": "3201015506200002", "tgl_lahir": "15062020"}, TODAY)
    assert added.outcome == "selesai"
    assert "pemberi kerja" in added.vars["pembayaran"] and added.vars["va"] == ""
    assert "virtual account" not in added.vars["pembayaran"]


def test_gilang_member_asking_for_the_bill_hears_status_and_fix(svc):
    p = DEMO["nonaktif"]
    v = svc.invoke("cek_tagihan", {"nik": p.nik, "tgl_lahir": "02011978"}, TODAY).vars
    # the reason is {alasan}, the fix {pemulihan}; {pembayaran} only says the bill (issue 12 §2)
    assert v["alasan"] == "data kependudukan belum diperbarui (GILANG)"
    assert "1x24 jam" in v["pemulihan"] and "Iuran berikutnya" not in v["pembayaran"]


def test_the_status_said_is_the_rule_applied_for_everyone(svc):
    """For every participant: a class change refused as 'not active' only when the status said
    is 'tidak aktif', and never refused for activity when it says 'aktif'."""
    for p in svc.participants.list():
        st = svc.state(p, TODAY)
        ok, why = can_change_class(p, TODAY, st)
        said = svc.describe(p, TODAY)[1]["status"]
        assert said == st.status_text
        assert ("status Anda tidak aktif" in why) == (said == "tidak aktif"), (p.demo, said, why)


def test_new_member_of_a_family_in_arrears_pays_the_family_bill_through_one_va(svc):
    head = DEMO["menunggak"]
    svc.invoke("permintaan", {"jenis": "penambahan_peserta", "nik": head.nik, "nik_anggota": "3273014101200001",
                              "tgl_lahir": "01012020"}, TODAY)
    child = svc.invoke("cek_tagihan", {"nik": "3273014101200001", "tgl_lahir": "01012020"}, TODAY).vars
    assert child["tunggakan_bulan"] == "0" and child["tagihan_peserta"] == "Rp100.000"
    assert child["tagihan"] == "Rp400.000" and child["va"] == "88888" + head.no_kartu[-11:]
