"""The certificate PDF, rendered from the signed credential's own facts.

:func:`render_certificate` takes the credential's payload (plain data) and the compact JWS,
so the printed facts and the signed facts cannot disagree: both come from one dict. The JWS
is embedded in the PDF as ``<number>.jws``, and the QR code carries the verify URL.

The page is drawn in two layers (see :mod:`iris.core.pdf_layers` for why):

* the fixed layer — frame, guilloché bands, rosette, emblem, seal and every fixed word in
  English and the holder's language (titles, captions, statements, the standard) — is laid
  out by WeasyPrint from ``templates/pdf/certificate_frame.html`` once per process for each
  language and standard version (:func:`fixed_layer`), and copied into every certificate
  as one form;
* the certificate's facts — number, holder, registration numbers, scope, dates,
  certification body, verify URL, QR code, the signature note — are set on top in fixed
  slots (:data:`GEOMETRY`) with the packaged fonts. A slot has a size or a line cap: a long
  holder name is set smaller (down to three lines), a long scope list is cut with "and N
  more: see the registry", as the registry has the whole list.

Text with characters the packaged fonts lack (a name in another script) is laid out at the
same positions by WeasyPrint instead (``templates/pdf/certificate.html``), which falls back
to the system's fonts; slower, and rare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

import segno
from babel import Locale
from babel.dates import format_date

from iris.certificates import artwork
from iris.certificates.wording import WORDING, language_for
from iris.core.pdf import (
    ASSET_ROOTS,
    FileAttachment,
    register_generated,
    render_html,
    render_pdf,
    render_template_pdf,
)
from iris.core.pdf_layers import MM, Canvas, PageLayer, PdfFont, compose_pdf, wrap

__all__ = [
    "GEOMETRY",
    "attachment_name",
    "certificate_context",
    "fixed_layer",
    "layout_certificate",
    "render_certificate",
]


def _svg(draw: Any) -> Any:
    return lambda: str(draw()).encode("utf-8")


#: The artwork's URLs in the fixed layer (``iris-asset:gen/certificate/...``), registered once.
ART = {
    "frame": register_generated("certificate/frame.svg", _svg(artwork.frame_svg)),
    "rosette": register_generated("certificate/rosette.svg", _svg(artwork.rosette_svg)),
    "emblem": register_generated("certificate/emblem.svg", _svg(artwork.emblem_svg)),
    "seal": register_generated("certificate/seal.svg", _svg(artwork.seal_svg)),
}
_BAND_URLS = {
    "horizontal": register_generated(
        "certificate/band-h.svg", _svg(lambda: artwork.band_tiles()["horizontal"])
    ),
    "vertical": register_generated(
        "certificate/band-v.svg", _svg(lambda: artwork.band_tiles()["vertical"])
    ),
}

# --------------------------------------------------------------------------- the page's slots

PAGE_W, PAGE_H = artwork.PAGE_W, artwork.PAGE_H
#: Colours of the printed facts (the fixed layer's CSS uses the same).
NAVY, GOLD, INK, MUTED = "#0b2f6b", "#a88232", "#1c2733", "#5d6b7c"

_DETAILS_TOP, _DETAILS_BOTTOM = 121.0, 180.5
_FACT_ROWS = ("issued", "original_issued", "expires", "standard", "certification_body")
_ROW_TOPS = (121.0, 130.4, 139.8, 149.2, 158.6)

#: Where everything goes, in mm from the page's top-left corner. The fixed layer's template
#: places its captions from these numbers, and the facts are set into the slots they leave.
GEOMETRY: dict[str, Any] = {
    "number": {"right": 270.8, "top": 21.5, "caption_top": 18.0, "bar_bottom": 30.8},
    # the heading (title, its translation, subtitle): lower when English stands alone
    "heading_top": {"bilingual": 34.0, "en": 38.0},
    "certify_top": 60.2,
    "holder": {"top": 70.0, "bottom": 100.0, "centre": PAGE_W / 2, "width": 215.0},
    "statements_top": 101.2,
    "details_top": _DETAILS_TOP,
    "details_bottom": _DETAILS_BOTTOM,
    "scope": {
        "left": 22.0,
        "width": 88.0,
        # caption top; value lines (8 pt, 3.67 mm each) start 3.4 mm below it. The
        # corridors, the longest list, come last: a short scope leaves room at the bottom.
        "services": {"caption_top": 126.3, "lines": 2},
        "sites": {"caption_top": 138.2, "lines": 2},
        "corridors": {"caption_top": 150.0, "lines": 7},
    },
    "facts": {
        "rule_x": 113.0,
        "label_x": 117.0,
        "label_width": 32.0,
        "value_x": 151.5,
        "right": 195.0,
        "rows": [
            {"key": key, "top": top, "height": round(bottom - top, 2)}
            for key, top, bottom in zip(
                _FACT_ROWS, _ROW_TOPS, (*_ROW_TOPS[1:], _DETAILS_BOTTOM), strict=True
            )
        ],
    },
    "verify": {
        "rule_x": 202.0,
        "qr_x": 206.0,
        "qr_size": 25.0,
        "text_x": 234.0,
        "right": 275.0,
        "url_top": 128.2,
        "url_lines": 3,
        "note_top": 139.4,
    },
    "footer": {"rule_y": 182.6, "text_x": 30.5, "right": 275.0, "top": 184.4, "lines": 3},
}


def _frame_geometry() -> dict[str, Any]:
    """GEOMETRY with the derived numbers the fixed layer's template needs."""
    g = GEOMETRY
    facts, number = g["facts"], g["number"]
    return g | {
        "details_height": round(g["details_bottom"] - g["details_top"], 2),
        "number": number
        | {
            "caption_right": round(PAGE_W - number["right"], 2),
            "bar_right": 22.0,
            "bar_height": round(number["bar_bottom"] - number["caption_top"], 2),
        },
        "facts": facts
        | {
            "row_width": round(facts["right"] - facts["label_x"], 2),
            "value_offset": round(facts["value_x"] - facts["label_x"], 2),
        },
        "verify": g["verify"]
        | {"text_width": round(g["verify"]["right"] - g["verify"]["text_x"], 2)},
    }


