"""How long a caller listens: the speech budget of `ivr lint`.

A phone caller cannot scroll back. A prompt longer than about 20 seconds of speech, or a menu
with more than 5 options, is one the caller forgets before the question comes (issue 12).
This module measures prompts as the caller hears them:

- a static prompt (no `{variable}`) by rendering it with the project's TTS
  (`ivr.speech.tts.Tts`, whose cache makes the second `ivr lint` cost a stat() per prompt);
- a filled-in prompt by rendering it with the worst case of each variable (`WORST_CASE`:
  the longest value the services or engine produce for it; synthetic, no caller's data, so
  the rendering may be cached like any static prompt);
- without TTS (pyttsx3 or espeak-ng missing), by the text-length estimate
  `estimate_seconds`, and lint says so once.

`estimate_seconds` lives here, in one place: the virtual clock's `EstimatedVoice`
(ivr.drivers.timeline) uses it when nothing is rendered.
"""
from __future__ import annotations

import re
import wave
from collections.abc import Callable
from dataclasses import dataclass

CHARS_PER_SECOND = 14.0
DEFAULT_MAX_PROMPT_SECONDS = 20.0
DEFAULT_MAX_MENU_OPTIONS = 5

_VAR = re.compile(r"\{([^{}]*)\}")


def estimate_seconds(text: str) -> float:
    """Rough spoken length of a prompt (espeak-ng at ~165 words/min says ~14 chars/s).
    It underestimates digits and amounts (a 16-digit number is said as 16 words), which is
    why lint and `--keys` calls render prompts when they can."""
    return 0.3 + len(text) / CHARS_PER_SECOND


@dataclass(frozen=True)
class Budget:
    """What lint holds prompts and menus to (`ivr lint --max-prompt-seconds/--max-options`)."""

    max_prompt_seconds: float = DEFAULT_MAX_PROMPT_SECONDS
    max_menu_options: int = DEFAULT_MAX_MENU_OPTIONS


#: The longest value a variable takes in a call: what a worst-case filled-in prompt is
#: measured with. Service variables follow the texts ivr.jkn.services builds (the longest
#: case of each; tests/test_tree_budget.py checks no demo participant's value is longer);
#: the rest are long but plausible values. Unknown variables count as `DEFAULT_WORST`.
WORST_CASE: dict[str, str] = {
    # cek_peserta / cek_tagihan
    "nama": "Muhammad Abdurrahman Wicaksono",
    "status": "tidak aktif",
    "kelas": "Kelas 3",
    "segmen": "pekerja bukan penerima upah",
    "iuran": "Rp150.000",
    "tunggakan_bulan": "24",
    "tagihan": "Rp3.600.000",
    "tagihan_peserta": "Rp3.600.000",
    "jatuh_tempo": "10 Desember 2026",
    "va": "8888801234567890",
    "fktp": "Klinik Pratama Bhakti Husada Sejahtera",
    "alasan": "data kependudukan belum diperbarui sesuai program GILANG",
    "jumlah_anggota": "5",
    "pembayaran": ("Aktif setelah iuran pertama Rp150.000 dibayar paling lambat "
                   "28 September 2026 ke virtual account 8888801234567890."),
    "pemulihan": ("Kepesertaan aktif kembali setelah tunggakan dibayar lunas. Rawat inap dalam 45 hari "
                  "sesudahnya dikenakan denda pelayanan."),
    "pembayar": "pemberi kerja",
    "aktif_kembali": "15 Desember 2026",
    # iuran_kelas
    "kelas_1": "Rp150.000", "kelas_2": "Rp100.000", "kelas_3": "Rp35.000",
    "kelas_3_penuh": "Rp42.000", "kelas_3_subsidi": "Rp7.000", "ppu": "1 persen",
    # permintaan
    "tiket": "165-20261123-0001",
    "pesan": ("Permintaan perubahan data identitas telah kami catat. Silakan kirim foto KTP dan kartu "
              "keluarga melalui WhatsApp Pandawa."),
    "kartu": "0001234567890",
    # engine and queue
    "posisi": "12",
    "waktu_tunggu": "15 menit",
    "agen": "Rina",
    "salam": "Selamat malam",
    "antrean": "perubahan_data",
    "alasan_tidak_valid": "kode provinsi 20 tidak dikenal",
    "tanggal": "2026-11-23",
}
DEFAULT_WORST = "nilai dua belas"


def worst_case(text: str, extra: dict[str, str] | None = None) -> str:
    """`text` with every `{variable}` replaced by its longest value."""
    table = {**WORST_CASE, **(extra or {})}
    return _VAR.sub(lambda m: table.get(m.group(1), DEFAULT_WORST), text)


class PromptClock:
    """Seconds of speech for a prompt text: rendered with TTS when it can be, estimated
    otherwise (`rendered` says which; `note` why not). Each text is measured once."""

    def __init__(self, render: Callable[[str], float] | None = None, note: str = ""):
        self._render = render
        self.note = note
        self._seen: dict[str, float] = {}

    @property
    def rendered(self) -> bool:
        return self._render is not None

    def seconds(self, text: str) -> float:
        got = self._seen.get(text)
        if got is None:
            got = self._seen[text] = self._render(text) if self._render else estimate_seconds(text)
        return got

    @classmethod
    def estimated(cls, note: str = "") -> "PromptClock":
        return cls(None, note)

    @classmethod
    def with_tts(cls) -> "PromptClock":
        """Render with the project's TTS (cached WAVs: duration from the header); when TTS
        cannot run here, an estimating clock whose `note` says why."""
        try:
            from ivr.speech.tts import Tts, TtsError

            tts = Tts()
            tts.key("Tes.")   # loads espeak-ng: TtsUnavailable now rather than per prompt
        except Exception as exc:   # ImportError, TtsUnavailable, OSError from ctypes
            return cls.estimated(f"prompt lengths estimated from the text, not rendered ({str(exc).splitlines()[0]})")

        def render(text: str) -> float:
            if not tts.spoken(text).strip():
                return 0.0
            try:
                path = tts.render(text)
                with wave.open(str(path), "rb") as w:
                    return w.getnframes() / w.getframerate()
            except (TtsError, OSError, wave.Error, EOFError):
                return estimate_seconds(text)
        return cls(render)
