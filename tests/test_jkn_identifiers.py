"""NIK, card number, virtual account and DDMMYYYY rules (DOMAIN.md, Identifiers)."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.jkn.identifiers import (InvalidCard, InvalidDate, InvalidNik, make_nik, nik_matches_birth_date,
                                 parse_ddmmyyyy, provinces, validate_card, validate_nik, virtual_account)

TODAY = dt.date(2026, 11, 23)


def test_valid_nik_decodes_province_birth_date_and_sex():
    info = validate_nik("3273011708850003", TODAY)
    assert info.province.name == "Jawa Barat"
    assert info.regency_code == "3273" and info.district_code == "327301"
    assert info.birth_date == dt.date(1985, 8, 17)
    assert info.sex == "L" and info.serial == 3


def test_women_have_day_plus_40():
    info = validate_nik("3174054508900002", TODAY)
    assert info.sex == "P" and info.is_female
    assert info.birth_date == dt.date(1990, 8, 5)


def test_century_follows_today():
    assert validate_nik("3471020911000007", TODAY).birth_date == dt.date(2000, 11, 9)
    # 15 Nov 2026 is not after today -> 2026; 24 Nov 26 would be 1926
    assert validate_nik("3471021511260001", TODAY).birth_date == dt.date(2026, 11, 15)
    assert validate_nik("3471022411260001", TODAY).birth_date == dt.date(1926, 11, 24)


@pytest.mark.parametrize("nik, code", [
    ("", "kosong"),
    ("327301170885000", "panjang"),
    ("32730117088500031", "panjang"),
    ("3273O11708850003", "bukan_angka"),
    ("３２７３０１１７０８８５０００３", "bukan_angka"),      # full-width digits are not keypad digits
    ("2073011708850003", "provinsi"),                        # 20 is no province
    ("9973011708850003", "provinsi"),
    ("3200011708850003", "kabupaten"),
    ("3273001708850003", "kecamatan"),
    ("3273011713850003", "bulan_lahir"),
    ("3273013508850003", "tanggal_lahir"),                   # day 35: neither a man's nor a woman's day
    ("3273017208850003", "tanggal_lahir"),                   # 72 - 40 = 32
    ("3273013104850003", "tanggal_lahir"),                   # 31 April
    ("3273012902010003", "tanggal_lahir"),                   # 29 Feb 2001/1901: not leap
    ("3273011708850000", "nomor_urut"),
])
def test_invalid_niks_give_the_specific_reason(nik, code):
    with pytest.raises(InvalidNik) as exc:
        validate_nik(nik, TODAY)
    assert exc.value.code == code
    assert exc.value.reason_id and exc.value.reason_en
    assert isinstance(exc.value, ValueError)          # the engine treats ValueError as "invalid"


def test_leap_day_accepted_when_a_century_has_it():
    assert validate_nik("3273016902000001", TODAY).birth_date == dt.date(2000, 2, 29)   # woman, 29 Feb 2000
    assert validate_nik("3273012902960001", TODAY).birth_date == dt.date(1996, 2, 29)


def test_new_papua_provinces_and_their_parents_are_valid():
    names = {c: p.name for c, p in provinces().items()}
    assert names["91"] == "Papua" and names["92"] == "Papua Barat"
    assert {names[c] for c in ("93", "94", "95", "96")} == {"Papua Selatan", "Papua Tengah", "Papua Pegunungan",
                                                            "Papua Barat Daya"}
    assert len(names) == 38
    assert validate_nik("9601011708850003", TODAY).province.name == "Papua Barat Daya"


def test_make_nik_round_trips():
    nik = make_nik("917101", dt.date(1999, 12, 31), "P", 42)
    assert nik == "9171017112990042"
    info = validate_nik(nik, TODAY)
    assert (info.birth_date, info.sex, info.serial) == (dt.date(1999, 12, 31), "P", 42)
    assert nik_matches_birth_date(info, dt.date(1999, 12, 31))
    assert not nik_matches_birth_date(info, dt.date(1999, 12, 30))


def test_card_number_is_13_digits_without_checksum():
    assert validate_card("0001876543210") == "0001876543210"
    assert validate_card(" 9999999999999 ") == "9999999999999"
    for bad, code in (("000187654321", "panjang"), ("00018765432100", "panjang"), ("000187654321x", "bukan_angka")):
        with pytest.raises(InvalidCard) as exc:
            validate_card(bad)
        assert exc.value.code == code


def test_virtual_account_prefixes_per_bank():
    card = "0001876543210"
    for bank in ("BRI", "BNI", "BTN", "BCA", "bri"):
        assert virtual_account(card, bank) == "88888" + "01876543210"
    assert virtual_account(card, "Mandiri") == "89888" + "01876543210"
    assert len(virtual_account(card)) == 16
    with pytest.raises(ValueError):
        virtual_account(card, "Bank Antah")
    with pytest.raises(InvalidCard):
        virtual_account("12345")


def test_ddmmyyyy_dates():
    assert parse_ddmmyyyy("17081985") == dt.date(1985, 8, 17)
    assert parse_ddmmyyyy("29022000") == dt.date(2000, 2, 29)
    for bad, code in (("1708198", "panjang"), ("17-08-1985", "bukan_angka"), ("17131985", "bulan"),
                      ("29022001", "tanggal"), ("00011990", "tanggal"), ("01011899", "tahun"), ("", "kosong")):
        with pytest.raises(InvalidDate) as exc:
            parse_ddmmyyyy(bad)
        assert exc.value.code == code, bad
    with pytest.raises(InvalidDate) as exc:
        parse_ddmmyyyy("24112026", today=TODAY)
    assert exc.value.code == "masa_depan"
    assert parse_ddmmyyyy("23112026", today=TODAY) == TODAY


def test_engine_validators_use_these_rules():
    from ivr.engine.validators import validate

    assert validate("nik", "3273011708850003")[0]
    assert not validate("nik", "3273011713850003")[0]
    assert validate("card", "0001876543210")[0]
    assert not validate("date", "31042000")[0]
