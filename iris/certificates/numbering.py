"""Certificate numbers: ``IRIS-<country>-<year>-<6-digit sequence><check digit>``.

Example: ``IRIS-PL-2025-0000423`` is the 42nd certificate issued in Poland in 2025; its
last digit, 3, is the check digit.

Check digit: the Damm algorithm (H. Michael Damm, 2004), chosen over Luhn and ISO 7064
MOD 11-10 because it is a single decimal digit (never an ``X``) that detects **every**
single-digit error and **every** swap of two adjacent digits, where Luhn misses ``09``↔``90``.
It is computed over the whole number, not only the sequence: the country letters as their
IBAN-style values (A=10 … Z=35), then the four-digit year, then the six-digit sequence. So a
mistyped year is caught as surely as a mistyped sequence digit; a mistyped country letter
is caught in about 93% of cases (measured over every letter pair), and the country must
also be one that has certificates.

:func:`typo_candidates` lists the valid numbers one keystroke away from what someone
typed (one digit changed or two adjacent digits swapped); the verify page looks them up
to suggest "did you mean ...".

Pure functions: no Flask, no database.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "MAX_SEQUENCE",
    "CertificateNumber",
    "InvalidNumber",
    "check_digit",
    "damm",
    "format_number",
    "is_valid",
    "normalise",
    "parse_number",
    "typo_candidates",
]

PREFIX = "IRIS"
MAX_SEQUENCE = 999_999

# The totally anti-symmetric quasigroup of order 10 from Damm's thesis.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm(digits: str) -> int:
    """The Damm check digit of a string of decimal digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def _payload_digits(country: str, year: int, sequence: int) -> str:
    letters = "".join(str(ord(c) - 55) for c in country)  # A=10 ... Z=35
    return f"{letters}{year:04d}{sequence:06d}"


def check_digit(country: str, year: int, sequence: int) -> int:
    return damm(_payload_digits(country, year, sequence))


class CertificateNumber(NamedTuple):
    country: str
    year: int
    sequence: int

    def __str__(self) -> str:
        return format_number(self.country, self.year, self.sequence)


def format_number(country: str, year: int, sequence: int) -> str:
    """The printed number; raises ``ValueError`` for values outside the format."""
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"country must be two capital letters (ISO 3166 alpha-2), got {country!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year must have four digits, got {year}")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence must be 1 to {MAX_SEQUENCE}, got {sequence}")
    return f"{PREFIX}-{country}-{year:04d}-{sequence:06d}{check_digit(country, year, sequence)}"


class InvalidNumber(ValueError):
    """``reason`` is ``format`` (not shaped like a number) or ``check_digit`` (a typo)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


_DASHES = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "_": "-",
    }
)
_SHAPE = re.compile(r"(?:IRIS)?-?([A-Z]{2})-?([0-9OIL]{4})-?([0-9OIL]{7})")
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CANONICAL = re.compile(r"IRIS-[A-Z]{2}-[0-9]{4}-[0-9]{7}")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str | None:
    """The canonical form of something a person typed, or None if it is not shaped like one.

    Accepts lower case, spaces, any kind of dash or none, a missing ``IRIS`` prefix, and the
    letters O, I and l typed for the digits 0 and 1. Does not check the check digit.
    """
    if _CANONICAL.fullmatch(text):  # as printed, the common case (verification by number)
        return text
    compact = _SPACE.sub("", text.translate(_DASHES)).upper()
    if len(compact) > 40:
        return None
    match = _SHAPE.fullmatch(compact)
    if not match:
        return None
    country, year, rest = match.groups()
    year = year.translate(_DIGIT_LOOKALIKES)
    rest = rest.translate(_DIGIT_LOOKALIKES)
    return f"{PREFIX}-{country}-{year}-{rest}"


def parse_number(text: str) -> CertificateNumber:
    """Parse and check a number; raise :class:`InvalidNumber` saying what is wrong."""
    canonical = normalise(text)
    if canonical is None:
        raise InvalidNumber(
            "format",
            "A certificate number looks like IRIS-PL-2025-0000423: "
            "IRIS, a two-letter country code, the year and seven digits.",
        )
    _, country, year_s, rest = canonical.split("-")
    year, sequence, check = int(year_s), int(rest[:6]), int(rest[6])
    if sequence == 0 or check_digit(country, year, sequence) != check:
        raise InvalidNumber(
            "check_digit",
            "This number's check digit does not match: one of its digits is probably mistyped.",
        )
    return CertificateNumber(country, year, sequence)


def is_valid(text: str) -> bool:
    try:
        parse_number(text)
    except InvalidNumber:
        return False
    return True


def typo_candidates(text: str) -> list[str]:
    """Valid numbers one keystroke away from ``text`` (excluding ``text`` itself).

    One keystroke: one digit of the year, sequence or check digit replaced, or two adjacent
    digits swapped. About one in ten of the ~110 variants passes the check digit, so the
    list is short enough to look up in a single query.
    """
    canonical = normalise(text)
    if canonical is None:
        return []
    _, country, year_s, rest = canonical.split("-")
    digits = year_s + rest  # 11 digits: year (4), sequence (6), check (1)
    variants: set[str] = set()
    for i, original in enumerate(digits):
        for d in "0123456789":
            if d != original:
                variants.add(digits[:i] + d + digits[i + 1 :])
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            variants.add(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
    found = []
    for v in sorted(variants):
        year, sequence, check = int(v[:4]), int(v[4:10]), int(v[10])
        if year >= 1000 and sequence and check_digit(country, year, sequence) == check:
            found.append(f"{PREFIX}-{country}-{v[:4]}-{v[4:]}")
    return found
