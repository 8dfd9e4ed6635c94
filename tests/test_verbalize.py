"""The Indonesian spoken form of prompt text (ivr.speech.verbalize)."""
from __future__ import annotations

import pytest

from ivr.speech.verbalize import digits_words, group_sizes, number_words, spell, verbalize

NUMBERS = [
    (0, "nol"), (1, "satu"), (7, "tujuh"), (10, "sepuluh"), (11, "sebelas"), (12, "dua belas"),
    (19, "sembilan belas"), (20, "dua puluh"), (21, "dua puluh satu"), (45, "empat puluh lima"),
    (99, "sembilan puluh sembilan"), (100, "seratus"), (101, "seratus satu"),
    (110, "seratus sepuluh"), (111, "seratus sebelas"), (165, "seratus enam puluh lima"),
    (200, "dua ratus"), (999, "sembilan ratus sembilan puluh sembilan"), (1000, "seribu"),
    (1001, "seribu satu"), (1100, "seribu seratus"), (1985, "seribu sembilan ratus delapan puluh lima"),
    (2000, "dua ribu"), (2021, "dua ribu dua puluh satu"), (2026, "dua ribu dua puluh enam"),
    (11000, "sebelas ribu"), (35000, "tiga puluh lima ribu"), (100000, "seratus ribu"),
    (101000, "seratus satu ribu"), (150000, "seratus lima puluh ribu"),
    (1_000_000, "satu juta"), (1_100_000, "satu juta seratus ribu"), (1_001_000, "satu juta seribu"),
    (30_000_000, "tiga puluh juta"), (1_000_000_000, "satu miliar"),
    (2_500_000_000_000, "dua triliun lima ratus miliar"),
    (1_000_000_000_000_000, "seribu triliun"), (-5, "minus lima"),
]


@pytest.mark.parametrize("n, words", NUMBERS)
def test_number_words(n, words):
    assert number_words(n) == words


def test_digit_helpers():
    assert digits_words("0811") == "nol delapan satu satu"
    assert digits_words("08118750400", group=4) == "nol delapan satu satu, delapan tujuh lima nol, empat nol nol"
    assert spell("BPJS") == "be pe je es"
    assert spell("NPWP") == "en pe we pe"


