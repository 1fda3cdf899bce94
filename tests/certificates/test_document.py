"""The certificate PDF: bilingual, legible in every script, carrying its signed credential."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from iris.certificates.document import attachment_name, certificate_context, render_certificate
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
    assert context["qr"].startswith("data:image/png")


def test_long_scope_is_summarised_not_overflowing(ring):
    payload = sample_payload("PL", "Agencja Łódź", "KRS", "0000123456", kid=ring.current().kid)
    payload["scope"]["corridors"] = [
        {"origin": c, "destination": "PL"}
        for c in ["UA", "PH", "IN", "NP", "BD", "VN", "GE", "MD", "UZ"]
    ]
    data = render_certificate(payload, ring.sign(payload))
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "and 3 more: see the registry" in _text(data)
