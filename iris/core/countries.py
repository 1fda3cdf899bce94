"""Countries (ISO 3166-1 alpha-2) and languages (ISO 639-1), named in the user's locale.

Names come from the CLDR data shipped with Babel, so they exist in every interface
language (en, pl, uk, ru) without translation work of our own.
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from flask_babel import get_locale

#: CLDR territory codes that are not countries (regions, groupings, private use).
_NOT_COUNTRIES = frozenset(
    {"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
)

#: Countries of the scheme's current corridors, offered first in country lists.
COMMON_COUNTRIES = ("PL", "UA", "CZ", "DE", "LT", "MD", "GE", "PH", "NP", "IN", "BD", "VN", "UZ")


def _locale_code() -> str:
    try:
        return str(get_locale() or "en")
    except RuntimeError:  # outside a request
        return "en"


@cache
def _territories(locale: str) -> dict[str, str]:
    names = Locale.parse(locale).territories
    return {
        code: str(name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


@cache
def _choices(locale: str) -> tuple[tuple[str, str], ...]:
    names = _territories(locale)
    common = [(c, names[c]) for c in COMMON_COUNTRIES if c in names]
    rest = sorted(
        ((c, n) for c, n in names.items() if c not in COMMON_COUNTRIES), key=lambda cn: cn[1]
    )
    return tuple(common + rest)


def country_codes() -> frozenset[str]:
    return frozenset(_territories("en"))


def country_choices() -> list[tuple[str, str]]:
    """(code, name) pairs: the common corridor countries first, then all others by name."""
    return list(_choices(_locale_code()))


def country_name(code: str | None) -> str:
    """The country's name in the user's language; the code itself if unknown."""
    if not code:
        return ""
    return _territories(_locale_code()).get(code.upper(), code)


@cache
def _languages(locale: str) -> dict[str, str]:
    names = Locale.parse(locale).languages
    return {code: str(name) for code, name in names.items() if len(code) == 2}


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return _languages(_locale_code()).get(code, code)


def language_choices(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(code, name) pairs for the given ISO 639-1 codes, in the user's language."""
    names = _languages(_locale_code())
    return [(c, names.get(c, c)) for c in codes]