# --------------------------------------------------------------------------- wording helpers


def attachment_name(number: str) -> str:
    return f"{number}.jws"


@lru_cache(maxsize=1024)
def _country(code: str, language: str) -> str:
    return str(Locale.parse(language).territories.get(code.upper(), code.upper()))


@lru_cache(maxsize=1024)
def _date(iso: str, language: str) -> str:
    pattern = "d MMMM y" if language == "en" else "long"
    return format_date(date.fromisoformat(iso), pattern, locale=language)


def _languages(payload: dict[str, Any], language: str | None) -> tuple[str, list[str]]:
    lang = language or language_for(payload["holder"]["country"])
    return lang, ["en"] if lang == "en" else ["en", lang]


def _more(count: int, languages: list[str]) -> str:
    return " / ".join(WORDING[code]["more"].format(count=count) for code in languages)


# --------------------------------------------------------------------------- the fixed layer


def frame_context(lang: str, standard_name: str, standard_version: str) -> dict[str, Any]:
    """The fixed layer's plain-dict context: the fixed wording in English and ``lang``."""
    languages = ["en"] if lang == "en" else ["en", lang]

    def text(key: str, **kwargs: Any) -> dict[str, str]:
        return {code: WORDING[code][key].format(**kwargs) for code in languages}

    return {
        "lang": lang,
        "bilingual": len(languages) == 2,
        "t": {
            key: text(key)
            for key in WORDING["en"]
            if key not in {"conforms", "signed_note", "more"}
        },
        "conforms": text("conforms", standard=standard_name, version=standard_version),
        "standard": {"name": standard_name, "version": standard_version},
        "art": {**ART, "band": artwork.band_tiles() | _BAND_URLS},
        "g": _frame_geometry(),
    }


@lru_cache(maxsize=16)
def fixed_layer(lang: str, standard_name: str, standard_version: str) -> PageLayer:
    """The fixed layer for one language and standard, laid out once per process."""
    data = render_template_pdf(
        "pdf/certificate_frame.html",
        frame_context(lang, standard_name, standard_version),
        stylesheets=["certificate.css"],
    )
    return PageLayer.from_pdf(data)


# --------------------------------------------------------------------------- the facts


@cache
def _fonts() -> tuple[PdfFont, PdfFont]:
    root = ASSET_ROOTS["fonts"]
    return (
        PdfFont(root / "NotoSans-Regular.ttf", "NotoSans-Regular"),
        PdfFont(root / "NotoSans-Bold.ttf", "NotoSans-Bold"),
    )


