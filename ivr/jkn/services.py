"""The JKN services the call tree invokes, and the rules agents apply.

The call engine is sans-I/O: a `service` node emits `Invoke(service, args)`, the driver calls
`JknServices.invoke(name, args, today)` and feeds the `ServiceResult` back. The result's
`outcome` picks the branch; its `vars` are Indonesian strings ready to be spoken
(`"Rp105.000"`, `"10 Desember 2026"`, `"Kelas 3"`). Masking personal data is the log's job,
not this module's: the caller must hear the virtual account to pay.

Services (the names are the API the tree uses; arguments, outcomes, variables and request
types are declared in ivr.jkn.specs, which lint and the queue configuration read too):
  * `cek_peserta` (nik, tgl_lahir DDMMYYYY) -> aktif | menunggak | nonaktif | tidak_ditemukan
    | tgl_lahir_salah; vars nama (first name), status, kelas, segmen, iuran, tunggakan_bulan,
    tagihan, jatuh_tempo, va, fktp, pembayaran (+ alasan, jumlah_anggota, tagihan_peserta).
  * `cek_tagihan`: same arguments, outcomes and vars (the tree speaks the bill part).
  * `iuran_kelas`: no arguments -> ok; vars kelas_1, kelas_2, kelas_3, kelas_3_penuh,
    kelas_3_subsidi, ppu.
  * `permintaan` (jenis, ...): an agent completes a request -> selesai | ditolak |
    tidak_ditemukan, each request type only those `ivr.jkn.specs.REQUESTS` declares for it
    (a malformed identifier argument is a ServiceError, the tree's bug, never `ditolak`);
    vars tiket, pesan, alasan (+ kartu, nama, va, kelas, iuran, tagihan, pembayaran for
    registrations: the new member as self-service describes them). Every
    `selesai`/`ditolak` request is stored with a ticket (see ivr.jkn.requests).

Status rules: a member whose administrative status is nonaktif (GILANG re-registration, PBI
deactivated, job ended, or a new self-paying registrant before the first payment) gets
`nonaktif`; a self-paying member with a month unpaid after its
10th gets `menunggak` (status "tidak aktif" once an unpaid month has ended, when coverage is
suspended; "aktif" before that); everyone else `aktif`. PBPU contributions are billed per
family (everyone on the KK pays through one virtual account, built from the card of the head
of the family): `tagihan` is the family's bill, `tagihan_peserta` the caller's own share.
All of it comes from one place, `state_of` (`JknServices.state`): `pembayaran` is the one
sentence on what to do next (first payment, re-activation, arrears, or who pays).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ivr.jkn import billing
from ivr.jkn.billing import Month, Tagihan, format_rupiah, format_tanggal, iuran_peserta, iuran_ppu
from ivr.jkn.db import OwnsConnection, connect
from ivr.jkn.dukcapil import nama_dukcapil
from ivr.jkn.identifiers import (InvalidIdentifier, nik_matches_birth_date, parse_ddmmyyyy, validate_card,
                                 validate_kelas, validate_nik, validate_npwp, validate_phone, virtual_account)
from ivr.jkn.participants import Participant, ParticipantStore, ensure_db, memory_db
from ivr.jkn.requests import RequestStore
from ivr.jkn.specs import REQUESTS, SERVICES

MEMORY = ":memory:"
CLASS_CHANGE_MIN_YEARS = 1
FKTP_CHANGE_MIN_MONTHS = 3


@dataclass(frozen=True)
class ServiceResult:
    """What a service returns to the engine: the branch to take and variables to speak."""

    outcome: str
    vars: dict[str, str] = field(default_factory=dict)


class ServiceError(ValueError):
    """The tree called a service wrongly (unknown name, missing or malformed argument)."""


# ---- date helpers ------------------------------------------------------------------------
def add_months(d: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    m = Month.of(d).add(months)
    last = (m.add(1).first_day() - dt.timedelta(days=1)).day
    return dt.date(m.year, m.month, min(d.day, last))


def kelas_text(kelas: int) -> str:
    return f"Kelas {kelas}"


# ---- a participant's state on a date: the one source ------------------------------------
#: Who pays a segment's contributions (DOMAIN.md, "Money").
PAYER = {"PBI": "pemerintah", "PPU": "pemberi kerja", "PBPU": "peserta", "BP": "peserta"}
PANDAWA = "WhatsApp Pandawa 0811-8-165-165"
#: How a deactivated member becomes active again, by segment (the reasons of
#: ivr.jkn.participants.NONAKTIF_REASONS; GILANG re-registration per seed 002).
REACTIVATION = {
    "PBPU": "Perbarui data KTP dan KK melalui WhatsApp Pandawa atau kantor BPJS Kesehatan; aktif kembali dalam 1x24 jam.",
    "BP": "Perbarui data KTP dan KK melalui WhatsApp Pandawa atau kantor BPJS Kesehatan; aktif kembali dalam 1x24 jam.",
    "PBI": "Untuk diaktifkan kembali, hubungi Dinas Sosial setempat.",
    "PPU": "Untuk tetap terjamin, daftar sebagai peserta mandiri melalui agen atau WhatsApp Pandawa.",
}


@dataclass(frozen=True)
class ParticipantState:
    """Everything the call says about a participant on a date, computed once (`state_of`):
    the status spoken and the status agent rules check are the same field, the virtual
    account is the family bill payer's wherever it is spoken, who pays follows the segment.

    `aktif` is coverage: a self-paying member with an unpaid month stays covered until that
    month ends (Perpres 82/2018 art. 42), so "aktif" with arrears is possible and is what an
    agent rule that needs an active participant accepts."""

    participant: Participant
    today: dt.date
    outcome: str                 # aktif / menunggak / nonaktif (the service outcome)
    aktif: bool                  # covered today: "status aktif"
    tagihan: Tagihan | None      # self-paying members only: their own bill
    va: str                      # the family bill payer's virtual account ("" when nobody in it pays)
    family_amount: int           # the family's bill (everyone on the KK pays through one VA)
    members: int                 # self-paying family members the bill covers
    first_payment: bool          # a new self-paying member who has never paid

    @property
    def status_text(self) -> str:
        return "aktif" if self.aktif else "tidak aktif"

    @property
    def payer(self) -> str:
        return PAYER[self.participant.segmen]

    @property
    def tunggakan_bulan(self) -> int:
        return self.tagihan.tunggakan_bulan if self.tagihan else 0

    @property
    def amount(self) -> int:
        return self.tagihan.amount if self.tagihan else 0

    @property
    def jatuh_tempo(self) -> dt.date:
        return self.tagihan.jatuh_tempo if self.tagihan else billing.next_due_date(self.today)

    def pembayaran(self) -> str:
        """What the caller must do next, in one or two sentences: how to become active again
        (with the reason), the first payment, the arrears, or who pays."""
        p = self.participant
        amount, va, due = format_rupiah(self.amount), self.va, format_tanggal(self.jatuh_tempo)
        if self.first_payment:
            return f"Aktif setelah iuran pertama {amount} dibayar paling lambat {due} ke virtual account {va}."
        if self.outcome == "nonaktif":
            # the reason is {alasan} and the fix {pemulihan}, said by the status prompt before this
            if p.self_paying and self.family_amount:
                return f"Tagihan {format_rupiah(self.family_amount)} dibayar melalui virtual account {va}."
            return f"Iuran Anda dibayar oleh {self.payer}." if not p.self_paying else "Tidak ada tagihan saat ini."
        if p.segmen == "PBI":
            return "Iuran Anda ditanggung pemerintah, tidak ada tagihan."
        if p.segmen == "PPU":
            return "Iuran Anda dibayar melalui pemberi kerja."
        if self.tunggakan_bulan > 0:
            return (f"Tagihan {format_rupiah(self.family_amount)} sudah lewat jatuh tempo; mohon segera dibayar "
                    f"melalui virtual account {va}.")
        if not self.family_amount:
            return f"Belum ada tagihan; iuran berikutnya dibayar paling lambat {due} ke virtual account {va}."
        return f"Tagihan {format_rupiah(self.family_amount)} dibayar paling lambat {due} melalui virtual account {va}."


    def pemulihan(self) -> str:
        """How coverage returns. Deactivated: the fix for the segment (GILANG data update,
        Dinas Sosial, ...). In arrears: when coverage returns and the service penalty
        (DOMAIN.md: active again once the arrears are paid; a hospital stay within 45 days
        after that carries the denda pelayanan). Empty for everyone else."""
        if self.outcome == "nonaktif" and not self.first_payment:
            return REACTIVATION[self.participant.segmen]
        if self.outcome != "menunggak":
            return ""
        if self.aktif:
            return ("Kepesertaan tetap aktif sampai akhir bulan ini; bayar tunggakan agar tidak diberhentikan "
                    "sementara.")
        return ("Kepesertaan aktif kembali setelah tunggakan dibayar lunas. Rawat inap dalam 45 hari sesudahnya "
                "dikenakan denda pelayanan.")


def first_payment_pending(p: Participant) -> bool:
    """A self-paying member registered and never paid: the first contribution is owed."""
    return p.self_paying and p.iuran_lunas_sampai is None


def tagihan_of(p: Participant, today: dt.date) -> Tagihan | None:
    """The member's own bill (None for PBI and PPU: the government or employer pays)."""
    if not p.self_paying:
        return None
    start = p.iuran_mulai or Month.of(p.tgl_daftar)
    paid = p.iuran_lunas_sampai
    if paid is None or paid < start.add(-1):
        paid = start.add(-1)
    first = billing.first_payment_due(p.tgl_daftar) if first_payment_pending(p) else None
    return billing.tagihan_mandiri(p.kelas, paid, today, first_payment=first)


