"""The services the VIKA tree invokes, and the agent rules of issue 5."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ivr.jkn.billing import Month
from ivr.jkn.participants import DEMO_PARTICIPANTS, write_db
from ivr.jkn.services import (JknServices, ServiceError, ServiceResult, add_months, can_change_class,
                              can_change_fktp)

TODAY = dt.date(2026, 11, 23)
DEMO = {d.key: d.participant for d in DEMO_PARTICIPANTS}


@pytest.fixture
def svc(tmp_path):
    s = JknServices(write_db(tmp_path / "p.sqlite", count=120), clock=lambda: dt.datetime(2000, 1, 1, 14, 30, 5))
    yield s
    s.close()


def cek(svc, key, dob=None, name="cek_peserta", today=TODAY):
    p = DEMO[key]
    return svc.invoke(name, {"nik": p.nik, "tgl_lahir": dob or p.tgl_lahir.strftime("%d%m%Y")}, today)


def test_active_member_no_arrears(svc):
    r = cek(svc, "aktif")
    assert isinstance(r, ServiceResult) and r.outcome == "aktif"
    v = r.vars
    assert (v["nama"], v["status"], v["kelas"], v["segmen"]) == ("Siti", "aktif", "Kelas 3", "Pekerja Bukan Penerima Upah")
    assert (v["iuran"], v["tagihan"], v["tunggakan_bulan"], v["jatuh_tempo"]) == ("Rp35.000", "Rp0", "0", "10 Desember 2026")
    assert v["va"] == "8888801987654321" and v["fktp"] == "Puskesmas Kecamatan Kebon Jeruk"
    assert all(isinstance(x, str) for x in v.values())


def test_three_months_in_arrears(svc):
    r = cek(svc, "menunggak")
    assert r.outcome == "menunggak"
    assert (r.vars["status"], r.vars["tunggakan_bulan"], r.vars["tagihan"]) == ("tidak aktif", "3", "Rp300.000")
    assert r.vars["jatuh_tempo"] == "10 Desember 2026" and r.vars["va"] == "8888801876543210"
    # paying nothing for another month: one more month, one more Rp100.000
    later = cek(svc, "menunggak", today=dt.date(2026, 12, 11))
    assert (later.vars["tunggakan_bulan"], later.vars["tagihan"]) == ("4", "Rp400.000")


def test_one_month_late_is_still_covered(svc):
    r = cek(svc, "fktp_baru")
    assert r.outcome == "menunggak" and r.vars["status"] == "aktif" and r.vars["tagihan"] == "Rp35.000"
    early = cek(svc, "fktp_baru", today=dt.date(2026, 11, 10))        # not late until after the 10th
    assert early.outcome == "aktif" and early.vars["tagihan"] == "Rp35.000"
    assert early.vars["jatuh_tempo"] == "10 November 2026"


def test_inactive_pbi_and_ppu(svc):
    r = cek(svc, "nonaktif")
    assert r.outcome == "nonaktif" and r.vars["status"] == "tidak aktif" and "GILANG" in r.vars["alasan"]
    pbi = cek(svc, "pbi")
    assert pbi.outcome == "aktif" and pbi.vars["segmen"] == "Penerima Bantuan Iuran"
    assert pbi.vars["iuran"] == "ditanggung pemerintah" and pbi.vars["tagihan"] == "Rp0"
    ppu = cek(svc, "ppu")
    assert ppu.outcome == "aktif" and ppu.vars["kelas"] == "Kelas 1"
    assert ppu.vars["iuran"] == "Rp300.000, dibayar pemberi kerja Rp240.000 dan pekerja Rp60.000"


def test_not_found_and_wrong_birth_date(svc):
    assert svc.invoke("cek_peserta", {"nik": "3273011708850099", "tgl_lahir": "17081985"}, TODAY).outcome == "tidak_ditemukan"
    assert cek(svc, "menunggak", dob="18081985").outcome == "tgl_lahir_salah"
    assert cek(svc, "menunggak", dob="31021985").outcome == "tgl_lahir_salah"     # not a date at all
    assert cek(svc, "menunggak", name="cek_tagihan").vars["tagihan"] == "Rp300.000"


def test_family_bill_is_per_kk(svc):
    head = DEMO["menunggak"]                       # Kelas 2, paid through August 2026
    r = svc.invoke("permintaan", {"jenis": "penambahan_peserta", "nik": head.nik, "nik_anggota": "3273014101200001",
                                  "tgl_lahir": "01012020"}, TODAY)
    assert r.outcome == "selesai"
    svc.participants.update("3273014101200001", iuran_lunas_sampai=Month(2026, 8), status="aktif",
                            alasan_nonaktif=None)
    child = svc.invoke("cek_tagihan", {"nik": "3273014101200001", "tgl_lahir": "01012020"}, TODAY)
    # the child was registered today: it owes November only, never months before registration
    assert child.outcome == "menunggak" and child.vars["jumlah_anggota"] == "2"
    assert child.vars["tunggakan_bulan"] == "1"
    assert (child.vars["tagihan_peserta"], child.vars["tagihan"]) == ("Rp100.000", "Rp400.000")
    assert child.vars["va"] == "88888" + head.no_kartu[-11:]       # one VA per family: the head's card
    assert cek(svc, "menunggak").vars["tagihan"] == "Rp400.000"


def test_iuran_kelas(svc):
    r = svc.invoke("iuran_kelas", {}, TODAY)
    assert r.outcome == "ok"
    assert (r.vars["kelas_1"], r.vars["kelas_2"], r.vars["kelas_3"]) == ("Rp150.000", "Rp100.000", "Rp35.000")
    assert (r.vars["kelas_3_penuh"], r.vars["kelas_3_subsidi"]) == ("Rp42.000", "Rp7.000")


def test_bad_calls_are_clear_errors(svc):
    with pytest.raises(ServiceError, match="unknown service 'cek_saldo'"):
        svc.invoke("cek_saldo", {}, TODAY)
    with pytest.raises(ServiceError, match="missing argument.*tgl_lahir"):
        svc.invoke("cek_peserta", {"nik": DEMO["aktif"].nik, "tgl_lahir": ""}, TODAY)
    with pytest.raises(ServiceError, match="nik"):
        svc.invoke("cek_peserta", {"nik": "123", "tgl_lahir": "17081985"}, TODAY)
    with pytest.raises(ServiceError, match="unknown request type"):
        svc.invoke("permintaan", {"jenis": "sulap"}, TODAY)
    with pytest.raises(ServiceError, match="missing argument.*tgl_lahir, hp"):
        svc.invoke("permintaan", {"jenis": "ganti_nomor_hp", "nik": DEMO["aktif"].nik}, TODAY)


# ---- agent rules ---------------------------------------------------------------------------
def test_class_change_rule():
    assert can_change_class(DEMO["aktif"], TODAY)[0]
    ok, why = can_change_class(DEMO["baru"], TODAY)                  # registered 15 June 2026
    assert not ok and "minimal 1 tahun" in why and "15 Juni 2027" in why
    paid = dataclasses.replace(DEMO["baru"], iuran_lunas_sampai=Month(2027, 6))
    assert can_change_class(paid, dt.date(2027, 6, 15))[0]            # exactly one year later
    assert not can_change_class(paid, dt.date(2027, 6, 14))[0]
    assert not can_change_class(DEMO["baru"], dt.date(2027, 6, 15))[0]  # by then in arrears: not active
    assert not can_change_class(DEMO["nonaktif"], TODAY)[0]
    ok, why = can_change_class(DEMO["menunggak"], TODAY)
    assert not ok and "status Anda tidak aktif, masih ada tunggakan iuran 3 bulan" in why
    # one month late, still covered: the status said is "aktif", and the rule accepts it
    assert can_change_class(DEMO["fktp_baru"], TODAY)[0]
    assert not can_change_class(DEMO["pbi"], TODAY)[0] and not can_change_class(DEMO["ppu"], TODAY)[0]


def test_fktp_change_rule():
    ok, why = can_change_fktp(DEMO["fktp_baru"], TODAY)               # at this FKTP since 5 Oct 2026
    assert not ok and "3 bulan" in why and "5 Januari 2027" in why
    assert can_change_fktp(DEMO["fktp_baru"], dt.date(2027, 1, 5))[0]
    assert not can_change_fktp(DEMO["fktp_baru"], dt.date(2027, 1, 4))[0]
    assert can_change_fktp(DEMO["baru"], TODAY)[0]


def test_add_months_clamps_to_month_end():
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


# ---- requests through the permintaan service -------------------------------------------------
def test_registration_creates_participant_card_and_va(svc):
    r = svc.invoke("permintaan", {"jenis": "pendaftaran", "nik": "3174055203010004", "tgl_lahir": "12032001",
                                  "kelas": "2"}, TODAY)
    assert r.outcome == "selesai" and r.vars["tiket"].startswith("165-261123-")
    card = r.vars["kartu"]
    assert len(card) == 13 and r.vars["va"] == "88888" + card[-11:]
    p = svc.participants.by_nik("3174055203010004")
    assert p.no_kartu == card and p.kelas == 2 and p.jenis_kelamin == "P" and p.tgl_daftar == TODAY
    stored = svc.requests.get(r.vars["tiket"])
    assert stored.status == "selesai" and stored.fields["kartu"] == card
    assert stored.created_at == dt.datetime(2026, 11, 23, 14, 30, 5)
    # the new member owes the first month and is not active until it is paid
    c = svc.invoke("cek_peserta", {"nik": "3174055203010004", "tgl_lahir": "12032001"}, TODAY)
    assert c.outcome == "nonaktif" and c.vars["tagihan"] == "Rp100.000"
    # a second registration gets another card; the same NIK again is refused
    r2 = svc.invoke("permintaan", {"jenis": "pendaftaran", "nik": "3174051203010005", "tgl_lahir": "12032001",
                                   "kelas": "3"}, TODAY)
    assert r2.vars["kartu"] != card
    again = svc.invoke("permintaan", {"jenis": "pendaftaran", "nik": "3174055203010004", "tgl_lahir": "12032001",
                                      "kelas": "2"}, TODAY)
    assert again.outcome == "ditolak" and "sudah terdaftar" in again.vars["alasan"]


def test_registration_refuses_a_birth_date_that_contradicts_the_nik(svc):
    r = svc.invoke("permintaan", {"jenis": "pendaftaran", "nik": "3174055203010004", "tgl_lahir": "12032002",
                                  "kelas": "2"}, TODAY)
    assert r.outcome == "ditolak" and "tidak sesuai" in r.vars["alasan"]
    assert svc.participants.by_nik("3174055203010004") is None


def test_class_change_refused_then_done(svc):
    refused = svc.invoke("permintaan", {"jenis": "ganti_kelas", "nik": DEMO["baru"].nik, "kelas": "1"}, TODAY)
    assert refused.outcome == "ditolak" and "minimal 1 tahun" in refused.vars["alasan"]
    assert svc.requests.get(refused.vars["tiket"]).status == "ditolak"
    assert svc.participants.by_nik(DEMO["baru"].nik).kelas == 2
    done = svc.invoke("permintaan", {"jenis": "ganti_kelas", "nik": DEMO["aktif"].nik, "kelas": "2"}, TODAY)
    assert done.outcome == "selesai" and "Kelas 2" in done.vars["pesan"]
    assert svc.participants.by_nik(DEMO["aktif"].nik).kelas == 2
    assert done.vars["tiket"] != refused.vars["tiket"]


def test_phone_change_and_other_requests(svc):
    nik = DEMO["aktif"].nik
    hp = {"jenis": "ganti_nomor_hp", "nik": nik, "tgl_lahir": "05081990"}
    r = svc.invoke("permintaan", {**hp, "hp": "081298765432"}, TODAY)
    assert r.outcome == "selesai" and svc.participants.by_nik(nik).hp == "081298765432"
    bad = svc.invoke("permintaan", {**hp, "hp": "0712345678"}, TODAY)
    assert bad.outcome == "ditolak" and "diawali 08" in bad.vars["alasan"]
    assert svc.invoke("permintaan", {"jenis": "ganti_npwp", "nik": nik, "npwp": "012345678901000"}, TODAY).outcome == "selesai"
    assert svc.participants.by_nik(nik).npwp == "012345678901000"
    assert svc.invoke("permintaan", {"jenis": "ganti_alamat", "nik": nik, "kode_pos": "40111"}, TODAY).outcome == "selesai"
    assert svc.invoke("permintaan", {"jenis": "pengaduan", "nik": nik, "kategori": "3"}, TODAY).vars["pesan"].count("iuran dan tagihan") == 1
    assert svc.invoke("permintaan", {"jenis": "perubahan_data", "nik": nik, "perubahan": "mutasi"}, TODAY).outcome == "selesai"
    assert svc.invoke("permintaan", {"jenis": "informasi", "nik": ""}, TODAY).outcome == "selesai"
    cb = svc.invoke("permintaan", {"jenis": "callback", "hp": "081298765432", "antrean": "pengaduan"}, TODAY)
    assert cb.outcome == "selesai" and svc.requests.get(cb.vars["tiket"]).status == "callback"
    assert svc.invoke("permintaan", {"jenis": "ganti_kelas", "nik": "3273011708850099", "kelas": "1"}, TODAY).outcome == "tidak_ditemukan"
    fktp = svc.invoke("permintaan", {"jenis": "ganti_fktp", "nik": DEMO["fktp_baru"].nik, "fktp": "Puskesmas X"}, TODAY)
    assert fktp.outcome == "ditolak" and svc.participants.by_nik(DEMO["fktp_baru"].nik).fktp == "Klinik Pratama Ananda"
    tickets = [r.ticket for r in svc.requests.list()]
    assert len(tickets) == len(set(tickets)) == 9       # not-found is not stored


def test_adding_a_family_member(svc):
    head = DEMO["menunggak"]
    r = svc.invoke("permintaan", {"jenis": "penambahan_peserta", "nik": head.nik, "nik_anggota": "3273014101200001",
                                  "tgl_lahir": "01012020"}, TODAY)
    assert r.outcome == "selesai"
    child = svc.participants.by_nik("3273014101200001")
    assert child.no_kk == head.no_kk and child.kelas == head.kelas and child.segmen == "PBPU"
    pbi = svc.invoke("permintaan", {"jenis": "penambahan_peserta", "nik": DEMO["pbi"].nik,
                                    "nik_anggota": "5171034101200001", "tgl_lahir": "01012020"}, TODAY)
    assert pbi.outcome == "ditolak" and "Dinas Sosial" in pbi.vars["alasan"]


def test_default_database_under_ivr_home(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_HOME", str(tmp_path))
    with JknServices() as s:
        assert s.path == tmp_path / "participants.sqlite"
        assert s.invoke("cek_peserta", {"nik": DEMO["pbi"].nik, "tgl_lahir": "12031962"}, TODAY).outcome == "aktif"


def test_memory_database_is_private_and_fresh():
    nik = "3174055203010004"
    args = {"jenis": "pendaftaran", "nik": nik, "tgl_lahir": "12032001", "kelas": "2"}
    for _ in range(2):                      # a rerun starts from the same data: registration succeeds again
        with JknServices(":memory:") as s:
            assert s.participants.count() == 400
            assert s.invoke("permintaan", args, TODAY).outcome == "selesai"
            assert s.participants.by_nik(nik) is not None


def test_participant_registered_after_today_is_not_found():
    """`--today` before a participant's registration: nobody by that NIK existed yet."""
    import datetime as dt

    from ivr.jkn.services import JknServices

    s = JknServices(":memory:")
    args = {"nik": "3273011708850003", "tgl_lahir": "17081985"}
    assert s.invoke("cek_peserta", args, today=dt.date(2026, 11, 23)).outcome == "menunggak"
    assert s.invoke("cek_peserta", args, today=dt.date(1990, 1, 1)).outcome == "tidak_ditemukan"
