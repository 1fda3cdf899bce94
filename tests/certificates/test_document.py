"""The certificate PDF: bilingual, legible in every script, carrying its signed credential."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from iris.certificates.document import (
    GEOMETRY,
    attachment_name,
    certificate_context,
    layout_certificate,
    render_certificate,
)
from iris.certificates.wording import WORDING
from iris.core import signing
from iris.core.signing import KeyRing


def sample_payload(
    country: str, name: str, reg_kind: str, reg_value: str, *, kid: str = "k" * 43
) -> dict:
    number = f"IRIS-{country}-2025-0000423" if country == "PL" else f"IRIS-{country}-2025-0000012"
    return {
        "v": 1,
        "type": "IRISCertificate",
        "number": number,
        "holder": {
            "name": name,
            "trade_names": [],
            "country": country,
            "city": "Łódź" if country == "PL" else "Київ",
            "registration_numbers": {reg_kind: reg_value},
        },
        "scope": {
            "corridors": [{"origin": "UA", "destination": "PL"}],
            "services": ["Recruitment"],
            "sites": ["Łódź, ul. Piotrkowska 120"],
        },
        "audit_company": {"name": "Certum Audit Polska Sp. z o.o.", "country": "PL"},
        "standard": {"name": "IRIS Standard", "version": "1.2"},
        "issued_at": "2025-11-21",
        "original_issued_at": "2025-11-21",
        "expires_at": "2028-11-20",
        "verify_url": f"http://127.0.0.1:5000/verify/{number}",
        "kid": kid,
    }


@pytest.fixture
def ring(tmp_path):
    ring = KeyRing(tmp_path / "keys")
    ring.generate()
    return ring


def _text(data: bytes) -> str:
    # Normalise whitespace only: pypdf puts line breaks where the layout wraps.
    return re.sub(
        r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    )


def test_polish_holder_text_survives_intact_in_english_and_polish(ring):
    payload = sample_payload(
        "PL", "Agencja Pracy „Żółw” Sp. z o.o.", "KRS", "0000123456", kid=ring.current().kid
    )
    data = render_certificate(payload, ring.sign(payload))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1  # one page: an agency frames it
    text = _text(data)
    assert "Agencja Pracy „Żółw” Sp. z o.o." in text
    assert "Łódź" in text
    assert "CERTIFICATE" in text and "CERTYFIKAT" in text
    assert "Ważny do" in text and "20 listopada 2028" in text
    assert "20 November 2028" in text
    assert payload["number"] in text
    assert "Ukraina" in text and "Polska" in text  # corridor in Polish too


def test_ukrainian_holder_text_survives_intact(ring):
    payload = sample_payload(
        "UA",
        "ТОВ «Кадрове агентство Дніпро-Праця» ґ є ї ʼ",
        "EDRPOU",
        "43215678",
        kid=ring.current().kid,
    )
    data = render_certificate(payload, ring.sign(payload))
    text = _text(data)
    assert "ТОВ «Кадрове агентство Дніпро-Праця» ґ є ї ʼ" in text
    assert "СЕРТИФІКАТ" in text
    assert "Дійсний до" in text
    assert "Київ" in text


def test_russian_wording_for_a_kazakh_holder(ring):
    payload = sample_payload(
        "KZ", "ТОО «Кадровый центр»", "BIN", "180540012345", kid=ring.current().kid
    )
    text = _text(render_certificate(payload, ring.sign(payload)))
    assert "СЕРТИФИКАТ" in text and "Действителен до" in text


def test_the_attached_credential_verifies_and_states_the_printed_facts(ring):
    payload = sample_payload("PL", "Agencja Łódź", "KRS", "0000123456", kid=ring.current().kid)
    jws = ring.sign(payload, typ="iris-certificate+jwt")
    data = render_certificate(payload, jws)
    attachments = PdfReader(io.BytesIO(data)).attachments
    (extracted,) = attachments[attachment_name(payload["number"])]
    assert extracted.decode() == jws
    assert signing.verify(extracted.decode(), ring.jwks()) == payload


def test_context_is_plain_data():
    context = certificate_context(sample_payload("PL", "A", "KRS", "1"))
    allowed = (str, int, bool, type(None))

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        else:
            assert isinstance(value, allowed), type(value)

    walk(context)
    assert "A" in [run["text"] for run in context["runs"]]


def test_long_scope_is_summarised_not_overflowing(ring):
    payload = sample_payload("PL", "Agencja Łódź", "KRS", "0000123456", kid=ring.current().kid)
    payload["scope"]["corridors"] = [
        {"origin": c, "destination": "PL"}
        for c in ["UA", "PH", "IN", "NP", "BD", "VN", "GE", "MD", "UZ"]
    ]
    data = render_certificate(payload, ring.sign(payload))
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "and 3 more: see the registry" in _text(data)


# --------------------------------------------------------------------------- the two layers


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    ("country", "lang"), [("PL", "pl"), ("UA", "uk"), ("KZ", "ru"), ("GB", "en")]
)
def test_fixed_wording_is_printed_in_english_and_the_holders_language(ring, country, lang):
    payload = sample_payload(country, "Agencja Łódź", "KRS", "0000123456", kid=ring.current().kid)
    text = _text(render_certificate(payload, ring.sign(payload)))
    languages = ["en"] if lang == "en" else ["en", lang]
    for code in languages:
        words = WORDING[code]
        for key in (
            "certify", "employer_pays", "services", "sites", "corridors", "issued",
            "original_issued", "expires", "certification_body", "verify", "status_note",
        ):  # fmt: skip
            assert _flat(words[key]) in text, (code, key)
        assert words["conforms"].format(standard="IRIS Standard", version="1.2") in text
    if lang == "en":
        assert WORDING["pl"]["expires"] not in text and WORDING["uk"]["expires"] not in text


def test_the_certificates_own_facts_are_printed(ring):
    payload = sample_payload("PL", "Agencja Pracy „Żółw” Sp. z o.o.", "KRS", "0000123456")
    payload["kid"] = ring.current().kid
    payload["holder"]["trade_names"] = ["Żółw Praca"]
    payload["scope"]["services"] = ["recruitment", "temporary_work"]
    text = _text(render_certificate(payload, ring.sign(payload)))
    for fact in (
        payload["number"],
        "Agencja Pracy „Żółw” Sp. z o.o.",
        "Żółw Praca",
        "Łódź, Poland / Polska",
        "KRS 0000123456",
        "Recruitment, Temporary work",
        "Łódź, ul. Piotrkowska 120",
        "Ukraine",
        "Ukraina",
        "Certum Audit Polska Sp. z o.o.",
        "21 November 2025",
        "21 listopada 2025",
        "20 November 2028",
        "20 listopada 2028",
        attachment_name(payload["number"]),
        ring.current().kid[:16],
    ):
        assert fact in text, fact
    # the verify URL wraps at its slashes
    assert payload["verify_url"] in text.replace("/ ", "/")


def _long_payload(kid: str) -> dict:
    payload = sample_payload(
        "PL",
        "Międzynarodowa Agencja Pośrednictwa Pracy i Doradztwa Personalnego „Wschód–Zachód "
        "Integracja” Spółka z ograniczoną odpowiedzialnością Spółka Komandytowa Oddział w Łodzi",
        "KRS",
        "0000123456",
        kid=kid,
    )
    holder = payload["holder"]
    holder["trade_names"] = [f"Marka handlowa numer {i}" for i in range(10)]
    holder["registration_numbers"] = {f"REJ{i}": f"{i}" * 12 for i in range(8)}
    scope = payload["scope"]
    scope["corridors"] = [
        {"origin": origin, "destination": "GB"}
        for origin in ["CD", "BA", "VC", "UA", "PH", "IN", "NP", "BD", "VN", "GE", "MD"]
    ]
    scope["services"] = ["recruitment", "temporary_work", "career_counselling"] * 8
    scope["sites"] = [f"Biuro regionalne nr {i}, ul. Piotrkowska {i}, Łódź" for i in range(20)]
    payload["audit_company"]["name"] = "Międzynarodowe Centrum Certyfikacji Systemów " * 6
    payload["verify_url"] = (
        "https://certificates.registry-of-ethical-recruitment.example.org/public/verify/"
        + payload["number"]
    )
    return payload


def _slots() -> list[tuple[str, float, float, float, float]]:
    """The rectangles (left, top, right, bottom in mm) that the facts may be printed in."""
    g = GEOMETRY
    holder, scope, facts, verify, footer = (
        g["holder"], g["scope"], g["facts"], g["verify"], g["footer"],
    )  # fmt: skip
    top, bottom = g["details_top"], g["details_bottom"]
    return [
        ("number", 150.0, g["number"]["caption_top"], g["number"]["right"], g["number"]["bar_bottom"]),
        ("holder", holder["centre"] - holder["width"] / 2, holder["top"],
         holder["centre"] + holder["width"] / 2, holder["bottom"]),
        ("scope", scope["left"], top, scope["left"] + scope["width"], bottom),
        ("facts", facts["value_x"], top, facts["right"], bottom),
        ("verify", verify["text_x"], top, verify["right"], bottom),
        ("footer", footer["text_x"], footer["top"], footer["right"], 197.0),  # inner frame rule at 197
    ]  # fmt: skip


def _box(run) -> tuple[float, float, float, float]:
    """The run's ink box in mm: cap height above the baseline, descenders below."""
    size = run.size * 25.4 / 72
    return (run.x, run.baseline - 0.76 * size, run.x + run.width, run.baseline + 0.24 * size)