TABLE = [
    # money: "." thousands, "," decimals, always "rupiah" after the amount
    ("Rp35.000", "tiga puluh lima ribu rupiah"),
    ("Rp150.000", "seratus lima puluh ribu rupiah"),
    ("Rp30.000.000", "tiga puluh juta rupiah"),
    ("Rp 7.000", "tujuh ribu rupiah"),
    ("Rp1.000", "seribu rupiah"),
    ("Rp35.000,-", "tiga puluh lima ribu rupiah"),
    ("Rp42.000,00", "empat puluh dua ribu rupiah"),
    ("Rp2 juta", "dua juta rupiah"),
    ("Rp1.500.000,50", "satu juta lima ratus ribu koma lima nol rupiah"),
    ("Kelas 3 Rp35.000 per bulan", "Kelas tiga, tiga puluh lima ribu rupiah per bulan"),
    # plain numbers and amounts without currency
    ("tersedia 24 jam", "tersedia dua puluh empat jam"),
    ("dalam 45 hari", "dalam empat puluh lima hari"),
    ("12.000 orang", "dua belas ribu orang"),
    ("2,5 kali", "dua koma lima kali"),
    ("1x24 jam", "satu kali dua puluh empat jam"),
    ("ke-2", "kedua"),
    ("ke-1", "pertama"),
    ("versi 1.5", "versi satu titik lima"),
    # keys
    ("tekan 1", "tekan satu"),
    ("tekan 0 untuk agen", "tekan nol untuk agen"),
    ("tekan #", "tekan pagar"),
    ("tekan *", "tekan bintang"),
    ("NIK#nomor kartu#tanggal", "nik pagar nomor kartu pagar tanggal"),
    ("Pilih kelas 1, 2, atau 3.", "Pilih kelas satu, dua, atau tiga."),
    ("tekan 1-3", "tekan satu sampai tiga"),
    # identifiers digit by digit
    ("0811-8-165-165", "nol delapan satu satu, delapan, satu enam lima, satu enam lima"),
    ("08777 5500 400", "nol delapan tujuh tujuh tujuh, lima lima nol nol, empat nol nol"),
    ("08118750400", "nol delapan satu satu, delapan tujuh lima nol, empat nol nol"),
    ("021-4212938", "nol dua satu, empat dua satu dua sembilan tiga delapan"),
    ("1500 400", "satu lima nol nol, empat nol nol"),
    ("+62 811 8165 165", "plus enam dua, delapan satu satu, delapan satu enam lima, satu enam lima"),
    ("kode pos 40115", "kode pos empat nol satu satu lima"),
    ("diawali 08,", "diawali nol delapan,"),
    ("contohnya diawali 3174 untuk Jakarta Selatan", "contohnya diawali tiga satu tujuh empat untuk Jakarta Selatan"),
    ("ditekan 17", "ditekan satu tujuh"),
    ("selama 3174 hari", "selama tiga ribu seratus tujuh puluh empat hari"),
    # an 8-digit DDMMYYYY example is read as typed, 2-2-4; other 8-digit runs 4-4
    ("menjadi 17081985.", "menjadi satu tujuh, nol delapan, satu sembilan delapan lima."),
    ("ditekan 29022000", "ditekan dua sembilan, nol dua, dua nol nol nol"),
    ("kode 12345678", "kode satu dua tiga empat, lima enam tujuh delapan"),
    ("kode 31131985", "kode tiga satu satu tiga, satu sembilan delapan lima"),   # month 13: not a date
    # a 13-digit card: 3-3-3-4, never a lone last digit
    ("Contoh, 0001234567890.", "Contoh, nol nol nol, satu dua tiga, empat lima enam, tujuh delapan sembilan nol."),
    # a virtual account: the bank prefix on its own, then the card's 11 digits 3-4-4
    ("ke virtual account 8888801876543210.",
     "ke virtual akun delapan delapan delapan delapan delapan, nol satu delapan, tujuh enam lima empat, tiga dua satu nol."),
    ("VA 8988801876543210", "fe a delapan sembilan delapan delapan delapan, nol satu delapan, tujuh enam lima empat, tiga dua satu nol"),
    # 16 digits that are no VA: fours
    ("nomor 1234567890123456", "nomor satu dua tiga empat, lima enam tujuh delapan, sembilan nol satu dua, tiga empat lima enam"),
    ("NIK 3201234567890001", "nik tiga dua nol satu, dua tiga empat lima, enam tujuh delapan sembilan, nol nol nol satu"),
    # the line itself is announced digit by digit
    ("hubungi kembali 165.", "hubungi kembali satu enam lima."),
    ("Care Center 165", "ker senter satu enam lima"),
    # dates
    ("10 Desember 2026", "sepuluh Desember dua ribu dua puluh enam"),
    ("sejak 1 Januari 2021", "sejak satu Januari dua ribu dua puluh satu"),
    ("01 Juli 2016", "satu Juli dua ribu enam belas"),
    ("01-01-2021", "satu Januari dua ribu dua puluh satu"),
    ("17/08/1985", "tujuh belas Agustus seribu sembilan ratus delapan puluh lima"),
    ("10.12.2026", "sepuluh Desember dua ribu dua puluh enam"),
    ("32-13-2020", "tiga dua, satu tiga, dua nol dua nol"),   # not a date: digits
    # times
    ("08.00", "pukul delapan"),
    ("pukul 08.00", "pukul delapan"),
    ("jam 8:30", "jam delapan tiga puluh"),
    ("pukul 08.00 sampai 15.00", "pukul delapan sampai pukul lima belas"),
    ("08.00-15.00 WIB", "pukul delapan sampai pukul lima belas waktu indonesia barat"),
    # percent
    ("5%", "lima persen"),
    ("1 %", "satu persen"),
    ("2,5%", "dua koma lima persen"),
    # acronyms
    ("JKN", "je ka en"),
    ("BPJS Kesehatan", "be pe je es Kesehatan"),
    ("FKTP", "ef ka te pe"),
    ("NIK", "nik"),
    ("KK", "ka ka"),
    ("nomor HP", "nomor ha pe"),
    ("NPWP", "en pe we pe"),
    ("KTP", "ka te pe"),
    ("SMS", "es em es"),
    ("ICU, ICCU", "i ce u, i ce ce u"),
    ("kelas D", "kelas de"),
    ("INA-CBG", "ina ce be ge"),
    ("aplikasi Mobile JKN", "aplikasi mobail je ka en"),
    ("WhatsApp", "wotsap"),
    ("akun BPJSKes_bot", "akun be pe je es kes garis bawah bot"),
    ("di akun @BPJSKes_bot, email", "di akun et be pe je es kes garis bawah bot, imel"),
    ("nomor virtual account keluarga", "nomor virtual akun keluarga"),
    ("Nomor Virtual Account", "Nomor virtual akun"),
    # care classes in roman numerals
    ("Kelas III", "Kelas tiga"),
    ("kelas II atau Kelas I.", "kelas dua atau Kelas satu."),
    ("Kelas 3", "Kelas tiga"),
    # a bill of nothing
    ("tagihan Rp0", "tidak ada tagihan"),
    ("Tagihan Rp0.", "Tidak ada tagihan."),
    ("Tagihan iuran sebesar Rp0,-.", "Tidak ada tagihan iuran."),
    ("tagihan Anda: Rp0,00", "tidak ada tagihan Anda"),
    ("iuran Rp0", "iuran nol rupiah"),                 # not a bill: the amount is said
    ("tagihan Rp0,5", "tagihan nol koma lima rupiah"),  # not nothing
    # the SMS format: keys and dashes the caller types are said
    ("ketik NIK#nomor kartu#tanggal-bulan-tahun lahir",
     "ketik nik pagar nomor kartu pagar tanggal strip bulan strip tahun lahir"),
    ("NIK#nomor kartu#dd-mm-yyyy", "nik pagar nomor kartu pagar tanggal strip bulan strip tahun"),
    ("bpjs-kesehatan.go.id", "bpjs-kesehatan.go.id"),   # other dashes stay silent joins
    # plain words untouched, whitespace tidied
    ("Maaf, pilihan Anda tidak tersedia.", "Maaf, pilihan Anda tidak tersedia."),
    ("  Terima   kasih .  ", "Terima kasih."),
    ("", ""),
]


