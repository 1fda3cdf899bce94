"""The PDF renderer: packaged assets only, one font configuration, fonts embedded."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from iris.core import pdf
from iris.core.pdf import FileAttachment, PdfError

FONT_CSS = (
    '<style>@font-face { font-family: T; src: url("iris-asset:fonts/NotoSans-Regular.ttf"); }'
    " body { font-family: T; }</style>"
)


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _font_names(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(re.sub(r"^[A-Z]{6}\+", "", str(font.get_object()["/BaseFont"]).lstrip("/")))
    return names


def test_packaged_font_renders_polish_ukrainian_and_russian():
    data = pdf.render_pdf(
        f"<html>{FONT_CSS}<body><p>Zażółć gęślą jaźń. Ґанок, їжак. Съешь ещё.</p></body></html>"
    )
    assert data.startswith(b"%PDF")
    text = _text(data)
    assert "Zażółć gęślą jaźń." in text
    assert "Ґанок, їжак." in text
    assert "Съешь ещё." in text
    assert _font_names(data) == {"T"}  # no system fallback font crept in


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.png",
        "https://example.org/x.css",
        "file:///etc/passwd",
        "iris-asset:fonts/../../../pyproject.toml",
        "iris-asset:secrets/key.pem",
        "ftp://example.org/x",
    ],
)
def test_any_other_resource_stops_the_render(url):
    with pytest.raises(PdfError, match="refused"):
        pdf.render_pdf(f'<html>{FONT_CSS}<body><img src="{url}"><p>x</p></body></html>')


def test_stylesheet_link_outside_the_package_is_refused_too():
    with pytest.raises(PdfError, match="refused"):
        pdf.render_pdf(
            f'<html><head><link rel="stylesheet" href="file:///etc/hosts">{FONT_CSS}</head><body>x</body></html>'
        )


def test_one_font_configuration_per_process():
    pdf.render_pdf(f"<html>{FONT_CSS}<body>a</body></html>")
    first = pdf.font_configuration()
    pdf.render_pdf(f"<html>{FONT_CSS}<body>b</body></html>")
    assert pdf.font_configuration() is first


def test_attachments_are_embedded_files():
    data = pdf.render_pdf(
        f"<html>{FONT_CSS}<body>a</body></html>",
        attachments=[FileAttachment(name="facts.jws", data=b"aaa.bbb.ccc", description="facts")],
    )
    assert PdfReader(io.BytesIO(data)).attachments == {"facts.jws": [b"aaa.bbb.ccc"]}


def test_templates_get_a_plain_context_and_fail_on_missing_values():
    from iris.certificates.document import certificate_context
    from tests.certificates.test_document import sample_payload

    context = certificate_context(sample_payload("PL", "Agencja <b>Łódź</b>", "KRS", "0000123456"))
    html = pdf.render_html("pdf/certificate.html", context)
    assert "Agencja &lt;b&gt;Łódź&lt;/b&gt;" in html  # autoescaped
    with pytest.raises(PdfError, match="undefined"):
        pdf.render_html("pdf/certificate.html", {})
