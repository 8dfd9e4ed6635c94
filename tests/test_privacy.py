"""Masking of personal data in free text and in values of a known kind."""
from __future__ import annotations

import pytest

from ivr.privacy import mask_pii, mask_value


@pytest.mark.parametrize("text, expected", [
    ("NIK 3201234567890001", "NIK 3201********0001"),
    ("kartu 0001876543210.", "kartu 000*******210."),
    ("VA 8888801876543210", "VA 8888********3210"),
    ("npwp=012345678901000", "npwp=01**********000"),
    ("HP 081234567890", "HP 0812*****890"),
    ("HP 0812-3456-7890", "HP 0812-****-*890"),
    ("HP 0812 3456 789", "HP 0812 **** 789"),
    ("+62 812 3456 7890", "+62 812 **** *890"),
    ("6281234567890", "62812*****890"),
    ("email budi.santoso@mail.id ok", "email b***********@mail.id ok"),
    ("3174054508900002#", "3174********0002#"),
    ("17081985", "****1985"),                                   # typed DOB
    ("NIK 3273011708850003 lahir 17081985", "NIK 3273********0003 lahir ****1985"),
    ("317405450890000208091990", "3174********************"),   # NIK + DOB typed without a pause
])
def test_personal_numbers_are_masked(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize("text", [
    "Tagihan iuran Anda Rp35.000, jatuh tempo 10 Desember 2026.",
    "Iuran Kelas 1 Rp150.000, Kelas 3 Rp42.000; denda paling tinggi Rp30.000.000.",
    "Nomor tiket Anda 165-261123-00001.",
    "[  79.72] node status_aktif t=12.345 2026-11-23 20261123",
    "WhatsApp Pandawa 0811-8-165-165, CHIKA 08118750400, SMS 08777 5500 400, 021-4212938, 1500 400, 165",
    "Contoh, 17 Agustus 1985 menjadi 17081985.",                # an example in a prompt stays readable
    "tekan 1 2 3 atau 0",
    "",
])
def test_ordinary_text_is_left_alone(text):
    assert mask_pii(text) == text


def test_masking_is_idempotent():
    once = mask_pii("NIK 3201234567890001 HP 0812-3456-7890 kartu 0001876543210 17081985")
    assert mask_pii(once) == once
    assert "3456" not in once and "345678" not in once


def test_mask_value_by_kind():
    assert mask_value("nik", "3201234567890001") == "3201********0001"
    assert mask_value("kartu", "0001876543210") == "000*******210"
    assert mask_value("va", "8988801876543210") == "8988********3210"
    assert mask_value("hp", "081234567890") == "0812*****890"
    assert mask_value("email", "siti@example.com") == "s***@example.com"
    assert mask_value("tgl_lahir", "17081985") == "****1985"
    assert mask_value("tgl_lahir", "1985-08-17") == "1985-**-**"
    assert mask_value("nama", "Budi Santoso Wijaya") == "Budi S. W."
    assert mask_value("alamat", "Jl. Melati No. 3, RT 001/RW 002, Kota Bandung") == "***, Kota Bandung"
    assert mask_value("npwp", "012345678901000") == "01**********000"
    assert mask_value("kode_pos", "40111") == "40111"                  # unknown kind: scanned, nothing found
    assert mask_value("catatan", "hubungi 081234567890") == "hubungi 0812*****890"
    assert mask_value("nik", None) == ""