def state_of(p: Participant, today: dt.date, head: Participant | None = None,
             family: Sequence[Participant] = (), bank: str = "BRI") -> ParticipantState:
    """The participant's state on `today`. `head` and `family` (the KK, from the store: see
    `JknServices.state`) decide the virtual account and the family bill; without them the
    participant is taken as a family of one."""
    t = tagihan_of(p, today)
    payer = head or p
    va = virtual_account(payer.no_kartu, bank) if p.self_paying else ""
    paying = [m for m in family if m.self_paying] or ([p] if p.self_paying else [])
    family_amount = sum(tagihan_of(m, today).amount for m in paying)
    common = dict(participant=p, today=today, tagihan=t, va=va, family_amount=family_amount,
                  members=max(1, len(paying)), first_payment=first_payment_pending(p))
    if p.status == "nonaktif":
        return ParticipantState(outcome="nonaktif", aktif=False, **common)
    if t is not None and t.tunggakan_bulan > 0:
        return ParticipantState(outcome="menunggak", aktif=not t.coverage_suspended, **common)
    return ParticipantState(outcome="aktif", aktif=True, **common)


# ---- agent-side rules (DOMAIN.md) --------------------------------------------------------
def can_change_class(p: Participant, today: dt.date, st: ParticipantState | None = None) -> tuple[bool, str]:
    """Class change: only active participants registered at least 1 year (DOMAIN.md). Active
    is `ParticipantState.aktif`, the status the caller hears ("status kepesertaan aktif"), so
    the rule applied is the status said. PBI members are always Kelas III and a wage
    earner's class follows the wage, so only self-paying members may choose."""
    st = st or state_of(p, today)
    if not st.aktif:
        why = (f"masih ada tunggakan iuran {st.tunggakan_bulan} bulan" if st.outcome == "menunggak"
               else "menunggu pembayaran iuran pertama" if st.first_payment
               else p.alasan_nonaktif or "kepesertaan tidak aktif")
        return False, f"Perubahan kelas hanya untuk peserta dengan status aktif; status Anda tidak aktif, {why}."
    since = add_months(p.tgl_daftar, 12 * CLASS_CHANGE_MIN_YEARS)
    if today < since:
        return False, (f"Perubahan kelas hanya untuk peserta yang terdaftar minimal 1 tahun. Anda terdaftar "
                       f"sejak {format_tanggal(p.tgl_daftar)}, perubahan kelas dapat diajukan mulai "
                       f"{format_tanggal(since)}.")
    if not p.self_paying:
        what = ("Peserta PBI dijamin di Kelas 3." if p.segmen == "PBI"
                else "Kelas peserta pekerja penerima upah mengikuti besaran upah.")
        return False, f"Perubahan kelas hanya untuk peserta mandiri. {what}"
    return True, "Perubahan kelas dapat diproses."


