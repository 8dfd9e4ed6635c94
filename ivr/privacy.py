"""Masking of personal data in logs, transcripts and command output.

Call logs and transcripts are shared with QA and trainers, so personal numbers never reach
them in clear. `mask_pii(text)` finds them in free text; `mask_value(kind, value)` masks a
value whose kind is known (a request's fields, a participant's record).

What is masked, and how (a star replaces each hidden digit, separators are kept):

  ========================  =====================  ==================================
  what                      example                masked
  ========================  =====================  ==================================
  16 digits (NIK, KK,       3201234567890001       3201********0001
  virtual account, NPWP16)
  15 digits (NPWP)          012345678901000        01**********000
  13 digits (JKN card)      0001234567890          000*******890
  mobile numbers 08 / +62   0812-3456-7890         0812-****-*890
  / 62, 10-13 digits,       +62 812 3456 7890      +62 812 ****-*890 (first 4 national
  separators - . space                             digits and last 3 kept)
  e-mail                    budi.santoso@mail.id   b***********@mail.id
  DOB typed DDMMYYYY (see   17081985               ****1985
  below)
  other runs >= 12 digits   (e.g. NIK+DOB typed    first 4 kept
                            without a pause)
  ========================  =====================  ==================================

Card numbers hide 7 of 13 digits (the first 3 are almost always 000 and say nothing);
NIKs keep the region (4) and serial (4) digits, enough for a trainer to tell two callers
apart, while the birth date in the middle is hidden.

Dates of birth: an 8-digit run that is a real DDMMYYYY date with a year from 1900 to 2099 is
masked (day and month hidden, year kept) when it is what a caller typed -- the text is only
keys (digits, spaces, # and *), like a transcript line or a logged argument -- or when it
stands next to a NIK or card number in the same text: a DOB together with a NIK identifies
a person. An example date inside a prompt sentence ("17 Agustus 1985 menjadi 17081985")
stays readable. Formatted dates ("10 Desember 2026", 2026-11-23) and YYYYMMDD stamps are
left alone.

Left alone on purpose: amounts (Rp35.000), times, node ids, ticket numbers
(165-261123-00001), short numbers, and BPJS's own public numbers (165, 1500 400,
Pandawa 0811-8-165-165, CHIKA 08118750400, SMS 08777 5500 400, 021-4212938), which the
prompts read out and which identify nobody.
"""
from __future__ import annotations

import datetime as dt
import re

#: BPJS Kesehatan's public service numbers (digits only, national form): never masked.
PUBLIC_NUMBERS = frozenset({
    "165", "1500400", "0214212938",
    "08118165165",       # WhatsApp Pandawa 0811-8-165-165
    "08118750400",       # CHIKA
    "087775500400",      # SMS check 08777 5500 400
})

_SEP = r"[ .\-]"
# A mobile number: 08..., 628..., +628..., digit groups separated by at most one separator.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+62" + _SEP + r"?|62" + _SEP + r"?|0)8\d(?:" + _SEP + r"?\d){7,10}(?![\d])"
)
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]*)@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})\b")
_DIGITS = re.compile(r"\d{8,}")        # greedy, so a match is always a whole run of digits
_ANY = re.compile(r"[\d@]")             # nothing to mask without a digit or an @
_KEYS_ONLY = re.compile(r"[\d#*\s]+")


def _national_digits(s: str) -> str:
    d = re.sub(r"\D", "", s)
    if d.startswith("62"):
        d = "0" + d[2:]
    return d


