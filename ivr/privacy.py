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

import contextlib
import datetime as dt
import os
import re
from pathlib import Path

from ivr.grammar import DIGIT_ENGLISH, DIGIT_SHORT_FORMS, DIGIT_WORDS

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
    if "*" in v and k in ("nik", "va", "card", "npwp", "phone", "dob"):
        return v   # masked already (a collected number never holds a *): masking twice would hide what was kept
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


# ---- what the caller says or types, decided by what is being collected ---------------------
#: Collect validators whose values identify nobody (the class of care, 1-3). Every other
#: collect -- nik, card, date, phone, npwp, and one without a validator, which may hold
#: anything -- is personal data: what the caller types or says into it is hidden whole.
PUBLIC_VALIDATORS = frozenset({"kelas"})

_WORD_OR_DIGIT = re.compile(r"[^\W\d_]+|\d")
_QUOTED = re.compile(r'"[^"]*"')


def input_is_public(node) -> bool:
    """May the caller's input at `node` (a tree Node, or None) be shown in clear? Only at a
    menu (a key or word picks an option) or at a collect whose validator says the value
    identifies nobody. Anywhere else -- a personal collect, a prompt that does not listen,
    holding for an agent -- keys could still be a NIK typed ahead, so they are hidden."""
    if node is None:
        return False
    if node.kind == "menu":
        return True
    return node.kind == "collect" and node.data.validator in PUBLIC_VALIDATORS


#: Digit words a caller may say: the grammar's, with the short and English forms Whisper writes.
_SPOKEN_DIGIT = re.compile(r"\b(?:%s)\b" % "|".join(sorted({*DIGIT_WORDS, *DIGIT_SHORT_FORMS, *DIGIT_ENGLISH},
                                                              key=len, reverse=True)),
                           re.IGNORECASE)
#: How many digits a short form stands for ("nono" is "nol nol"); every other word is one.
_DIGIT_WORD_COUNT = {w: len(full.split()) for w, full in DIGIT_SHORT_FORMS.items()}
#: From this many digits on, something said is treated as a number that may be personal.
SPOKEN_NUMBER_DIGITS = 4


def spoken_number(text: str, digits: str | None = None) -> bool:
    """Did the caller say a number of 4 or more digits (numerals or digit words, however
    grouped)? Wherever it is said -- even at a menu, where input is otherwise shown -- such
    a number may be a NIK or a date of birth, so it is masked like input to a personal
    collect."""
    if digits and sum(c.isdigit() for c in digits) >= SPOKEN_NUMBER_DIGITS:
        return True
    t = text or ""
    said = sum(_DIGIT_WORD_COUNT.get(w.lower(), 1) for w in _SPOKEN_DIGIT.findall(t))
    return sum(c.isdigit() for c in t) + said >= SPOKEN_NUMBER_DIGITS


def mask_input(text: str) -> str:
    """Hide what a caller typed or said into a personal collect (see `input_is_public`):
    every digit and every word becomes one `*`, so neither numerals nor digit words
    ("tiga satu tujuh empat") nor word lengths survive; `#`, separators and punctuation
    stay, so a trainer still sees how the input was entered. In a transcript line the
    caller's words are the quoted part (`"lima satu." [tidak dikenali]`): only that is
    hidden, and a driver's note in parentheses ("(suara tidak jelas)") is left alone."""
    if not text:
        return text
    if '"' in text:
        return _QUOTED.sub(lambda m: _WORD_OR_DIGIT.sub("*", m.group(0)), text)
    if text.startswith("(") and text.endswith(")"):
        return text
    return _WORD_OR_DIGIT.sub("*", text)


#: Prompts that say the caller's own input back (a collect's read-back, ivr.engine.handlers):
#: private wherever what is being collected is (`input_is_public`), like the input itself.
READBACK_PROMPTS = frozenset({"readback"})
_DIGIT = re.compile(r"\d")


def prompt_is_private(node, prompt: str) -> bool:
    """Does the prompt `prompt` said at `node` carry the caller's input (a read-back of a
    NIK, a date of birth)? Then logs and transcripts hide its digits (`mask_readback`)."""
    return prompt in READBACK_PROMPTS and not input_is_public(node)