@dataclass(frozen=True)
class _Style:
    bold: bool
    size: float  # pt
    color: str
    leading: float = 1.35  # line height, in em
    tracking: float = 0.0  # letter-spacing, pt

    @property
    def font(self) -> PdfFont:
        return _fonts()[1 if self.bold else 0]

    @property
    def line(self) -> float:
        """Line height in mm."""
        return self.size * self.leading / MM

    def baseline(self, top: float) -> float:
        """The baseline of a line whose box starts at ``top`` (mm), as CSS places it."""
        font = self.font
        ascent, descent = font.ascent / 1000, -font.descent / 1000
        return top + ((self.leading - ascent - descent) / 2 + ascent) * self.size / MM

    def at(self, size: float) -> _Style:
        return _Style(self.bold, size, self.color, self.leading, self.tracking)

    def width(self, text: str) -> float:
        """The width of ``text`` in mm."""
        return self.font.width(text, self.size, self.tracking) / MM

    def wrap(self, text: str, width: float, breaks: str = " ") -> list[str]:
        return wrap(text, self.font, self.size, width * MM, breaks=breaks)


NUMBER = _Style(True, 13, NAVY, tracking=0.6)
NAME = _Style(True, 21, INK, leading=1.15)
TRADE = _Style(False, 9.5, MUTED)
WHERE = _Style(True, 10, INK)
REG_KIND = _Style(True, 8, NAVY)
REG_VALUE = _Style(False, 8, MUTED)
ITEM = _Style(False, 8, INK, leading=1.3)
ITEM_LOCAL = _Style(False, 7.4, MUTED, leading=1.3)
MORE = _Style(False, 7.4, MUTED, leading=1.3)
DATE = _Style(False, 8.4, INK)
DATE_LOCAL = _Style(False, 7.6, MUTED)
EXPIRY = _Style(True, 8.4, NAVY)
BODY = _Style(False, 8.4, INK)
URL = _Style(False, 7, NAVY)
NOTE = _Style(False, 6.2, MUTED)

#: Holder-name sizes tried in turn, largest first; the name takes at most three lines.
NAME_SIZES = (21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10)
NAME_MAX_LINES = 3