def _mask_phone_match(m: re.Match) -> str:
    s = m.group(0)
    national = _national_digits(s)
    if not 10 <= len(national) <= 13 or national in PUBLIC_NUMBERS:
        return s
    digits = sum(c.isdigit() for c in s)
    # keep the operator prefix (08xx, or 62 8xx / +62 8xx) and the last 3 digits
    head = 4 if national == re.sub(r"\D", "", s) else 5
    out, seen = [], 0
    for c in s:
        if c.isdigit():
            out.append(c if seen < head or seen >= digits - 3 else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def _keep(s: str, head: int, tail: int) -> str:
    return s[:head] + "*" * (len(s) - head - tail) + (s[len(s) - tail:] if tail else "")


def _is_dob(s: str) -> bool:
    day, month, year = int(s[:2]), int(s[2:4]), int(s[4:])
    if not 1900 <= year <= 2099:
        return False
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _mask_digits(s: str, dates: bool) -> str:
    n = len(s)
    if s in PUBLIC_NUMBERS:
        return s
    if n == 16:
        return _keep(s, 4, 4)
    if n == 15:
        return _keep(s, 2, 3)
    if n == 13:
        return _keep(s, 3, 3)
    if n == 8:
        return _keep(s, 0, 4) if dates and _is_dob(s) else s
    if n >= 12:
        return _keep(s, 4, 0)
    return s


def _mask_email_match(m: re.Match) -> str:
    return m.group(1) + "*" * len(m.group(2)) + "@" + m.group(3)


def mask_pii(text: str) -> str:
    """Mask NIKs, card numbers, virtual accounts, NPWPs, mobile numbers, e-mail addresses
    and typed dates of birth in free text (see the module docstring for the rules)."""
    if not text or not _ANY.search(text):
        return text
    runs = _DIGITS.findall(text)
    dates = bool(_KEYS_ONLY.fullmatch(text)) or any(len(r) in (13, 16) for r in runs)
    if "@" in text:
        text = _EMAIL.sub(_mask_email_match, text)
    text = _PHONE.sub(_mask_phone_match, text)
    return _DIGITS.sub(lambda m: _mask_digits(m.group(0), dates), text)


# ---- values of a known kind ---------------------------------------------------------------
_KINDS = {
    "nik": "nik", "nik_anggota": "nik", "no_kk": "nik", "kk": "nik",
    "kartu": "card", "no_kartu": "card", "card": "card",
    "va": "va", "virtual_account": "va",
    "hp": "phone", "phone": "phone", "telepon": "phone", "no_hp": "phone",
    "email": "email",
    "npwp": "npwp",
    "tgl_lahir": "dob", "tanggal_lahir": "dob", "dob": "dob",
    "nama": "name", "name": "name",
    "alamat": "address", "address": "address",
}


def mask_value(kind: str, value: str | None) -> str:
    """Mask a value whose kind is known: `nik`, `card`/`kartu`, `va`, `phone`/`hp`, `email`,
    `npwp`, `dob`/`tgl_lahir` (DDMMYYYY or ISO), `name`/`nama` (first name and initials),
    `address`/`alamat` (only the last part, the city, kept). Unknown kinds fall back to
    `mask_pii`, so a field nobody declared is still scanned."""
    if value is None:
        return ""
    v = str(value)
    k = _KINDS.get(kind.lower(), kind.lower())
    if not v:
        return v
    if k in ("nik", "va", "card", "npwp"):
        d = re.sub(r"\D", "", v)
        if k == "card" or len(d) == 13:
            return _keep(d, 3, 3) if len(d) >= 8 else "*" * len(d)
        if len(d) == 15:
            return _keep(d, 2, 3)
        return _keep(d, 4, 4) if len(d) >= 12 else "*" * len(d)
    if k == "phone":
        masked = _PHONE.sub(_mask_phone_match, v)
        if masked == v and _national_digits(v) not in PUBLIC_NUMBERS:
            d = re.sub(r"\D", "", v)
            return _keep(d, min(4, len(d) // 3), min(3, len(d) // 3))
        return masked
    if k == "email":
        m = _EMAIL.fullmatch(v.strip())
        return _mask_email_match(m) if m else "*" * len(v)
    if k == "dob":
        d = re.sub(r"\D", "", v)
        if len(d) == 8 and "-" in v:               # ISO 1985-08-17
            return d[:4] + "-**-**"
        return _keep(d, 0, 4) if len(d) == 8 else "*" * len(d)
    if k == "name":
        parts = v.split()
        return " ".join([parts[0]] + [p[0] + "." for p in parts[1:]])
    if k == "address":
        parts = [p.strip() for p in v.split(",") if p.strip()]
        return ("***, " + parts[-1]) if len(parts) > 1 else "***"
    return mask_pii(v)
