"""The certificate PDF, rendered from the signed credential's own facts.

:func:`render_certificate` takes the credential's payload (plain data) and the compact JWS,
so the printed facts and the signed facts cannot disagree: both come from one dict. The JWS
is embedded in the PDF as ``<number>.jws``, and the QR code carries the verify URL.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

import segno
from babel import Locale
from babel.dates import format_date

from iris.certificates import artwork
from iris.certificates.wording import WORDING, language_for
from iris.core.pdf import FileAttachment, register_generated, render_template_pdf

__all__ = ["attachment_name", "certificate_context", "render_certificate"]

#: How many corridors, services or sites fit on the page; the rest are summarised.
MAX_LISTED = 6


def _svg(draw: Any) -> Any:
    return lambda: str(draw()).encode("utf-8")


#: The artwork's URLs in the PDF (``iris-asset:gen/certificate/...``), registered once.
ART = {
    "frame": register_generated("certificate/frame.svg", _svg(artwork.frame_svg)),
    "rosette": register_generated("certificate/rosette.svg", _svg(artwork.rosette_svg)),
    "emblem": register_generated("certificate/emblem.svg", _svg(artwork.emblem_svg)),
    "seal": register_generated("certificate/seal.svg", _svg(artwork.seal_svg)),
    "arrow": register_generated("certificate/arrow.svg", _svg(artwork.arrow_svg)),
}
_BAND_URLS = {
    "horizontal": register_generated(
        "certificate/band-h.svg", _svg(lambda: artwork.band_tiles()["horizontal"])
    ),
    "vertical": register_generated(
        "certificate/band-v.svg", _svg(lambda: artwork.band_tiles()["vertical"])
    ),
}


def _band() -> dict[str, str]:
    return artwork.band_tiles() | _BAND_URLS


def attachment_name(number: str) -> str:
    return f"{number}.jws"


@lru_cache(maxsize=1024)
def _country(code: str, language: str) -> str:
    return str(Locale.parse(language).territories.get(code.upper(), code.upper()))


@lru_cache(maxsize=1024)
def _date(iso: str, language: str) -> str:
    pattern = "d MMMM y" if language == "en" else "long"
    return format_date(date.fromisoformat(iso), pattern, locale=language)


def _listed(items: list[Any], languages: list[str]) -> dict[str, Any]:
    shown = items[:MAX_LISTED]
    rest = len(items) - len(shown)
    more = " / ".join(WORDING[code]["more"].format(count=rest) for code in languages)
    return {"items": shown, "more": more if rest > 0 else ""}


def _qr_data_uri(url: str) -> str:
    """The QR code as a small PNG, drawn without smoothing (``image-rendering: pixelated``).

    A raster image is one drawing operation; the same code as an SVG path cost WeasyPrint
    tens of milliseconds per certificate.
    """
    qr = segno.make(url, error="m", micro=False)
    return str(qr.png_data_uri(scale=4, border=0, dark="#0b2f6b"))


def certificate_context(payload: dict[str, Any], *, language: str | None = None) -> dict[str, Any]:
    """The template's plain-dict context, in English and ``language``."""
    holder = payload["holder"]
    lang = language or language_for(holder["country"])
    languages = ["en"] if lang == "en" else ["en", lang]
    standard = payload["standard"]

    def text(key: str, **kwargs: Any) -> dict[str, str]:
        return {code: WORDING[code][key].format(**kwargs) for code in languages}

    scope = payload.get("scope", {})
    corridors = [
        {
            code: (_country(c["origin"], code), _country(c["destination"], code))
            for code in languages
        }
        for c in scope.get("corridors", [])
    ]
    return {
        "lang": lang,
        "languages": languages,
        "bilingual": len(languages) == 2,
        "t": {
            key: text(key)
            for key in WORDING["en"]
            if key not in {"conforms", "signed_note", "more"}
        },
        "conforms": text(
            "conforms",
            standard=standard.get("name", "IRIS Standard"),
            version=standard.get("version", ""),
        ),
        "signed_note": text(
            "signed_note", file=attachment_name(payload["number"]), kid=payload["kid"][:16]
        ),
        "number": payload["number"],
        "holder": {
            "name": holder["name"],
            "trade_names": holder.get("trade_names", []),
            "city": holder.get("city", ""),
            "country": {code: _country(holder["country"], code) for code in languages},
            "registration_numbers": sorted(holder.get("registration_numbers", {}).items()),
        },
        "corridors": _listed(corridors, languages),
        "services": _listed(
            [str(s).replace("_", " ").capitalize() for s in scope.get("services", [])], languages
        ),
        "sites": _listed(list(scope.get("sites", [])), languages),
        "audit_company": payload["audit_company"],
        "standard": standard,
        "dates": {
            key: {code: _date(payload[key], code) for code in languages}
            for key in ("issued_at", "original_issued_at", "expires_at")
        },
        "verify_url": payload["verify_url"],
        # a zero-width space after each slash lets the long URL wrap at its slashes
        "verify_url_display": payload["verify_url"]
        .replace("/", "/\u200b")
        .replace("/\u200b/\u200b", "//"),
        "qr": _qr_data_uri(payload["verify_url"]),
        "art": {**ART, "band": _band()},
    }


def render_certificate(
    payload: dict[str, Any], credential: str, *, language: str | None = None
) -> bytes:
    """The A4 certificate PDF with the credential attached."""
    context = certificate_context(payload, language=language)
    attachment = FileAttachment(
        name=attachment_name(payload["number"]),
        data=credential.encode("ascii"),
        description="IRIS certificate credential (compact JWS, EdDSA/Ed25519)",
        media_type="application/jose",
    )
    return render_template_pdf(
        "pdf/certificate.html",
        context,
        attachments=[attachment],
        stylesheets=["certificate.css"],
    )