@pytest.mark.parametrize("language", ["pl", "uk", "en"])
def test_long_name_and_scope_stay_inside_their_slots_without_overlapping(ring, language):
    canvas = layout_certificate(_long_payload(ring.current().kid), language=language)
    slots = _slots()
    boxes = []
    for run in canvas.runs:
        box = _box(run)
        inside = [
            name
            for name, left, top, right, bottom in slots
            if box[0] >= left - 0.01 and box[2] <= right + 0.01
            and box[1] >= top - 0.01 and box[3] <= bottom + 0.01
        ]  # fmt: skip
        assert inside, f"{run.text!r} at {box} is outside every slot"
        boxes.append((run.text, box))
    for i, (text_a, a) in enumerate(boxes):
        for text_b, b in boxes[i + 1 :]:
            overlap = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            assert not (overlap[0] > 0.01 and overlap[1] > 0.01), (text_a, text_b)


def test_long_name_is_printed_whole_and_long_lists_are_summarised(ring):
    payload = _long_payload(ring.current().kid)
    data = render_certificate(payload, ring.sign(payload))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (842, 595)  # A4 landscape
    text = _text(data)
    assert _flat(payload["holder"]["name"]) in text
    assert "Marka handlowa numer 0" in text
    assert "REJ0 000000000000" in text
    for words in ("more: see the registry", "innych: zob. rejestr"):
        assert text.count(words) >= 4  # trade names, registrations, services, sites, corridors
    assert "Congo - Kinshasa" in text  # the first corridor, however long its name
    assert "Międzynarodowe Centrum Certyfikacji" in text


def test_a_name_in_a_script_the_packaged_fonts_lack_is_still_printed(ring):
    name = "შპს „დასაქმების სააგენტო“"  # Georgian: the fonts cover Latin and Cyrillic only
    payload = sample_payload("PL", name, "KRS", "0000123456", kid=ring.current().kid)
    assert not layout_certificate(payload).covered()
    data = render_certificate(payload, ring.sign(payload))
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    text = _text(data)
    assert name in text
    assert "Ważny do" in text and "20 listopada 2028" in text
