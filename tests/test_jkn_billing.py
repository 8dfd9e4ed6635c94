"""Contribution amounts, bills, due dates and denda pelayanan (DOMAIN.md, Money)."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.jkn.billing import (BillingError, Month, denda_pelayanan, format_rupiah, format_tanggal, iuran_penuh,
                             iuran_peserta, iuran_ppu, kelas_ppu, next_due_date, percent_of, subsidi_pemerintah,
                             tagihan_bulan, tagihan_mandiri)


def test_format_rupiah():
    assert format_rupiah(35000) == "Rp35.000"
    assert format_rupiah(0) == "Rp0"
    assert format_rupiah(999) == "Rp999"
    assert format_rupiah(30_000_000) == "Rp30.000.000"
    assert format_rupiah(1234567.5) == "Rp1.234.568"
    assert format_tanggal(dt.date(2026, 12, 10)) == "10 Desember 2026"


def test_pbpu_tariffs_since_2021():
    assert [iuran_penuh(k) for k in (1, 2, 3)] == [150_000, 100_000, 42_000]
    assert [iuran_peserta(k) for k in (1, 2, 3)] == [150_000, 100_000, 35_000]
    assert subsidi_pemerintah(3) == 7_000 and subsidi_pemerintah(1) == 0
    jan21 = Month(2021, 1)
    assert iuran_peserta(3, jan21) == 35_000 and subsidi_pemerintah(3, jan21) == 7_000


def test_kelas3_share_in_second_half_of_2020_and_no_older_tariffs():
    assert iuran_peserta(3, Month(2020, 12)) == 25_500
    assert subsidi_pemerintah(3, Month(2020, 7)) == 16_500
    assert iuran_peserta(1, Month(2020, 7)) == 150_000
    with pytest.raises(BillingError):
        iuran_peserta(3, Month(2020, 6))
    with pytest.raises(BillingError):
        iuran_peserta(4)


def test_ppu_five_percent_split_and_extra_family():
    i = iuran_ppu(6_000_000)
    assert (i.pemberi_kerja, i.pekerja, i.keluarga_tambahan, i.total) == (240_000, 60_000, 0, 300_000)
    j = iuran_ppu(6_000_000, keluarga_tambahan=2)
    assert j.keluarga_tambahan == 120_000 and j.ditanggung_pekerja == 180_000 and j.total == 420_000
    capped = iuran_ppu(20_000_000)
    assert capped.upah_dasar == 12_000_000 and capped.total == 600_000
    odd = iuran_ppu(4_321_050)                   # 4% = 172842, 1% = 43210.5 -> rounded half up
    assert (odd.pemberi_kerja, odd.pekerja) == (172_842, 43_211)
    assert kelas_ppu(4_000_000) == 2 and kelas_ppu(4_000_001) == 1
    with pytest.raises(BillingError):
        iuran_ppu(-1)


def test_percent_is_exact():
    assert percent_of(10_000_001, 5) == 500_000       # 500000.05 -> 500000
    assert percent_of(10, 5) == 1                     # 0.5 rounds up
    assert percent_of(9, 5) == 0


def test_due_dates():
    assert next_due_date(dt.date(2026, 11, 10)) == dt.date(2026, 11, 10)
    assert next_due_date(dt.date(2026, 11, 11)) == dt.date(2026, 12, 10)
    assert next_due_date(dt.date(2026, 12, 23)) == dt.date(2027, 1, 10)


def test_bill_three_months_in_arrears():
    t = tagihan_mandiri(3, Month(2026, 8), dt.date(2026, 11, 23))
    assert [str(m) for m in t.overdue] == ["2026-09", "2026-10", "2026-11"]
    assert t.tunggakan_bulan == 3 and t.amount == 105_000 == tagihan_bulan(3, 3)
    assert t.jatuh_tempo == dt.date(2026, 12, 10)
    assert t.coverage_suspended


def test_month_is_not_late_until_after_the_10th():
    on_due = tagihan_mandiri(2, Month(2026, 10), dt.date(2026, 11, 10))
    assert on_due.tunggakan_bulan == 0 and on_due.amount == 100_000
    assert on_due.jatuh_tempo == dt.date(2026, 11, 10) and not on_due.coverage_suspended
    late = tagihan_mandiri(2, Month(2026, 10), dt.date(2026, 11, 11))
    assert late.tunggakan_bulan == 1 and late.amount == 100_000      # no late fine since July 2016
    assert not late.coverage_suspended                               # covered until the month ends
    assert tagihan_mandiri(2, Month(2026, 10), dt.date(2026, 12, 1)).coverage_suspended


def test_paid_up_and_paid_ahead():
    up = tagihan_mandiri(1, Month(2026, 11), dt.date(2026, 11, 5))
    assert up.amount == 0 and up.unpaid == () and up.jatuh_tempo == dt.date(2026, 12, 10)
    ahead = tagihan_mandiri(1, Month(2027, 1), dt.date(2026, 11, 23))
    assert ahead.amount == 0 and ahead.jatuh_tempo == dt.date(2027, 2, 10)


def test_arrears_across_the_2021_subsidy_change_use_each_months_tariff():
    t = tagihan_mandiri(3, Month(2020, 10), dt.date(2021, 2, 20))   # Nov, Dec 2020; Jan, Feb 2021
    assert t.amount == 2 * 25_500 + 2 * 35_000


def test_denda_pelayanan():
    react = dt.date(2026, 1, 1)
    d = denda_pelayanan(10_000_000, 3, react, react + dt.timedelta(days=10))
    assert d.applies and d.amount == 1_500_000 and d.payer == "peserta" and d.months_counted == 3
    capped_months = denda_pelayanan(10_000_000, 20, react, react + dt.timedelta(days=45))
    assert capped_months.months_counted == 12 and capped_months.amount == 6_000_000
    capped_total = denda_pelayanan(100_000_000, 12, react, react)
    assert capped_total.amount == 30_000_000
    assert denda_pelayanan(10_000_000, 3, react, react, segmen="PPU").payer == "pemberi kerja"
    late = denda_pelayanan(10_000_000, 3, react, react + dt.timedelta(days=46))
    assert not late.applies and late.amount == 0
    assert not denda_pelayanan(10_000_000, 3, react, react, rawat_inap=False).applies
    assert not denda_pelayanan(10_000_000, 0, react, react).applies
    with pytest.raises(BillingError):
        denda_pelayanan(10_000_000, 3, react, react, segmen="XYZ")