@pytest.mark.parametrize("text, spoken", TABLE)
def test_verbalize_table(text, spoken):
    assert verbalize(text) == spoken


@pytest.mark.parametrize("n, sizes", [
    (8, [4, 4]), (9, [3, 3, 3]), (10, [3, 3, 4]), (11, [3, 4, 4]), (12, [4, 4, 4]),
    (13, [3, 3, 3, 4]), (15, [3, 4, 4, 4]), (16, [4, 4, 4, 4]), (17, [3, 3, 3, 4, 4]), (5, [5]),
])
def test_group_sizes_never_leave_a_lone_digit(n, sizes):
    assert group_sizes(n) == sizes
    assert sum(group_sizes(n)) == n


def test_espeak_reads_virtual_akun_not_atStSount():
    """The lexicon's spelling is what espeak-ng's Indonesian voice says right: `'akun`, not
    the `atStS'ount` it makes of "account"."""
    import shutil
    import subprocess

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (the TTS tests need it too)")
    spoken = verbalize("nomor virtual account")
    phon = subprocess.run(["espeak-ng", "-q", "-x", "-v", "id", spoken], capture_output=True,
                          text=True, check=True).stdout
    assert "'akun" in phon and "atStS" not in phon, phon


def test_hotlines_can_be_turned_off():
    assert verbalize("hubungi 165", hotlines=()) == "hubungi seratus enam puluh lima"
    assert verbalize("hubungi 112", hotlines={"112"}) == "hubungi satu satu dua"


def test_verbalize_is_idempotent_on_its_output():
    """Spoken text has no digits, symbols or acronyms left, so verbalizing again changes
    nothing: the cache key of a prompt never depends on how often it was processed."""
    text = ("Iuran Kelas 3 Rp42.000, dengan Rp35.000 dibayar peserta sejak 1 Januari 2021; "
            "WhatsApp 0811-8-165-165 pukul 08.00-15.00, tekan # atau *, 5% dari gaji, NIK dan FKTP.")
    once = verbalize(text)
    assert not any(ch.isdigit() for ch in once)
    assert not set("#*%") & set(once)
    assert verbalize(once) == once


def test_vika_prompts_have_no_digits_left(repo):
    from ivr.tree.loader import load_tree

    for prompt in load_tree(repo / "menus" / "vika.yaml").prompt_texts():
        spoken = verbalize(prompt)
        assert not any(ch.isdigit() for ch in spoken), (prompt, spoken)
        assert "Rp" not in spoken and "%" not in spoken and "#" not in spoken


def test_rejects_non_text():
    with pytest.raises(TypeError):
        verbalize(165)  # type: ignore[arg-type]
