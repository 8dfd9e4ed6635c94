"""Contributions (iuran), bills, due dates and the service penalty (denda pelayanan).

Amounts follow Perpres 64/2020 as given in DOMAIN.md ("Money"). Every function is pure and
takes the date it reasons about (`today`): nothing here reads the clock, so a scenario on a
fixed date always hears the same bill.

Facts used beyond DOMAIN.md (each a documented assumption, all from the same regulations as
reported in the press):
  * Kelas III member share was Rp25.500 (government Rp16.500) from July to December 2020; it
    became Rp35.000 (government Rp7.000) on 1 January 2021. Months before July 2020 (earlier
    tariffs, annulled and reinstated by court rulings) are not modelled and raise an error.
  * Coverage of a member who has not paid a month by the end of that month is suspended from
    the 1st of the next month (Perpres 82/2018 art. 42): `coverage_suspended`.
  * PPU wage base is capped at Rp12.000.000 per month (Perpres 75/2019 art. 32, kept by 64/2020).
  * PPU with a wage up to Rp4.000.000 are in Kelas II, above that Kelas I (Perpres 82/2018).
  * A new self-paying member pays the first contribution within 30 days of registration (the
    virtual account is issued at registration, the card is active once the first payment is
    made): months owed before that payment are not in arrears until that date. Not in the
    seeds; the window is our plausible choice, kept in one constant (FIRST_PAYMENT_DAYS).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# ---- tariffs -----------------------------------------------------------------------------
PBPU_FULL = {1: 150_000, 2: 100_000, 3: 42_000}          # per person per month, since 1 July 2020
KELAS3_MEMBER_SHARE_2021 = 35_000                         # since 1 January 2021
KELAS3_GOVERNMENT_SHARE_2021 = 7_000
KELAS3_MEMBER_SHARE_2020 = 25_500                         # July-December 2020
KELAS3_GOVERNMENT_SHARE_2020 = 16_500
TARIFF_START = dt.date(2020, 7, 1)
KELAS3_SUBSIDY_CHANGE = dt.date(2021, 1, 1)

PPU_PERCENT_EMPLOYER = 4            # percent of the wage
PPU_PERCENT_EMPLOYEE = 1
PPU_PERCENT_EXTRA_FAMILY = 1
PPU_WAGE_CAP = 12_000_000
PPU_KELAS1_ABOVE = 4_000_000

DUE_DAY = 10                                  # contributions are due by the 10th of each month
FIRST_PAYMENT_DAYS = 30                       # a new member's first payment: within 30 days
NO_LATE_FINE_SINCE = dt.date(2016, 7, 1)      # no fine for late payment since this date
DENDA_PERCENT = 5
DENDA_MAX_MONTHS = 12
DENDA_CAP = 30_000_000
DENDA_WINDOW_DAYS = 45

SEGMENTS = {
    "PBI": "Penerima Bantuan Iuran",
    "PBPU": "Pekerja Bukan Penerima Upah",
    "BP": "Bukan Pekerja",
    "PPU": "Pekerja Penerima Upah",
}
SELF_PAYING = ("PBPU", "BP")

BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")


class BillingError(ValueError):
    """A request the rules cannot answer (unknown class or segment, a month before the
    modelled tariffs, a negative wage)."""


# ---- formatting --------------------------------------------------------------------------
def format_rupiah(amount: int | float) -> str:
    """`35000 -> "Rp35.000"`: Indonesian thousands separator, no decimals (rupiah amounts
    here are whole; fractions from percentages are rounded half up first)."""
    n = round_rupiah(amount)
    sign = "-" if n < 0 else ""
    return f"{sign}Rp{abs(n):,}".replace(",", ".")


def round_rupiah(amount: int | float) -> int:
    """Round half up to a whole rupiah (5% of a wage can have a fraction)."""
    if isinstance(amount, int):
        return amount
    return int(amount + 0.5) if amount >= 0 else -int(-amount + 0.5)


def percent_of(amount: int, percent: int) -> int:
    """`percent`% of a whole-rupiah amount, rounded half up, in exact integer arithmetic
    (0.05 * x in floating point can land a hair below .5 and round the wrong way)."""
    return (int(amount) * percent * 2 + 100) // 200


def format_tanggal(d: dt.date) -> str:
    """`2026-12-10 -> "10 Desember 2026"`, the way a prompt says a date."""
    return f"{d.day} {BULAN[d.month - 1]} {d.year}"


# ---- months ------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Month:
    """A calendar month (contributions are per month)."""

    year: int
    month: int

    @classmethod
    def of(cls, d: dt.date) -> "Month":
        return cls(d.year, d.month)

    @classmethod
    def parse(cls, s: str) -> "Month":
        y, m = s.split("-")
        return cls(int(y), int(m))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def add(self, n: int) -> "Month":
        i = self.year * 12 + (self.month - 1) + n
        return Month(i // 12, i % 12 + 1)

    def minus(self, other: "Month") -> int:
        return (self.year - other.year) * 12 + (self.month - other.month)

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def due_date(self) -> dt.date:
        return dt.date(self.year, self.month, DUE_DAY)

    def label(self) -> str:
        return f"{BULAN[self.month - 1]} {self.year}"


def due_date(month: Month) -> dt.date:
    """Contribution for a month is due by the 10th of that month."""
    return month.due_date()


def first_payment_due(registered: dt.date) -> dt.date:
    """Last day for a new self-paying member's first contribution."""
    return registered + dt.timedelta(days=FIRST_PAYMENT_DAYS)


