"""Turn prompt text as it is displayed into what an Indonesian voice should say.

espeak-ng's Indonesian voice reads digits, currency, dates and acronyms poorly ("Rp35.000"
comes out as letters and a decimal number, "BPJS" as an English-ish word), so every prompt
goes through `verbalize()` before synthesis.  The rules follow how an Indonesian call
centre announcer reads text:

- Amounts use "." for thousands and "," for decimals: "Rp35.000" -> "tiga puluh lima ribu
  rupiah", "2,5%" -> "dua koma lima persen".  Counting words use the "se-" forms
  (sepuluh, sebelas, seratus, seribu) but millions are "satu juta".
- Identifiers are read digit by digit: phone numbers ("0811-8-165-165", "08777 5500 400"),
  any plain run of 5 or more digits (NIK, postal code), and numbers with a leading zero
  ("08"), and a number the caller is told to type ("diawali 3174").  Runs of 8 or more digits are read in groups of four, with groups of three first
  where the length needs them (13-digit card: 3-3-3-4), never a lone last digit, with short
  pauses so a caller can write them down.  A virtual account says its bank prefix (88888)
  on its own, then the card's digits; an 8-digit run that is a DDMMYYYY date (the keypad
  example "17081985") is read as it is typed, 2-2-4; a mobile number (08...) keeps its
  four-digit operator prefix first (0811 8750 400).
- Hotline numbers (by default only "165") are read digit by digit, "satu enam lima": that
  is how the line is announced ("Care Center satu enam lima"), unlike a quantity such as
  "165 hari" (no such quantity occurs in the prompts; pass `hotlines=()` to turn it off).
- Dates: "10 Desember 2026" -> "sepuluh Desember dua ribu dua puluh enam" and the numeric
  forms "01-01-2021" / "01/01/2021"; times "08.00" -> "pukul delapan" (no second "pukul"
  when the text already says "pukul" or "jam").
- Keys: "#" -> "pagar", "*" -> "bintang"; "tekan 1" -> "tekan satu".  The dashes of a
  date format the caller types ("NIK#nomor kartu#tanggal-bulan-tahun", "dd-mm-yyyy") are
  said, "strip", because the caller must type them.
- "Kelas III" -> "Kelas tiga" (roman numerals after "Kelas"; alone they would be spelled).
- A bill of nothing is said as such: "tagihan Rp0" -> "tidak ada tagihan", not "nol rupiah".
- Acronyms are spelled with Indonesian letter names (JKN -> "je ka en", BPJS -> "be pe je
  es") unless they are read as a word (NIK, KIS); a small lexicon fixes the English names
  that appear in the VIKA prompts (WhatsApp, Mobile JKN, Care Center).

The function is pure and deterministic: the TTS cache key is computed from its output, so
changing a rule here re-renders exactly the prompts whose spoken form changed.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ivr.rules.identifiers import PHONE_LENGTHS, PHONE_PREFIX, VA_PREFIX, InvalidDate, parse_ddmmyyyy

__all__ = ["verbalize", "number_words", "quantity_words", "digits_words", "spell", "group_sizes",
           "DEFAULT_HOTLINES"]

_UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"), (10**3, "ribu"))
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
DEFAULT_HOTLINES: frozenset[str] = frozenset({"165"})

# Indonesian letter names, used to spell acronyms.
_LETTERS = {
    "a": "a", "b": "be", "c": "ce", "d": "de", "e": "e", "f": "ef", "g": "ge", "h": "ha",
    "i": "i", "j": "je", "k": "ka", "l": "el", "m": "em", "n": "en", "o": "o", "p": "pe",
    "q": "ki", "r": "er", "s": "es", "t": "te", "u": "u", "v": "fe", "w": "we", "x": "eks",
    "y": "ye", "z": "zet",
}

# Upper-case words that are pronounced as words, not spelled.
_WORD_ACRONYMS = {
    "NIK": "nik", "KIS": "kis", "VIKA": "vika", "CHIKA": "cika", "PANDAWA": "pandawa",
    "GILANG": "gilang", "INA": "ina", "OK": "oke",
}

# Whole-word pronunciations (matched case-insensitively) for the non-Indonesian words the
# prompts use.  Multi-word entries are matched before single words.
_LEXICON = {
    "mobile jkn": "mobail je ka en",
    "google play store": "gugel plei stor",
    "app store": "ep stor",
    "care center": "ker senter",
    "call center": "kol senter",
    "voice interactive": "vois interaktif",
    "chat assistant": "cet asisten",
    "whatsapp": "wotsap",
    "email": "imel",
    "e-mail": "imel",
    "online": "onlain",
    "login": "login",
    "bpjskes_bot": "be pe je es kes garis bawah bot",
    # espeak-ng's Indonesian voice says "account" as `atStS'ount`; callers say "virtual akun".
    "virtual account": "virtual akun",
    "ina-cbg": "ina ce be ge",
    "jkn-kis": "je ka en kis",
    "wib": "waktu indonesia barat",
    "wita": "waktu indonesia tengah",
    "wit": "waktu indonesia timur",
}

_SYMBOLS = {"#": "pagar", "*": "bintang", "&": "dan", "+": "plus", "@": "et"}


# ---------------------------------------------------------------------------- numbers

def _below_100(n: int) -> str:
    if n < 10:
        return _UNITS[n]
    if n == 10:
        return "sepuluh"
    if n == 11:
        return "sebelas"
    if n < 20:
        return f"{_UNITS[n - 10]} belas"
    tens, unit = divmod(n, 10)
    return f"{_UNITS[tens]} puluh" + (f" {_UNITS[unit]}" if unit else "")


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append("seratus" if hundreds == 1 else f"{_UNITS[hundreds]} ratus")
    if rest:
        words.append(_below_100(rest))
    return " ".join(words)


def number_words(n: int) -> str:
    """A whole number in Indonesian words: 11 -> "sebelas", 1000 -> "seribu",
    1_000_000 -> "satu juta", 150000 -> "seratus lima puluh ribu"."""
    if n < 0:
        return "minus " + number_words(-n)
    if n == 0:
        return "nol"
    words: list[str] = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            if scale == 1000 and count == 1:
                words.append("seribu")
            else:
                words.append(f"{number_words(count) if count >= 1000 else _below_1000(count)} {name}")
    if n:
        words.append(_below_1000(n))
    return " ".join(words)


def digits_words(digits: str, group: int = 0) -> str:
    """Digits one by one ("0811" -> "nol delapan satu satu"); with `group`, a comma (a
    short pause) after every `group` digits."""
    ds = [c for c in digits if c.isdigit()]
    if not group:
        return " ".join(_UNITS[int(c)] for c in ds)
    chunks = ["".join(ds[i:i + group]) for i in range(0, len(ds), group)]
    return ", ".join(digits_words(c) for c in chunks)


def group_sizes(n: int) -> list[int]:
    """How a run of `n` digits is split for reading (n >= 8): fours, with threes first where
    the length needs them, so no group is a lone digit or a pair: 13 -> 3-3-3-4, 11 -> 3-4-4,
    16 -> 4-4-4-4.  Shorter runs are one group."""
    if n < 8:
        return [n]
    threes = (4 - n % 4) % 4
    return [3] * threes + [4] * ((n - 3 * threes) // 4)


def _grouped(digits: str, sizes: list[int]) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(digits_words(digits[i:i + size]))
        i += size
    return ", ".join(out)


#: Virtual account prefixes (ivr.rules.identifiers): said on their own, then the card digits.
_VA_PREFIXES = frozenset(VA_PREFIX.values())
_VA_LENGTH = 16


def _is_ddmmyyyy(digits: str) -> bool:
    try:
        parse_ddmmyyyy(digits)
    except InvalidDate:
        return False
    return True


def _long_digits(digits: str) -> str:
    """A digit run read for writing down: see the module docstring."""
    if len(digits) == _VA_LENGTH and digits[:5] in _VA_PREFIXES:
        return digits_words(digits[:5]) + ", " + _grouped(digits[5:], group_sizes(len(digits) - 5))
    if len(digits) == 8 and _is_ddmmyyyy(digits):
        return _grouped(digits, [2, 2, 4])
    if digits.startswith(PHONE_PREFIX) and PHONE_LENGTHS[0] <= len(digits) <= PHONE_LENGTHS[1]:
        # a mobile number unbroken: the operator prefix first, as it is written (0811 8750 400)
        return _grouped(digits, group_sizes(len(digits))[::-1])
    return _grouped(digits, group_sizes(len(digits)))


#: The longest number read as a quantity (999 triliun has 15 digits). Longer digit strings
#: are read digit by digit: no amount is that large, and int() of a 5000-digit string is
#: refused by Python (and would be read as "... triliun triliun triliun ...").
MAX_QUANTITY_DIGITS = 15


def quantity_words(digits: str) -> str:
    """A quantity written with digits (thousands dots allowed) in words; digit by digit
    (grouped by four) when it is longer than MAX_QUANTITY_DIGITS."""
    plain = digits.replace(".", "")
    if len(plain.lstrip("0")) > MAX_QUANTITY_DIGITS:
        return digits_words(plain, group=4)
    return number_words(int(plain))


def _decimal(whole: str, frac: str | None) -> str:
    """"1.500" / "2" with optional decimal digits after "," ("dua koma lima")."""
    words = quantity_words(whole)
    if frac:
        words += " koma " + digits_words(frac)
    return words


def spell(word: str) -> str:
    """Spell letters (and digits) with Indonesian names: "BPJS" -> "be pe je es"."""
    out = []
    for ch in word:
        low = ch.lower()
        if low in _LETTERS:
            out.append(_LETTERS[low])
        elif ch.isdigit():
            out.append(_UNITS[int(ch)])
    return " ".join(out)


# ---------------------------------------------------------------------------- patterns

_MONTH_RE = "|".join(MONTHS)
_NUM = r"\d{1,3}(?:\.\d{3})+|\d+"          # 1.500.000 or 1500
_PATTERNS: list[tuple[str, str]] = [
    # "tagihan Rp0", "Tagihan iuran sebesar Rp0,-": there is no bill
    ("nobill", r"\b(?P<nbt>[Tt]agihan)(?P<nbmid>(?:\s+(?:[Aa]nda|iuran|sebesar))*)\s*:?\s*Rp\.?\s?0+(?:,-|,0+)?(?!\d|[.,]\d)"),
    # Kelas I / II / III (care class, roman numerals)
    ("roman", r"\b(?P<kls>[Kk]elas)\s+(?P<rom>III|II|I)\b"),
    # the date format of an SMS to type: tanggal-bulan-tahun, dd-mm-yyyy
    ("dateformat", r"\b(?i:tanggal|dd)-(?i:bulan|mm)-(?i:tahun|yyyy)\b"),
    # Rp35.000 / Rp 35.000,- / Rp35.000,00 / Rp35 ribu
    ("money", rf"\bRp\.?\s?(?P<rp>{_NUM})(?:,(?P<rpdec>\d+|-))?(?:\s(?P<rpmag>ribu|juta|miliar|triliun)\b)?"),
    # 01-01-2021, 17/08/1985, 10.12.2026
    ("ndate", r"(?<![\d-])(?P<nd>\d{1,2})(?P<sep>[-/.])(?P<nm>\d{1,2})(?P=sep)(?P<ny>\d{4})(?![\d-])"),
    # 10 Desember 2026 (day with or without leading zero)
    ("tdate", rf"\b(?P<td>\d{{1,2}})\s+(?P<tm>{_MONTH_RE})\b"),
    # 08.00, 08.00-15.00, 8:30
    ("time", r"(?<![\d.,])(?P<h1>[01]?\d|2[0-4])[.:](?P<m1>[0-5]\d)"
             r"(?:\s?(?:-|–|s\.d\.|s/d)\s?(?P<h2>[01]?\d|2[0-4])[.:](?P<m2>[0-5]\d))?(?!\d|[.,]\d)"),
    # +62 811-8165-165, 0811-8-165-165, 08777 5500 400, 021-4212938, 1500 400
    ("phone", r"(?<![\d.,])(?:\+62[ -]?\d+(?:[ -]\d+)*|0\d+(?:(?:-| (?=\d{3}))\d+)+|\d+(?:-\d+)+|\d{3,}(?: \d{3,})+)(?!\d|[.,]\d)"),
    ("percent", r"(?<![\d.,])(?P<pct>\d+)(?:,(?P<pctdec>\d+))?\s?%"),
    ("ordinal", r"\bke-(?P<ord>\d+)\b"),
    ("times", r"\b(?P<ta>\d+)x(?P<tb>\d+)\b"),
    ("number", rf"(?<![\d.,])(?P<num>{_NUM})(?:,(?P<numdec>\d+))?(?!\d|[.,]\d)"),
    # 1.5, 2.1.3: not a valid Indonesian amount, read the parts ("satu titik lima")
    ("dotted", r"(?<![\d.,])\d+(?:\.\d+)+(?!\d)"),
    ("lexicon", r"(?<![\w-])(?i:" + "|".join(re.escape(k) for k in sorted(_LEXICON, key=len, reverse=True)) + r")(?![\w-])"),
    # BPJS, JKN, ICU, kelas D
    ("acronym", r"\b[A-Z](?:[A-Z0-9]*[A-Z])?\b"),
    ("symbol", r"[#*&+@]"),
]
_ORDER = [name for name, _ in _PATTERNS]
_MASTER = re.compile("|".join(f"(?P<{name}>{pat})" for name, pat in _PATTERNS))
_PUKUL_BEFORE = re.compile(r"(?i)\b(?:pukul|jam)\s*$")
#: Words after which a number is keys to type, read digit by digit ("diawali 3174").
_KEYS_BEFORE = re.compile(r"(?i)\b(?:diawali|dimulai|ditekan|awalan)\s*$")


def _time(h: str, m: str) -> str:
    words = number_words(int(h))
    if int(m):
        words += " " + number_words(int(m))
    return words


def _number(num: str, dec: str | None, hotlines: frozenset[str]) -> str:
    if "." in num:                      # grouped thousands: an amount
        return _decimal(num, dec)
    if num in hotlines and not dec:
        return digits_words(num)
    if len(num) >= 5 or (len(num) >= 2 and num.startswith("0")):
        return _long_digits(num) + (f" koma {digits_words(dec)}" if dec else "")
    return _decimal(num, dec)


def _phone(text: str) -> str:
    """Digit groups as written, each digit by digit, a pause between groups.  A short
    dash-joined pair such as "10-13" is a range, not a number to dial."""
    if text.startswith("+62"):
        return ", ".join(["plus enam dua"] + [digits_words(g) for g in re.findall(r"\d+", text[3:])])
    groups = re.findall(r"\d+", text)
    if "-" in text and len(groups) == 2 and sum(map(len, groups)) < 5 and not text.startswith("0"):
        return f"{number_words(int(groups[0]))} sampai {number_words(int(groups[1]))}"
    return ", ".join(digits_words(g) for g in groups)


class _Rules:
    def __init__(self, hotlines: frozenset[str]):
        self.hotlines = hotlines

    def __call__(self, m: re.Match) -> str:
        kind = next(name for name in _ORDER if m.group(name) is not None)
        return " " + getattr(self, kind)(m) + " "

    def nobill(self, m: re.Match) -> str:
        mid = " ".join(w for w in m["nbmid"].split() if w != "sebesar")
        head = "Tidak" if m["nbt"][0] == "T" else "tidak"
        return f"{head} ada tagihan" + (f" {mid}" if mid else "")

    def roman(self, m: re.Match) -> str:
        return f"{m['kls']} {_UNITS[len(m['rom'])]}"

    def dateformat(self, m: re.Match) -> str:
        return "tanggal strip bulan strip tahun"

    def money(self, m: re.Match) -> str:
        dec = m["rpdec"] if m["rpdec"] and m["rpdec"] != "-" and m["rpdec"].strip("0") else None
        words = _decimal(m["rp"], dec)
        if m["rpmag"]:
            words += " " + m["rpmag"]
        # "Kelas 3 Rp35.000": a pause keeps "tiga, tiga puluh lima ribu" two numbers.
        pause = "," if re.search(r"\d\s*$", m.string[:m.start()]) else ""
        return pause + " " + words + " rupiah"

    def ndate(self, m: re.Match) -> str:
        d, mo = int(m["nd"]), int(m["nm"])
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            return _phone(m.group("ndate"))
        return f"{number_words(d)} {MONTHS[mo - 1]} {number_words(int(m['ny']))}"

    def tdate(self, m: re.Match) -> str:
        return f"{number_words(int(m['td']))} {m['tm']}"

    def time(self, m: re.Match) -> str:
        before = m.string[:m.start()]
        lead = "" if _PUKUL_BEFORE.search(before) else "pukul "
        words = lead + _time(m["h1"], m["m1"])
        if m["h2"]:
            words += " sampai pukul " + _time(m["h2"], m["m2"])
        return words

    def phone(self, m: re.Match) -> str:
        return _phone(m.group("phone"))

    def percent(self, m: re.Match) -> str:
        return _decimal(m["pct"], m["pctdec"]) + " persen"

    def ordinal(self, m: re.Match) -> str:
        n = m["ord"].lstrip("0") or "0"
        return "pertama" if n == "1" else "ke" + quantity_words(n)

    def times(self, m: re.Match) -> str:
        return f"{quantity_words(m['ta'])} kali {quantity_words(m['tb'])}"

    def number(self, m: re.Match) -> str:
        if not m["numdec"] and "." not in m["num"] and _KEYS_BEFORE.search(m.string[:m.start()]):
            return digits_words(m["num"]) if len(m["num"]) < 8 else _long_digits(m["num"])
        return _number(m["num"], m["numdec"], self.hotlines)

    def dotted(self, m: re.Match) -> str:
        return " titik ".join(_number(p, None, self.hotlines) for p in m.group("dotted").split("."))

    def lexicon(self, m: re.Match) -> str:
        return _LEXICON[m.group("lexicon").lower()]

    def acronym(self, m: re.Match) -> str:
        word = m.group("acronym")
        if word in _WORD_ACRONYMS:
            return _WORD_ACRONYMS[word]
        return spell(word)

    def symbol(self, m: re.Match) -> str:
        return _SYMBOLS[m.group("symbol")]


_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)])")


def verbalize(text: str, hotlines: Iterable[str] = DEFAULT_HOTLINES) -> str:
    """The words to speak for a prompt.  Pure function of `text` (and `hotlines`)."""
    if not isinstance(text, str):
        raise TypeError(f"verbalize() needs text, not {type(text).__name__}")
    out = _MASTER.sub(_Rules(frozenset(hotlines)), text)
    out = _SPACES.sub(" ", out).strip()
    return _SPACE_BEFORE_PUNCT.sub(r"\1", out)
