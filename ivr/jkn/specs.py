"""What each JKN service promises: its arguments, outcomes and the variables it sets, and the
request types agents handle (with the arguments each needs and the queue it is answered from).

The one declaration that `ivr.jkn.services` enforces, `ivr lint` checks trees against
(without opening a database) and the queue configuration takes its queue names from. Plain
data, no imports from ivr: any layer may read it.

Every service may also fail; the engine turns a failure into the outcome `error`
(`SERVICE_ERROR_OUTCOME`).
"""
from __future__ import annotations

from dataclasses import dataclass

SERVICE_ERROR_OUTCOME = "error"


@dataclass(frozen=True)
class ServiceSpec:
    """A service the tree may invoke: the arguments it requires, the outcomes it returns
    and the variables it sets (a prompt after it may speak them)."""

    outcomes: tuple[str, ...]
    sets: tuple[str, ...]
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestSpec:
    """A request type of the `permintaan` service: the arguments it needs (beside `jenis`),
    the agent queue that answers it (None: not an agent queue, e.g. a callback left
    from any queue) and the outcomes it can return.

    `outcomes` is what the agent's rules can decide for well-formed arguments: `ditolak`
    only where a business rule can refuse (a class change within a year, a PBI family...),
    `tidak_ditemukan` only where the NIK must name a participant. A malformed argument (a
    NIK, NPWP or postal code that fails its identifier rule) is the tree's bug, not the
    caller's: the service fails (`error`). `tests/test_jkn_request_outcomes.py` produces
    each declared outcome from the service and no other; `ivr lint` warns about a branch
    for an outcome the node's request type never returns."""

    args: tuple[str, ...]
    queue: str | None
    outcomes: tuple[str, ...] = ("selesai",)


_PESERTA = ServiceSpec(
    outcomes=("aktif", "menunggak", "nonaktif", "tidak_ditemukan", "tgl_lahir_salah"),
    sets=("nama", "status", "kelas", "segmen", "iuran", "tunggakan_bulan", "tagihan", "jatuh_tempo", "va",
          "fktp", "alasan", "jumlah_anggota", "tagihan_peserta", "pembayaran", "pemulihan", "pembayar"),
    args=("nik", "tgl_lahir"),
)
#: The same look-up by the 13-digit JKN card number instead of the NIK (seeds 003, 004).
_PESERTA_KARTU = ServiceSpec(_PESERTA.outcomes, _PESERTA.sets, args=("kartu", "tgl_lahir"))

SERVICES: dict[str, ServiceSpec] = {
    "cek_peserta": _PESERTA,
    "cek_tagihan": _PESERTA,
    "cek_peserta_kartu": _PESERTA_KARTU,
    "iuran_kelas": ServiceSpec(("ok",), ("kelas_1", "kelas_2", "kelas_3", "kelas_3_penuh", "kelas_3_subsidi", "ppu")),
    "permintaan": ServiceSpec(("selesai", "ditolak", "tidak_ditemukan"),
                              ("tiket", "pesan", "alasan", "kartu", "nama", "va", "kelas", "iuran", "pembayaran",
                               "tagihan"),
                              args=("jenis",)),
}

#: request type -> what it needs and where it is answered (DOMAIN.md: the agent services).
_FOUND = ("selesai", "tidak_ditemukan")                  # the NIK must name a participant
_RULED = ("selesai", "ditolak", "tidak_ditemukan")       # ... and a rule may refuse

REQUESTS: dict[str, RequestSpec] = {
    "pendaftaran": RequestSpec(("nik", "tgl_lahir", "kelas"), "pendaftaran", ("selesai", "ditolak")),
    "penambahan_peserta": RequestSpec(("nik", "nik_anggota", "tgl_lahir"), "penambahan_peserta", _RULED),
    "perubahan_data": RequestSpec(("nik", "perubahan"), "perubahan_data", _FOUND),
    "ganti_kelas": RequestSpec(("nik", "kelas"), "ganti_kelas", _RULED),
    "ganti_fktp": RequestSpec(("nik",), "perubahan_data", _RULED),  # the data-change agents handle FKTP changes
    "ganti_nomor_hp": RequestSpec(("nik", "tgl_lahir", "hp"), "ganti_nomor_hp", _RULED),
    "ganti_email": RequestSpec(("nik",), "ganti_email", _FOUND),
    "ganti_npwp": RequestSpec(("nik", "npwp"), "ganti_npwp", _FOUND),
    "ganti_alamat": RequestSpec(("nik", "kode_pos"), "ganti_alamat", _FOUND),
    "informasi": RequestSpec((), "informasi", ("selesai",)),   # an unknown caller's question is answered too
    "pengaduan": RequestSpec(("nik", "kategori"), "pengaduan", _FOUND),
    "callback": RequestSpec(("hp",), None, ("selesai",)),
}

assert all(set(r.outcomes) <= set(SERVICES["permintaan"].outcomes) for r in REQUESTS.values()), \
    "a request type returns only outcomes of the permintaan service"


def outcomes_of(service: str, args: dict[str, str] | None = None) -> tuple[str, ...] | None:
    """The outcomes a node invoking `service` with `args` can get (besides `error`): a
    `permintaan` with a literal, known `jenis` those of its request type, otherwise the
    service's. None for an unknown service."""
    spec = SERVICES.get(service)
    if spec is None:
        return None
    jenis = str((args or {}).get("jenis", ""))
    if service == "permintaan" and jenis in REQUESTS:
        return REQUESTS[jenis].outcomes
    return spec.outcomes


#: The agent queues, one per queue-answered request type, in declaration order.
AGENT_QUEUES: tuple[str, ...] = tuple(dict.fromkeys(r.queue for r in REQUESTS.values() if r.queue))
