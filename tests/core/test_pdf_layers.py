"""One-page PDFs composed of a WeasyPrint layer and text set with the packaged fonts."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from iris.core import pdf, pdf_layers
from iris.core.pdf import FileAttachment
from iris.core.pdf_layers import MM, Canvas, PageLayer, PdfFont, compose_pdf, wrap

FONT = PdfFont(pdf.ASSET_ROOTS["fonts"] / "NotoSans-Regular.ttf", "NotoSans-Regular")
LAYER_HTML = (
    '<html><head><style>@font-face { font-family: T; src: url("iris-asset:fonts/NotoSans-Bold.ttf"); }'
    " @page { size: A4 landscape; margin: 0 } body { font-family: T; margin: 20mm }"
    "</style></head><body><p>Stała treść: Zażółć gęślą jaźń</p>"
    '<div style="width: 20mm; height: 20mm; background: #0b2f6b"></div></body></html>'
)


def _compose(**kwargs) -> bytes:
    canvas = Canvas(297, 210)
    canvas.text(20, 100, "Zmienna treść: Ґанок, їжак", FONT, 12, "#1c2733")
    canvas.text(277, 120, "right-aligned", FONT, 10, "#0b2f6b", align="right")
    return compose_pdf(
        layers=[PageLayer.from_pdf(pdf.render_pdf(LAYER_HTML))],
        canvas=canvas,
        attachments=[FileAttachment(name="facts.jws", data=b"aaa.bbb.ccc")],
        metadata={"Title": "Próba"},
        lang="pl",
        **kwargs,
    )


def _fonts(reader: PdfReader) -> set[str]:
    return {
        re.sub(r"^[A-Z]{6}\+", "", str(font.get_object()["/BaseFont"]).lstrip("/"))
        for font in reader.pages[0]["/Resources"]["/Font"].values()
    }


def test_a_layer_and_set_text_make_one_page_with_both_texts_and_the_attachment():
    reader = PdfReader(io.BytesIO(_compose()))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Stała treść: Zażółć gęślą jaźń" in text  # from the layer (a form)
    assert "Zmienna treść: Ґанок, їжак" in text  # set on the page
    assert reader.attachments == {"facts.jws": [b"aaa.bbb.ccc"]}
    assert reader.metadata is not None and reader.metadata.title == "Próba"
    assert _fonts(reader) == {"NotoSans-Regular"}


def test_the_set_font_is_subset_to_its_glyphs_with_harfbuzz_subset():
    reader = PdfReader(io.BytesIO(_compose()))
    font = reader.pages[0]["/Resources"]["/Font"]["/F0"].get_object()
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    embedded = descriptor["/FontFile2"].get_object().get_data()
    if pdf_layers._harfbuzz_subsetter() is None:  # libharfbuzz-subset0 missing: the whole font
        assert embedded == FONT.data
    else:
        assert len(embedded) < len(FONT.data) / 3


def test_without_harfbuzz_subset_the_whole_font_is_embedded_and_text_still_extracts(monkeypatch):
    monkeypatch.setattr(pdf_layers, "_harfbuzz_subsetter", lambda: None)
    reader = PdfReader(io.BytesIO(_compose()))
    font = reader.pages[0]["/Resources"]["/Font"]["/F0"].get_object()
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert descriptor["/FontFile2"].get_object().get_data() == FONT.data
    assert "Zmienna treść: Ґанок, їжак" in reader.pages[0].extract_text()


def test_right_aligned_text_ends_at_its_anchor():
    canvas = Canvas(297, 210)
    width = canvas.text(277, 120, "right-aligned", FONT, 10, "#000000", align="right")
    (run,) = canvas.runs
    assert run.x + run.width == pytest.approx(277)
    assert width == pytest.approx(FONT.width("right-aligned", 10) / MM)


def test_wrap_keeps_every_line_within_the_width_and_loses_no_word():
    text = "Międzynarodowa Agencja Pośrednictwa Pracy " * 5 + "Bardzodługiesłowobezspacji" * 4
    lines = wrap(text, FONT, 10, 150)
    assert len(lines) > 3
    assert all(FONT.width(line, 10) <= 150 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_wrap_breaks_a_url_at_its_slashes():
    lines = wrap("http://127.0.0.1:5000/verify/IRIS-PL-2025-0000423", FONT, 7, 110, breaks="/")
    assert lines == ["http://127.0.0.1:5000/verify/", "IRIS-PL-2025-0000423"]


def test_characters_the_font_lacks_are_reported_and_measured_wide():
    assert FONT.covers("Łódź Київ")
    assert not FONT.covers("შპს")
    assert FONT.width("შპს", 10) >= 3 * 10  # one em each: laid out elsewhere, must still fit
