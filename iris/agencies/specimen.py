"""Small one-page PDF documents, written by hand: specimen licences for the demo and tests.

No PDF library is needed for a page of plain text: the file has a catalogue, one page,
two standard fonts (Helvetica, which every reader has) and one content stream. The
standard fonts cover Latin-1 only, so Polish and Cyrillic text is transliterated; these
documents are visibly marked as specimens.
"""

from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "«": '"',
        "»": '"',
        "—": "-",
        "–": "-",
        "’": "'",
        "№": "No.",
    }
)

_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ь": "",
    "ю": "iu",
    "я": "ia",
    "ы": "y",
    "э": "e",
    "ё": "io",
    "ъ": "",
    "'": "'",
}


def to_latin(text: str) -> str:
    """ASCII text for the standard PDF fonts: Polish letters lose their marks, Cyrillic is
    transliterated (Ukrainian national system, simplified)."""
    out = []
    for ch in text.translate(_EXTRA):
        low = ch.lower()
        if low in _CYRILLIC:
            latin = _CYRILLIC[low]
            out.append(latin.capitalize() if ch != low else latin)
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFKD", "".join(out))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _pdf_string(text: str) -> str:
    text = to_latin(text)
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def specimen_pdf(
    title: str, lines: list[str], footer: str = "SPECIMEN - demonstration data"
) -> bytes:
    """A valid one-page A4 PDF with a bold title, lines of text and a grey footer."""
    ops = ["BT", "/F2 16 Tf", "56 780 Td", f"{_pdf_string(title)} Tj", "/F1 11 Tf", "0 -30 Td"]
    for line in lines:
        ops += [f"{_pdf_string(line)} Tj", "0 -17 Td"]
    ops += ["ET", "BT", "0.55 g", "/F2 10 Tf", "56 60 Td", f"{_pdf_string(footer)} Tj", "ET"]
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
