"""Registration numbers: normalisation and check digits (pure functions, no Flask).

- NIP (Polish tax id): 10 digits, the last a check digit (weights 6 5 7 2 3 4 5 6 7, mod 11;
  a remainder of 10 never occurs in a valid NIP).
- REGON (Polish statistical id): 9 digits (weights 8 9 2 3 4 5 6 7) or 14 digits (weights
  2 4 8 5 0 9 7 3 6 1 2 4 8, the first nine being a valid REGON of the main unit); mod 11,
  a remainder of 10 counts as 0.
- KRS (National Court Register): 10 digits, usually written with leading zeros; no check
  digit, so only the format is checked.
- KRAZ (register of employment agencies): the entry number, digits only (written
  "KRAZ 12345" or "12345/2"); no check digit.
- EDRPOU (Ukrainian company code): 8 digits, check digit by the State Statistics Service's
  two-pass mod-11 rule.
"""

from __future__ import annotations

import random
import re

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
REGON9_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
REGON14_WEIGHTS = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)


def digits_only(value: str) -> str:
    """``value`` without spaces, dashes, dots and a leading country prefix (``PL``, ``UA``)."""
    value = value.strip().upper()
    value = re.sub(r"^(PL|UA|KRAZ|KRS|NIP|REGON)[\s:.-]*", "", value)
    return re.sub(r"[\s.\-/]", "", value)


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def nip_check_digit(first9: str) -> int | None:
    """The NIP check digit for nine digits, or None when no valid NIP starts so."""
    rest = _weighted(first9, NIP_WEIGHTS) % 11
    return None if rest == 10 else rest


def nip_valid(value: str) -> bool:
    v = digits_only(value)
    if not re.fullmatch(r"\d{10}", v):
        return False
    return nip_check_digit(v[:9]) == int(v[9])


def regon_check_digit(body: str) -> int:
    weights = REGON9_WEIGHTS if len(body) == 8 else REGON14_WEIGHTS
    return _weighted(body, weights) % 11 % 10


def regon_valid(value: str) -> bool:
    v = digits_only(value)
    if re.fullmatch(r"\d{9}", v):
        return regon_check_digit(v[:8]) == int(v[8])
    if re.fullmatch(r"\d{14}", v):
        return regon_valid(v[:9]) and regon_check_digit(v[:13]) == int(v[13])
    return False


def krs_normalise(value: str) -> str:
    """KRS numbers are written with leading zeros: ``12345`` is ``0000012345``."""
    v = digits_only(value)
    return v.zfill(10) if re.fullmatch(r"\d{1,10}", v) else v


def krs_valid(value: str) -> bool:
    v = digits_only(value)
    return bool(re.fullmatch(r"\d{1,10}", v)) and int(v) > 0


def kraz_valid(value: str) -> bool:
    v = digits_only(value)
    return bool(re.fullmatch(r"\d{1,6}", v)) and int(v) > 0


def edrpou_check_digit(first7: str) -> int:
    code = int(first7 + "0")
    weights = (7, 1, 2, 3, 4, 5, 6) if 30_000_000 <= code < 60_000_000 else (1, 2, 3, 4, 5, 6, 7)
    rest = _weighted(first7, weights) % 11
    if rest == 10:
        rest = _weighted(first7, tuple(w + 2 for w in weights)) % 11
        if rest == 10:
            rest = 0
    return rest


def edrpou_valid(value: str) -> bool:
    v = digits_only(value)
    return bool(re.fullmatch(r"\d{8}", v)) and edrpou_check_digit(v[:7]) == int(v[7])


# Generators: valid numbers for demo data and tests ------------------------------------------


def make_nip(rng: random.Random, office: str = "725") -> str:
    """A valid NIP starting with a tax office's three-digit code."""
    while True:
        first9 = office + "".join(str(rng.randint(0, 9)) for _ in range(9 - len(office)))
        check = nip_check_digit(first9)
        if check is not None:
            return first9 + str(check)


def make_regon(rng: random.Random, prefix: str = "47") -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(8 - len(prefix)))
    return body + str(regon_check_digit(body))


def make_krs(rng: random.Random) -> str:
    return "0000" + "".join(str(rng.randint(0, 9)) for _ in range(6))


def make_edrpou(rng: random.Random, first: str = "4") -> str:
    first7 = first + "".join(str(rng.randint(0, 9)) for _ in range(7 - len(first)))
    return first7 + str(edrpou_check_digit(first7))