def can_change_fktp(p: Participant, today: dt.date) -> tuple[bool, str]:
    """FKTP change: allowed after at least 3 months at the current FKTP."""
    since = add_months(p.fktp_sejak, FKTP_CHANGE_MIN_MONTHS)
    if today < since:
        return False, (f"Penggantian FKTP dapat dilakukan setelah minimal 3 bulan terdaftar di FKTP yang sama. "
                       f"Anda terdaftar di {p.fktp} sejak {format_tanggal(p.fktp_sejak)}, penggantian dapat "
                       f"diajukan mulai {format_tanggal(since)}.")
    return True, "Penggantian FKTP dapat diproses."


def register_participant(store: ParticipantStore, nik: str, tgl_lahir: dt.date, kelas: int, today: dt.date,
                         nama: str | None = None, fktp: str = "FKTP belum dipilih",
                         head: Participant | None = None) -> Participant:
    """A new self-paying participant (or a family member added to `head`'s KK) with a
    never-issued card number, named as the population registry has the NIK (`nama`
    overrides). Its contributions are paid through its family's one virtual account (the
    head's card). Status stays nonaktif until the first contribution is paid. Caller owns the
    transaction."""
    info = validate_nik(nik, today)
    nama = nama or nama_dukcapil(info.nik, info.sex)
    card = store.next_card_number()
    if head is not None:
        segmen, kk, alamat, kode_pos, fk = head.segmen, head.no_kk, head.alamat, head.kode_pos, head.fktp
        kelas = head.kelas
    else:
        segmen, kk, alamat, kode_pos, fk = ("PBPU", f"{nik[:6]}{today:%d%m%y}{nik[-4:]}",
                                            "(alamat sesuai KTP)", "00000", fktp)
    paying = segmen in ("PBPU", "BP")
    p = Participant(
        nik=info.nik, no_kartu=card, no_kk=kk, nama=nama, jenis_kelamin=info.sex, tgl_lahir=tgl_lahir,
        hubungan="anggota keluarga" if head is not None else "kepala keluarga", segmen=segmen, kelas=kelas,
        status="nonaktif" if paying else "aktif",
        alasan_nonaktif="menunggu pembayaran iuran pertama" if paying else None,
        tgl_daftar=today, fktp=fk, fktp_sejak=today, hp=None, email=None, alamat=alamat, kode_pos=kode_pos,
        iuran_lunas_sampai=None, iuran_mulai=Month.of(today) if paying else None)
    store.insert(p)
    return p