def next_due_date(today: dt.date) -> dt.date:
    """The next due date on or after `today`."""
    this = Month.of(today)
    return this.due_date() if today.day <= DUE_DAY else this.add(1).due_date()


# ---- contributions -----------------------------------------------------------------------
def _check_kelas(kelas: int) -> int:
    if kelas not in PBPU_FULL:
        raise BillingError(f"kelas perawatan harus 1, 2 atau 3, bukan {kelas!r}")
    return kelas


def iuran_penuh(kelas: int) -> int:
    """Full monthly contribution of a self-paying (PBPU/BP) member in a class."""
    return PBPU_FULL[_check_kelas(kelas)]


def iuran_peserta(kelas: int, month: Month | None = None) -> int:
    """What a self-paying (PBPU/BP) member pays for `month` (default: tariffs since 2021).
    Kelas III is partly paid by the government: the member pays Rp35.000 of Rp42.000."""
    _check_kelas(kelas)
    if month is not None and month.first_day() < TARIFF_START:
        raise BillingError(f"tarif iuran sebelum Juli 2020 tidak dimodelkan ({month})")
    if kelas != 3:
        return PBPU_FULL[kelas]
    if month is not None and month.first_day() < KELAS3_SUBSIDY_CHANGE:
        return KELAS3_MEMBER_SHARE_2020
    return KELAS3_MEMBER_SHARE_2021


def subsidi_pemerintah(kelas: int, month: Month | None = None) -> int:
    """The government's share of a self-paying member's contribution (Kelas III only)."""
    return iuran_penuh(kelas) - iuran_peserta(kelas, month)


@dataclass(frozen=True)
class IuranPpu:
    """A wage earner's monthly contribution, split by who pays."""

    upah_dasar: int          # wage used as base (after the cap)
    pemberi_kerja: int       # employer, 4%
    pekerja: int             # employee, 1% (deducted from wages)
    keluarga_tambahan: int   # 1% per extra family member, paid by the worker

    @property
    def total(self) -> int:
        return self.pemberi_kerja + self.pekerja + self.keluarga_tambahan

    @property
    def ditanggung_pekerja(self) -> int:
        return self.pekerja + self.keluarga_tambahan


def iuran_ppu(upah: int, keluarga_tambahan: int = 0) -> IuranPpu:
    """5% of the monthly wage (4% employer, 1% employee) plus 1% for each extra family member
    beyond the five covered (worker, spouse, three children). Wage capped at Rp12.000.000."""
    if upah < 0:
        raise BillingError("upah tidak boleh negatif")
    if keluarga_tambahan < 0:
        raise BillingError("jumlah anggota keluarga tambahan tidak boleh negatif")
    base = min(int(upah), PPU_WAGE_CAP)
    return IuranPpu(base, percent_of(base, PPU_PERCENT_EMPLOYER), percent_of(base, PPU_PERCENT_EMPLOYEE),
                    keluarga_tambahan * percent_of(base, PPU_PERCENT_EXTRA_FAMILY))


def kelas_ppu(upah: int) -> int:
    """Care class of a wage earner: Kelas II up to Rp4.000.000, Kelas I above."""
    return 1 if upah > PPU_KELAS1_ABOVE else 2


# ---- bills -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tagihan:
    """The state of a self-paying member's account on `today`."""

    today: dt.date
    kelas: int
    unpaid: tuple[Month, ...]       # every unpaid month up to and including the current one
    overdue: tuple[Month, ...]      # unpaid months whose due date (the 10th) has passed
    amount: int                     # what to pay now: all unpaid months, member share
    jatuh_tempo: dt.date            # due date of the first unpaid month, or if that has
                                    # passed, the next 10th on or after today
    coverage_suspended: bool        # an unpaid month has ended: coverage stopped

    @property
    def tunggakan_bulan(self) -> int:
        return len(self.overdue)

    @property
    def overdue_amount(self) -> int:
        return sum(iuran_peserta(self.kelas, m) for m in self.overdue)