def _ellipsize(text: str, style: _Style, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` mm on one line."""
    if style.width(text) <= width:
        return text
    while text and style.width(text.rstrip() + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _cap_lines(lines: list[str], style: _Style, width: float, limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [
        *lines[: limit - 1],
        _ellipsize(lines[limit - 1] + " " + " ".join(lines[limit:]), style, width),
    ]


def _fit_joined(
    items: list[str], sep: str, languages: list[str], style: _Style, width: float, limit: int
) -> list[str]:
    """As many of ``items`` as fit in ``limit`` lines, with "and N more" for the rest."""
    for shown in range(len(items), 0, -1):
        rest = len(items) - shown
        text = sep.join(items[:shown]) + (f" ({_more(rest, languages)})" if rest else "")
        lines = style.wrap(text, width)
        if len(lines) <= limit:
            return lines
    return _cap_lines(style.wrap(items[0], width), style, width, limit) if items else []


class _Layout:
    """Sets one certificate's facts on a canvas."""

    def __init__(self, payload: dict[str, Any], lang: str, languages: list[str]) -> None:
        self.payload = payload
        self.lang = lang
        self.languages = languages
        self.bilingual = len(languages) == 2
        self.canvas = Canvas(PAGE_W, PAGE_H)

    def line(self, x: float, top: float, text: str, style: _Style, align: str = "left") -> float:
        if not text:
            return 0.0
        return self.canvas.text(
            x,
            style.baseline(top),
            text,
            style.font,
            style.size,
            style.color,
            tracking=style.tracking,
            align=align,
        )

    def lines(
        self, x: float, top: float, lines: list[str], style: _Style, align: str = "left"
    ) -> float:
        for i, text in enumerate(lines):
            self.line(x, top + i * style.line, text, style, align)
        return top + len(lines) * style.line

    def local(self, values: dict[str, str]) -> str | None:
        return values[self.lang] if self.bilingual else None

    # -- slots

    def number(self) -> None:
        g = GEOMETRY["number"]
        self.line(g["right"], g["top"], self.payload["number"], NUMBER, align="right")

    def holder(self) -> None:
        g = GEOMETRY["holder"]
        holder = self.payload["holder"]
        centre, width = g["centre"], g["width"]
        country = {code: _country(holder["country"], code) for code in self.languages}
        where = f"{holder['city']}, {country['en']}" if holder.get("city") else country["en"]
        if self.bilingual and country[self.lang] != country["en"]:
            where += f" / {country[self.lang]}"
        where = _ellipsize(where, WHERE, width)
        trade = _fit_joined(
            list(holder.get("trade_names", [])), " · ", self.languages, TRADE, width, 1
        )
        registrations = sorted(holder.get("registration_numbers", {}).items())
        # below the name: gold rule, trade names, place, registration numbers
        rest = 1.8 + 0.5 + 1.2 + WHERE.line
        rest += (1.2 + TRADE.line) if trade else 0
        rest += (1.0 + REG_VALUE.line) if registrations else 0
        room = g["bottom"] - g["top"]
        name = str(holder["name"])
        for size in NAME_SIZES:
            style = NAME.at(size)
            lines = style.wrap(name, width)
            if len(lines) <= NAME_MAX_LINES and len(lines) * style.line + rest <= room:
                break
        else:
            lines = _cap_lines(lines, style, width, NAME_MAX_LINES)
        top = g["top"] + (room - len(lines) * style.line - rest) / 2
        y = self.lines(centre, top, lines, style, align="center")
        y += 1.8
        self.canvas.rule(centre - 30, y + 0.25, centre + 30, y + 0.25, GOLD, 0.5)
        y += 0.5
        if trade:
            y = self.lines(centre, y + 1.2, trade, TRADE, align="center")
        y = self.lines(centre, y + 1.2, [where], WHERE, align="center")
        if registrations:
            self.registrations(registrations, centre, y + 1.0, width)

    def registrations(
        self, registrations: list[tuple[str, str]], centre: float, top: float, width: float
    ) -> None:
        gap = 4.4
        pairs = [(f"{kind} ", str(value)) for kind, value in registrations]

        def total(shown: list[tuple[str, str]], more: str) -> float:
            widths = [REG_KIND.width(k) + REG_VALUE.width(v) for k, v in shown]
            return (
                sum(widths) + gap * (len(shown) - 1) + (gap + REG_VALUE.width(more) if more else 0)
            )

        shown, more = pairs, ""
        while len(shown) > 1 and total(shown, more) > width:
            shown = shown[:-1]
            more = _more(len(pairs) - len(shown), self.languages)
        x = centre - min(total(shown, more), width) / 2
        for kind, value in shown:
            x += self.line(x, top, kind, REG_KIND)
            x += self.line(
                x, top, _ellipsize(value, REG_VALUE, width - REG_KIND.width(kind)), REG_VALUE
            )
            x += gap
        if more:
            self.line(x, top, more, REG_VALUE)

    def corridors(self) -> None:
        g, scope = GEOMETRY["scope"], self.payload.get("scope", {})
        x, width = g["left"], g["width"]
        top = g["corridors"]["caption_top"] + 3.4
        limit = g["corridors"]["lines"]
        arrow = 5.4  # 1.2 mm, a 3 mm arrow, 1.2 mm
        items = scope.get("corridors", [])
        plans = []
        for corridor in items:
            names = {
                code: (_country(corridor["origin"], code), _country(corridor["destination"], code))
                for code in self.languages
            }
            en = names["en"]
            local = names.get(self.lang) if self.bilingual else None
            en_width = ITEM.width(en[0]) + arrow + ITEM.width(en[1])
            local_width = (
                ITEM_LOCAL.width(local[0]) + arrow + ITEM_LOCAL.width(local[1])
                if local and local != en
                else 0.0
            )
            one_line = en_width + (2.0 + local_width if local_width else 0) <= width
            plans.append(
                (en, local if local_width else None, 1 if one_line or not local_width else 2)
            )
        if not plans:
            self.line(x, top, "—", ITEM)
            return
        used = 0
        y = top
        for index, (en, local, count) in enumerate(plans):
            remaining = len(plans) - index - 1
            if used + count + (1 if remaining else 0) > limit:
                break
            x1 = self.corridor(x, y, en, ITEM, width)
            if local and count == 1:
                self.corridor(x1 + 2.0, y, local, ITEM_LOCAL, width, baseline_of=ITEM)
            elif local:
                self.corridor(x + 3.0, y + ITEM.line, local, ITEM_LOCAL, width - 3.0)
            y += count * ITEM.line
            used += count
        else:
            return
        shown = index
        self.lines(x, y, MORE.wrap(_more(len(plans) - shown, self.languages), width)[:1], MORE)

    def corridor(
        self,
        x: float,
        top: float,
        pair: tuple[str, str],
        style: _Style,
        width: float,
        baseline_of: _Style | None = None,
    ) -> float:
        """``origin → destination`` at ``top``; the x where it ends."""
        line_style = baseline_of or style
        total = style.width(pair[0]) + 5.4 + style.width(pair[1])
        if total > width:  # a very long country name: smaller, on the same line
            style = style.at(style.size * width / total)
        baseline = line_style.baseline(top)
        font = style.font
        x += self.canvas.text(x, baseline, pair[0], font, style.size, style.color)
        mid = baseline - 0.36 * style.size / MM  # the arrow at mid-height of the letters
        self.canvas.arrow(x + 1.2, mid, 3.0, GOLD, 0.3)
        x += 5.4
        x += self.canvas.text(x, baseline, pair[1], font, style.size, style.color)
        return x

    def scope_lists(self) -> None:
        g, scope = GEOMETRY["scope"], self.payload.get("scope", {})
        services = [str(s).replace("_", " ").capitalize() for s in scope.get("services", [])]
        sites = [str(s) for s in scope.get("sites", [])]
        for key, items, sep in (("services", services, ", "), ("sites", sites, "; ")):
            slot = g[key]
            lines = _fit_joined(items, sep, self.languages, ITEM, g["width"], slot["lines"])
            self.lines(g["left"], slot["caption_top"] + 3.4, lines or ["—"], ITEM)

    def facts(self) -> None:
        g = GEOMETRY["facts"]
        x, width = g["value_x"], g["right"] - g["value_x"]
        rows = {row["key"]: row for row in g["rows"]}
        for key, field_ in (
            ("issued", "issued_at"),
            ("original_issued", "original_issued_at"),
            ("expires", "expires_at"),
        ):
            top = rows[key]["top"] + 0.8
            style = EXPIRY if key == "expires" else DATE
            y = self.lines(x, top, [_date(self.payload[field_], "en")], style)
            if self.bilingual:
                self.line(x, y, _date(self.payload[field_], self.lang), DATE_LOCAL)
        row = rows["certification_body"]
        top = row["top"] + 0.8
        name = str(self.payload["audit_company"]["name"])
        for size in (8.4, 7.8, 7.2, 6.6):
            style = BODY.at(size)
            lines = style.wrap(name, width)
            if top + len(lines) * style.line <= row["top"] + row["height"] - 0.5:
                break
        else:
            limit = int((row["height"] - 1.3) / style.line)
            lines = _cap_lines(lines, style, width, limit)
        self.lines(x, top, lines, style)

    def verify(self) -> None:
        g = GEOMETRY["verify"]
        url = str(self.payload["verify_url"])
        width = g["right"] - g["text_x"]
        # at its slashes if it fits so, else anywhere (a long host name), smaller if need be
        for size in (7.0, 6.5, 6.0, 5.5):
            style = URL.at(size)
            lines = style.wrap(url, width, breaks="/")
            if len(lines) > g["url_lines"]:
                lines = style.wrap(url, width, breaks=url)
            if len(lines) <= g["url_lines"]:
                break
        else:
            lines = _cap_lines(lines, style, width, g["url_lines"])
        self.lines(g["text_x"], g["url_top"], lines, style)
        self.qr(url, g["qr_x"], GEOMETRY["details_top"], g["qr_size"])

    def qr(self, url: str, x: float, y: float, size: float) -> None:
        """The QR code to ``url``: one filled path of its dark modules, runs merged."""
        matrix = segno.make(url, error="m", micro=False).matrix
        module = size / len(matrix)
        rects = []
        for row, bits in enumerate(matrix):
            col = 0
            while col < len(bits):
                if bits[col]:
                    start = col
                    while col < len(bits) and bits[col]:
                        col += 1
                    rects.append(
                        (x + start * module, y + row * module, (col - start) * module, module)
                    )
                else:
                    col += 1
        self.canvas.rectangles(rects, NAVY)

    def signed_note(self) -> None:
        g = GEOMETRY["footer"]
        payload = self.payload
        width = g["right"] - g["text_x"]
        texts = [
            WORDING[code]["signed_note"].format(
                file=attachment_name(payload["number"]), kid=payload["kid"][:16]
            )
            for code in self.languages
        ]
        for size in (6.2, 5.8, 5.4):
            style = NOTE.at(size)
            blocks = [style.wrap(text, width) for text in texts]
            if sum(len(block) for block in blocks) <= g["lines"]:
                break
        y = g["top"]
        for block in blocks:
            y = self.lines(g["text_x"], y, block, style) + 0.3


def layout_certificate(payload: dict[str, Any], *, language: str | None = None) -> Canvas:
    """The certificate's facts set in their slots (text runs and marks, in mm)."""
    lang, languages = _languages(payload, language)
    layout = _Layout(payload, lang, languages)
    layout.number()
    layout.holder()
    layout.corridors()
    layout.scope_lists()
    layout.facts()
    layout.verify()
    layout.signed_note()
    return layout.canvas


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _metadata(payload: dict[str, Any]) -> dict[str, str]:
    standard = payload["standard"]
    return {
        "Title": f"IRIS certificate {payload['number']}",
        "Author": str(payload["audit_company"]["name"]),
        "Subject": f"{payload['holder']['name']}, {standard['name']} {standard['version']}",
        "Keywords": f"IRIS, ethical recruitment, certificate, {payload['number']}",
        "Creator": "IRIS Certify",
    }


def certificate_context(payload: dict[str, Any], *, language: str | None = None) -> dict[str, Any]:
    """``templates/pdf/certificate.html``'s plain-dict context: the facts as positioned lines."""
    lang, _ = _languages(payload, language)
    canvas = layout_certificate(payload, language=language)
    return _context(payload, lang, canvas)


def _context(payload: dict[str, Any], lang: str, canvas: Canvas) -> dict[str, Any]:
    runs = []
    for run in canvas.runs:
        if run.align == "center":
            box = f"left: {_fmt(run.anchor - 150)}mm; width: 300mm; text-align: center"
        elif run.align == "right":
            box = f"right: {_fmt(PAGE_W - run.anchor)}mm; text-align: right"
        else:
            box = f"left: {_fmt(run.x)}mm"
        runs.append(
            {
                "text": run.text,
                "box": box,
                # line-height 1: the baseline sits at the font's ascent below the box's top
                # minus half the difference between the line and the font's height
                "top": _fmt(run.baseline - 0.888 * run.size / MM),
                "size": _fmt(run.size),
                "color": run.color,
                "bold": run.font is _fonts()[1],
                "tracking": _fmt(run.tracking),
            }
        )
    return {
        "lang": lang,
        "number": payload["number"],
        "holder_name": payload["holder"]["name"],
        "audit_company": payload["audit_company"]["name"],
        "standard": f"{payload['standard']['name']} {payload['standard']['version']}",
        "runs": runs,
    }


def render_certificate(
    payload: dict[str, Any], credential: str, *, language: str | None = None
) -> bytes:
    """The A4 certificate PDF with the credential attached."""
    lang, _ = _languages(payload, language)
    standard = payload["standard"]
    layers = [
        fixed_layer(
            lang, str(standard.get("name", "IRIS Standard")), str(standard.get("version", ""))
        )
    ]
    canvas = layout_certificate(payload, language=language)
    covered = canvas.covered()
    if not covered:
        html = render_html("pdf/certificate.html", _context(payload, lang, canvas))
        layers.append(PageLayer.from_pdf(render_pdf(html, stylesheets=["certificate_text.css"])))
    attachment = FileAttachment(
        name=attachment_name(payload["number"]),
        data=credential.encode("ascii"),
        description="IRIS certificate credential (compact JWS, EdDSA/Ed25519)",
        media_type="application/jose",
    )
    return compose_pdf(
        layers=layers,
        canvas=canvas,
        attachments=[attachment],
        metadata=_metadata(payload),
        lang=lang,
        set_text=covered,
    )