# ---- the services ------------------------------------------------------------------------
KATEGORI_ADUAN = {"1": "pelayanan di fasilitas kesehatan", "2": "administrasi kepesertaan",
                  "3": "iuran dan tagihan", "4": "lainnya"}

#: request type -> arguments it needs (declared in ivr.jkn.specs, with the queue answering it)
REQUEST_ARGS: dict[str, tuple[str, ...]] = {jenis: r.args for jenis, r in REQUESTS.items()}


def _require(service: str, args: Mapping[str, str], names: tuple[str, ...]) -> None:
    missing = [n for n in names if not str(args.get(n, "") or "").strip()]
    if missing:
        raise ServiceError(f"service {service!r}: missing argument(s) {', '.join(missing)}")


def _phone_problem(hp: str) -> InvalidIdentifier | None:
    """Why a phone number is refused (ivr.rules.identifiers.validate_phone), or None."""
    try:
        validate_phone(hp)
        return None
    except InvalidIdentifier as exc:
        return exc


def _well_formed(jenis: str, name: str, value: str, rule: Callable[[str], object]):
    """`rule(value)`, or ServiceError: an argument that fails its identifier rule is passed by
    a tree whose collect did not validate it (a bug, the outcome `error`), not refused."""
    try:
        return rule(value)
    except InvalidIdentifier as exc:
        raise ServiceError(f"permintaan/{jenis}: {name}: {exc.reason_en}") from None


def _kelas_arg(jenis: str, value: str) -> int:
    """The class a request asks for; a tree that passes anything else is wrong (ServiceError)."""
    try:
        return validate_kelas(value)
    except InvalidIdentifier as exc:
        raise ServiceError(f"permintaan/{jenis}: {exc.reason_en}") from None


