"""Accent-insensitive search text: "Lodz" finds "Łódź", "kyiv" does not need to be exact."""

from __future__ import annotations

import re
import unicodedata

#: Letters that carry no combining mark to strip (NFKD leaves them alone).
_SPECIAL = str.maketrans(
    {"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
     "ı": "i", "ʼ": "", "’": "", "'": ""}
)  # fmt: skip
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower case, without accents or punctuation, words separated by single spaces.

    Diacritics are removed from Latin letters (ł → l, ó → o, ż → z); other scripts keep
    their letters whole (й, ї and ё are letters of their own, not accented ones).
    """
    out = []
    for ch in unicodedata.normalize("NFC", text).lower().translate(_SPECIAL):
        if "a" <= ch <= "z" or ch.isdigit() or not ch.isalpha():
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        base = decomposed[0]
        out.append(base if base.isascii() else ch)
    return _NOT_WORD.sub(" ", "".join(out)).strip()


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