def tagihan_mandiri(kelas: int, paid_through: Month | None, today: dt.date,
                    first_month: Month | None = None, first_payment: dt.date | None = None) -> Tagihan:
    """Bill of a self-paying (PBPU/BP) member on `today`.

    `paid_through` is the last month paid (None: nothing paid yet, counting from
    `first_month`, the first month the member owes). The contribution of a month is due by
    the 10th of that month; a month unpaid after its 10th is in arrears (tunggakan). There is
    no late fine (abolished 1 July 2016): the bill is simply the unpaid months times the
    member's share. Coverage is suspended once an unpaid month has ended.

    `first_payment` (a new member who has never paid: `first_payment_due`) is the earliest
    due date of any month: the months owed since registration are due then, not before, and
    coverage, which has not started, cannot be suspended.
    """
    _check_kelas(kelas)
    current = Month.of(today)
    if paid_through is not None:
        start = paid_through.add(1)
    elif first_month is not None:
        start = first_month
    else:
        raise BillingError("paid_through or first_month is required")
    unpaid = []
    m = start
    while m <= current:
        unpaid.append(m)
        m = m.add(1)
    def due(m: Month) -> dt.date:
        return max(m.due_date(), first_payment) if first_payment else m.due_date()

    overdue = tuple(m for m in unpaid if today > due(m))
    amount = sum(iuran_peserta(kelas, m) for m in unpaid)
    suspended = first_payment is None and any(m < current for m in unpaid)
    first_due = due(start)
    jatuh_tempo = first_due if first_due >= today else next_due_date(today)
    return Tagihan(today, kelas, tuple(unpaid), overdue, amount, jatuh_tempo, suspended)


def tagihan_bulan(kelas: int, months: int, month: Month | None = None) -> int:
    """Months in arrears x the member share (at `month`'s tariff, default: since 2021)."""
    if months < 0:
        raise BillingError("jumlah bulan tunggakan tidak boleh negatif")
    return months * iuran_peserta(kelas, month)


# ---- denda pelayanan ---------------------------------------------------------------------
@dataclass(frozen=True)
class Denda:
    """Service penalty for inpatient care soon after reactivation."""

    applies: bool
    amount: int
    months_counted: int       # months in arrears used (capped at 12)
    payer: str                # "peserta" or "pemberi kerja" (PPU)
    reason: str               # why it does or does not apply, in Indonesian


def denda_pelayanan(biaya_inacbg: int, bulan_tunggakan: int, tgl_aktif_kembali: dt.date,
                    tgl_rawat_inap: dt.date, segmen: str = "PBPU", rawat_inap: bool = True) -> Denda:
    """5% x INA-CBG cost of the initial diagnosis x months in arrears (at most 12), at most
    Rp30.000.000, when the member receives inpatient care within 45 days of reactivation.
    For wage earners (PPU) the employer pays. `tgl_rawat_inap` on day 45 after reactivation
    is still within the window; outpatient care never carries a denda."""
    if biaya_inacbg < 0 or bulan_tunggakan < 0:
        raise BillingError("biaya dan bulan tunggakan tidak boleh negatif")
    seg = segmen.upper()
    if seg not in SEGMENTS:
        raise BillingError(f"segmen tidak dikenal: {segmen!r}")
    payer = "pemberi kerja" if seg == "PPU" else "peserta"
    days = (tgl_rawat_inap - tgl_aktif_kembali).days
    months = min(bulan_tunggakan, DENDA_MAX_MONTHS)
    if not rawat_inap:
        return Denda(False, 0, months, payer, "denda hanya untuk rawat inap")
    if days < 0:
        return Denda(False, 0, months, payer, "rawat inap sebelum status aktif kembali")
    if days > DENDA_WINDOW_DAYS:
        return Denda(False, 0, months, payer, f"lebih dari {DENDA_WINDOW_DAYS} hari sejak aktif kembali")
    if months == 0:
        return Denda(False, 0, 0, payer, "tidak ada tunggakan")
    amount = min(percent_of(biaya_inacbg * months, DENDA_PERCENT), DENDA_CAP)
    return Denda(True, amount, months, payer,
                 f"rawat inap {days} hari setelah aktif kembali, tunggakan {months} bulan")