#: A digit in a read-back, except the key of an instruction ("tekan 1"): that is the
#: tree's, and shown as `*` it would read as the star key.
_READBACK_DIGIT = re.compile(r"(?<![Tt]ekan )(?<!\d)\d(?! jika)|(?<=\d)\d")


def mask_readback(text: str) -> str:
    """A read-back prompt as logs and transcripts show it: every digit of the number a `*`,
    the words and the instruction keys around them kept ("3201234567890001. Benar? ...
    tekan 1" -> "****************. Benar? ... tekan 1")."""
    return _READBACK_DIGIT.sub("*", text) if text else text


_NUMBER_KINDS = frozenset({"nik", "card", "va", "phone", "email", "npwp", "dob"})


def field_kind(name: str) -> str | None:
    """The kind of a field named for a personal number (`nik`, `tgl_lahir`, `hp`, `email`,
    ...), or None: lets a log mask a value by what it is, not by how it looks (a DOB
    "1962-03-12" looks like any date). Names and addresses are not numbers: a generic key
    such as `name` (a tree's name in the log) must not be taken for a person's."""
    kind = _KINDS.get(str(name).lower())
    return kind if kind in _NUMBER_KINDS else None


def mask_named(name: str, value, personal: bool = False) -> str:
    """A named value in a report (a call variable, a transfer field): hidden whole when it is
    `personal` (a personal collect gathered it, see `input_is_public`), masked by kind when
    its name says what it is (`field_kind`), otherwise scanned as free text (`mask_pii`)."""
    v = "" if value is None else str(value)
    if personal:
        return mask_input(v)
    return mask_value(name, v) if field_kind(name) else mask_pii(v)


# ---- files that hold personal data ---------------------------------------------------------
# Call logs, the participants/requests database (with its journal, WAL and `.tmp` files),
# call recordings and JUnit reports may hold personal data: only their owner may read them.
# Every such file is created through these helpers (one rule, one place): files 0600,
# folders created for them 0700. Folders that already exist are left as they are (a
# `--log /tmp/x.jsonl` must not change /tmp), except the tool's own data folders, which
# `private_dir(..., tighten=True)` closes when they were created open by an older version.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_dir(path, tighten: bool = False):
    """Make folder `path` (and any missing parent) with mode 0700; return it as a Path.
    With `tighten`, an existing folder owned by this user is set to 0700 too."""
    p = Path(path)
    missing = []
    q = p
    while not q.exists() and q != q.parent:
        missing.append(q)
        q = q.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:   # created meanwhile by another process
            pass
    if tighten and not missing and p.is_dir():
        _tighten(p, PRIVATE_DIR_MODE)
    return p


def _tighten(p, mode: int) -> None:
    try:
        st = p.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o777 != mode:
            os.chmod(p, mode)
    except OSError:   # not ours, or a read-only file system: leave it
        pass


def open_private(path, mode: str = "w", encoding: str | None = "utf-8"):
    """Open `path` for writing (`w`, `a`, `wb`, `ab`) as a private file: created 0600 (an
    existing file of ours is set to 0600), its missing folders 0700."""
    p = Path(path)
    private_dir(p.parent)   # creates only what is missing: /tmp or /dev stay as they are
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(p, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
    try:
        if os.path.isfile(p):
            _tighten(p, PRIVATE_FILE_MODE)
        return os.fdopen(fd, mode, encoding=None if "b" in mode else encoding)
    except BaseException:
        os.close(fd)
        raise


def make_private(path) -> None:
    """A file another library wrote (a WAV recording, an SQLite database): set it to 0600."""
    p = Path(path)
    if p.is_file():
        _tighten(p, PRIVATE_FILE_MODE)


@contextlib.contextmanager
def private_umask():
    """Files created inside (by SQLite: the database, its journal, WAL and shared-memory
    files; by a library writing a recording) get mode 0600 at most, folders 0700. The
    umask is process-wide: hold it only around the creating call."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)