class JknServices(OwnsConnection):
    """Participant look-ups, bills and agent requests over one SQLite file.

    `db_path` defaults to `$IVR_HOME/participants.sqlite` (created with the synthetic data on
    first use); `":memory:"` gives a private in-memory copy of the default synthetic data,
    which sees no earlier changes and leaves none (scenario runs that register people). `clock` gives the time of day stamped on stored requests (the date always
    comes from `today`, so a scenario's virtual date is on its tickets); it defaults to the
    machine's clock, which only the edge (this object) reads.
    """

    def __init__(self, db_path: str | Path | None = None, clock: Callable[[], dt.datetime] | None = None,
                 bank: str = "BRI"):
        if str(db_path) == MEMORY:
            self.path = Path(MEMORY)
            self.conn = memory_db()
        else:
            self.path = ensure_db(db_path)
            self.conn = connect(self.path)
        self.participants = ParticipantStore(self.path, conn=self.conn)
        self.requests = RequestStore(self.path, conn=self.conn)
        self.clock = clock or dt.datetime.now
        self.bank = bank
        handlers: dict[str, Callable[[Mapping[str, str], dt.date], ServiceResult]] = {
            "cek_peserta": self._cek_peserta,
            "cek_tagihan": self._cek_peserta,
            "cek_peserta_kartu": self._cek_peserta,
            "iuran_kelas": self._iuran_kelas,
            "permintaan": self._permintaan,
        }
        assert set(handlers) == set(SERVICES), "every declared service has one handler (ivr.jkn.specs)"
        self._services = {name: (SERVICES[name].args, fn) for name, fn in handlers.items()}

    @property
    def names(self) -> list[str]:
        return sorted(self._services)

    def invoke(self, name: str, args: Mapping[str, str], today: dt.date) -> ServiceResult:
        """Run service `name`. Raises ServiceError for an unknown service or bad arguments."""
        entry = self._services.get(name)
        if entry is None:
            raise ServiceError(f"unknown service {name!r}; known: {', '.join(self.names)}")
        required, fn = entry
        _require(name, args, required)
        return fn(args, today)

    # -- self-service -------------------------------------------------------------------
    def _verified(self, args: Mapping[str, str], today: dt.date) -> tuple[Participant | None, str | None]:
        """The participant named by `nik` or by `kartu` (the card number), checked against
        the date of birth."""
        if "kartu" in args and "nik" not in args:
            card = str(args["kartu"]).strip()
            try:
                validate_card(card)
            except InvalidIdentifier as exc:
                raise ServiceError(f"kartu: {exc}") from None
            p = self.participants.by_card(card)
        else:
            nik = str(args["nik"]).strip()
            try:
                validate_nik(nik, today)
            except InvalidIdentifier as exc:
                raise ServiceError(f"nik: {exc}") from None
            p = self.participants.by_nik(nik)
        if p is None or p.tgl_daftar > today:   # not a participant yet on that date
            return None, "tidak_ditemukan"
        try:
            dob = parse_ddmmyyyy(str(args["tgl_lahir"]), today)
        except InvalidIdentifier:
            return p, "tgl_lahir_salah"
        if dob != p.tgl_lahir:
            return p, "tgl_lahir_salah"
        return p, None

    def iuran_text(self, p: Participant) -> str:
        if p.segmen == "PBI":
            return "ditanggung pemerintah"
        if p.segmen == "PPU":
            head = self.participants.head_of(p)
            upah = head.upah if head.upah is not None else p.upah
            if upah is None:
                return "dibayar pemberi kerja"
            i = iuran_ppu(upah)
            return (f"{format_rupiah(i.total)}, dibayar pemberi kerja {format_rupiah(i.pemberi_kerja)} "
                    f"dan pekerja {format_rupiah(i.pekerja)}")
        return format_rupiah(iuran_peserta(p.kelas))

    def state(self, p: Participant, today: dt.date) -> ParticipantState:
        """The participant's state with the family read from the store: every service and
        prompt reads the participant through this."""
        return state_of(p, today, head=self.participants.head_of(p), family=self.participants.family(p.no_kk),
                        bank=self.bank)

    def describe(self, p: Participant, today: dt.date) -> tuple[str, dict[str, str]]:
        """Outcome and speakable variables for a verified participant."""
        st = self.state(p, today)
        v = {
            "nama": p.nama_depan,
            "status": st.status_text,
            "kelas": kelas_text(p.kelas),
            "segmen": billing.SEGMENTS[p.segmen],
            "iuran": self.iuran_text(p),
            "tunggakan_bulan": str(st.tunggakan_bulan),
            "tagihan": format_rupiah(st.family_amount),
            "tagihan_peserta": format_rupiah(st.amount),
            "jumlah_anggota": str(st.members),
            "jatuh_tempo": format_tanggal(st.jatuh_tempo),
            "va": st.va,
            "fktp": p.fktp,
            "alasan": p.alasan_nonaktif or "",
            "pembayaran": st.pembayaran(),
            "pemulihan": st.pemulihan(),
            "pembayar": st.payer,
        }
        return st.outcome, v

    def _cek_peserta(self, args: Mapping[str, str], today: dt.date) -> ServiceResult:
        p, problem = self._verified(args, today)
        if problem:
            return ServiceResult(problem, {})
        assert p is not None
        outcome, v = self.describe(p, today)
        return ServiceResult(outcome, v)

    def _iuran_kelas(self, args: Mapping[str, str], today: dt.date) -> ServiceResult:
        month = Month.of(today)
        return ServiceResult("ok", {
            "kelas_1": format_rupiah(iuran_peserta(1, month)),
            "kelas_2": format_rupiah(iuran_peserta(2, month)),
            "kelas_3": format_rupiah(iuran_peserta(3, month)),
            "kelas_3_penuh": format_rupiah(billing.iuran_penuh(3)),
            "kelas_3_subsidi": format_rupiah(billing.subsidi_pemerintah(3, month)),
            "ppu": "5 persen dari gaji, 4 persen dibayar pemberi kerja dan 1 persen oleh pekerja",
        })

    # -- agent requests -----------------------------------------------------------------
    def _store(self, jenis: str, status: str, args: Mapping[str, str], today: dt.date, pesan: str,
               alasan: str | None = None, nik: str | None = None, within=None,
               extra: dict[str, str] | None = None) -> ServiceResult:
        fields = {k: str(v) for k, v in args.items() if k != "jenis" and str(v or "").strip()}
        created = dt.datetime.combine(today, self.clock().time().replace(microsecond=0))
        ticket = self.requests.add(jenis, status, fields, created, alasan=alasan, nik=nik, within=within)
        v = {"tiket": ticket, "pesan": pesan, "alasan": alasan or ""}
        v.update(extra or {})
        return ServiceResult("ditolak" if status == "ditolak" else "selesai", v)

    def _reject(self, jenis, args, today, alasan, nik=None) -> ServiceResult:
        return self._store(jenis, "ditolak", args, today, "Permintaan tidak dapat diproses.", alasan=alasan, nik=nik)

    def _permintaan(self, args: Mapping[str, str], today: dt.date) -> ServiceResult:
        jenis = str(args["jenis"]).strip()
        needed = REQUEST_ARGS.get(jenis)
        if needed is None:
            raise ServiceError(f"permintaan: unknown request type {jenis!r}; known: {', '.join(sorted(REQUEST_ARGS))}")
        _require(f"permintaan/{jenis}", args, needed)
        a = {k: str(v or "").strip() for k, v in args.items()}
        nik = a.get("nik", "")

        if jenis == "callback":
            bad = _phone_problem(a["hp"])
            if bad:
                raise ServiceError(f"permintaan/callback: {bad.reason_en}")
            return self._store(jenis, "callback", a, today,
                               "Permintaan telepon balik telah kami catat. Agen kami akan menghubungi Anda kembali.",
                               nik=nik or None)
        if jenis == "informasi" and not nik:
            return self._store(jenis, "selesai", a, today, "Pertanyaan Anda telah kami jawab dan catat.")

        # a malformed identifier is the tree's bug (its collect validates it), not a refusal:
        # `ditolak` is for the agent's rules (ivr.jkn.specs.RequestSpec.outcomes)
        _well_formed(jenis, "nik", nik, lambda v: validate_nik(v, today))

        if jenis == "pendaftaran":
            return self._pendaftaran(a, today)
        p = self.participants.by_nik(nik)
        if p is None:
            if jenis == "informasi":
                return self._store(jenis, "selesai", a, today, "Pertanyaan Anda telah kami jawab dan catat.")
            return ServiceResult("tidak_ditemukan", {})
        return getattr(self, f"_req_{jenis}")(p, a, today)

    def _new_member_checks(self, jenis, a, today, nik_field: str) -> tuple[dt.date | None, ServiceResult | None]:
        nik = a[nik_field]
        info = _well_formed(jenis, nik_field, nik, lambda v: validate_nik(v, today))
        dob = _well_formed(jenis, "tgl_lahir", a["tgl_lahir"], lambda v: parse_ddmmyyyy(v, today))
        if not nik_matches_birth_date(info, dob):
            return None, self._reject(jenis, a, today, "Tanggal lahir tidak sesuai dengan NIK.", nik=nik)
        if self.participants.by_nik(nik) is not None:
            return None, self._reject(jenis, a, today, "NIK tersebut sudah terdaftar sebagai peserta JKN.", nik=nik)
        return dob, None

    def _registered(self, jenis, a, today, nik, dob, kelas, pesan, head=None) -> ServiceResult:
        made: dict[str, Participant] = {}

        def within(conn):
            # the card number is decided inside the transaction, and stored with the request
            made["p"] = register_participant(self.participants, nik, dob, kelas, today, head=head,
                                             nama=a.get("nama") or None)
            return {"kartu": made["p"].no_kartu}

        result = self._store(jenis, "selesai", a, today, pesan, nik=nik, within=within)
        p = made["p"]
        _, described = self.describe(p, today)      # the new member as self-service will describe them
        v = dict(result.vars)
        v.update({k: described[k] for k in ("nama", "va", "kelas", "iuran", "pembayaran", "tagihan")})
        v["kartu"] = p.no_kartu
        return ServiceResult(result.outcome, v)

    def _pendaftaran(self, a, today) -> ServiceResult:
        kelas = _kelas_arg("pendaftaran", a["kelas"])
        dob, rejected = self._new_member_checks("pendaftaran", a, today, "nik")
        if rejected:
            return rejected
        return self._registered("pendaftaran", a, today, a["nik"], dob, kelas, "Pendaftaran peserta baru berhasil.")

    def _req_penambahan_peserta(self, head: Participant, a, today) -> ServiceResult:
        jenis = "penambahan_peserta"
        if head.segmen == "PBI":
            return self._reject(jenis, a, today, "Penambahan anggota keluarga peserta PBI diajukan melalui Dinas "
                                "Sosial setempat.", nik=head.nik)
        if head.status == "nonaktif":
            return self._reject(jenis, a, today, "Status kepesertaan kepala keluarga tidak aktif.", nik=head.nik)
        dob, rejected = self._new_member_checks(jenis, a, today, "nik_anggota")
        if rejected:
            return rejected
        return self._registered(jenis, a, today, a["nik_anggota"], dob, head.kelas,
                                "Penambahan anggota keluarga berhasil.", head=self.participants.head_of(head))

    def _req_perubahan_data(self, p, a, today) -> ServiceResult:
        what = a["perubahan"]
        pesan = ("Permintaan perubahan data identitas telah kami catat. Silakan kirim foto KTP dan kartu keluarga "
                 "melalui WhatsApp Pandawa 0811-8-165-165." if what == "identitas" else
                 "Permintaan mutasi data kepesertaan telah kami catat.")
        return self._store("perubahan_data", "selesai", a, today, pesan, nik=p.nik)

    def _req_ganti_kelas(self, p, a, today) -> ServiceResult:
        kelas = _kelas_arg("ganti_kelas", a["kelas"])
        ok, why = can_change_class(p, today, self.state(p, today))
        if not ok:
            return self._reject("ganti_kelas", a, today, why, nik=p.nik)
        if kelas == p.kelas:
            return self._reject("ganti_kelas", a, today, f"Anda sudah terdaftar di {kelas_text(kelas)}.", nik=p.nik)
        family = [m for m in self.participants.family(p.no_kk) if m.self_paying]

        def within(conn):
            for m in family or [p]:          # a PBPU family is in one class
                self.participants.update(m.nik, kelas=kelas)
        pesan = (f"Kelas perawatan berubah dari {kelas_text(p.kelas)} menjadi {kelas_text(kelas)}. "
                 f"Iuran per orang per bulan menjadi {format_rupiah(iuran_peserta(kelas))}.")
        return self._store("ganti_kelas", "selesai", a, today, pesan, nik=p.nik, within=within)

    def _req_ganti_fktp(self, p, a, today) -> ServiceResult:
        ok, why = can_change_fktp(p, today)
        if not ok:
            return self._reject("ganti_fktp", a, today, why, nik=p.nik)
        baru = a.get("fktp") or ""

        def within(conn):
            if baru:
                self.participants.update(p.nik, fktp=baru, fktp_sejak=today)
        pesan = (f"FKTP Anda diganti menjadi {baru}." if baru else
                 "Permintaan penggantian FKTP telah kami catat.")
        return self._store("ganti_fktp", "selesai", a, today, pesan, nik=p.nik, within=within)

    def _req_ganti_nomor_hp(self, p, a, today) -> ServiceResult:
        # the phone number is the Mobile JKN login: the agent checks the date of birth too
        try:
            dob = parse_ddmmyyyy(a["tgl_lahir"], today)
        except InvalidIdentifier:
            dob = None
        if dob != p.tgl_lahir:
            return self._reject("ganti_nomor_hp", a, today, "Tanggal lahir tidak sesuai dengan data peserta.",
                                nik=p.nik)
        bad = _phone_problem(a["hp"])
        if bad:
            return self._reject("ganti_nomor_hp", a, today, f"{bad.reason_id.capitalize()}.", nik=p.nik)
        return self._store("ganti_nomor_hp", "selesai", a, today,
                           "Nomor HP untuk Mobile JKN telah diganti.", nik=p.nik,
                           within=lambda conn: self.participants.update(p.nik, hp=a["hp"]))

    def _req_ganti_email(self, p, a, today) -> ServiceResult:
        email = a.get("email", "")
        if email:
            return self._store("ganti_email", "selesai", a, today, "Alamat email Anda telah diperbarui.", nik=p.nik,
                               within=lambda conn: self.participants.update(p.nik, email=email))
        bad = _phone_problem(a.get("hp", ""))
        if bad:
            raise ServiceError(f"permintaan/ganti_email: needs email, or hp to send a link to ({bad.reason_en})")
        return self._store("ganti_email", "selesai", a, today,
                           "Tautan untuk mengganti alamat email telah dikirim ke nomor HP Anda.", nik=p.nik)

    def _req_ganti_npwp(self, p, a, today) -> ServiceResult:
        npwp = _well_formed("ganti_npwp", "npwp", a["npwp"], validate_npwp)
        return self._store("ganti_npwp", "selesai", a, today, "NPWP Anda telah diperbarui.", nik=p.nik,
                           within=lambda conn: self.participants.update(p.nik, npwp=npwp))

    def _req_ganti_alamat(self, p, a, today) -> ServiceResult:
        kode_pos = a["kode_pos"]
        if not (kode_pos.isascii() and kode_pos.isdigit() and len(kode_pos) == 5):
            raise ServiceError("permintaan/ganti_alamat: kode_pos must have 5 digits")
        changes = {"kode_pos": kode_pos}
        if a.get("alamat"):
            changes["alamat"] = a["alamat"]
        return self._store("ganti_alamat", "selesai", a, today, "Alamat domisili Anda telah diperbarui.", nik=p.nik,
                           within=lambda conn: self.participants.update(p.nik, **changes))

    def _req_informasi(self, p, a, today) -> ServiceResult:
        return self._store("informasi", "selesai", a, today, "Pertanyaan Anda telah kami jawab dan catat.", nik=p.nik)

    def _req_pengaduan(self, p, a, today) -> ServiceResult:
        kategori = KATEGORI_ADUAN.get(a["kategori"], "lainnya")
        return self._store("pengaduan", "selesai", a, today,
                           f"Pengaduan Anda tentang {kategori} telah kami catat dan akan kami tindak lanjuti.",
                           nik=p.nik)
