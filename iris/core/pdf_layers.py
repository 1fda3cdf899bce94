"""A one-page PDF composed from a fixed layer and a few lines of text set per document.

WeasyPrint lays a page out box by box: about a millisecond per line of text on these
machines, whatever the positioning scheme (measured: twelve short positioned blocks cost
~35 ms where a one-paragraph page costs ~6.5 ms). A document that is the same design every
time with a few facts changed — a certificate — need not pay that for its fixed parts:

* :class:`PageLayer` is the first page of a PDF (rendered once by WeasyPrint: frame,
  artwork, fixed wording with its fonts) turned into a Form XObject template. Its objects
  are parsed once per process (pypdf) and copied byte for byte into each document, so
  drawing the whole design costs one ``Do`` operator.
* :class:`Canvas` draws the variable part on top: text runs set with the packaged fonts
  (:class:`PdfFont`: advance widths from the font's own tables, no kerning — the packaged
  fonts carry no GPOS, so WeasyPrint sets them the same way), thin rules, arrows and
  filled rectangles (a QR code). :func:`wrap` breaks text into lines of a given width.
* :func:`compose_pdf` writes the page (layers first, canvas on top), the fonts subset to
  the glyphs used (HarfBuzz-subset when the system has it, about 0.3 ms a font; the whole
  font file otherwise), embedded files and document metadata, with pydyf.

The text is real text: every glyph maps back to its characters (a ToUnicode map), so it
can be searched, copied and extracted. A character the packaged fonts lack cannot be set
here (:meth:`PdfFont.covers`): the caller lays such text out with WeasyPrint instead, which
falls back to the system's fonts.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import io
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydyf

from iris.core.pdf import FileAttachment, PdfError

__all__ = [
    "MM",
    "Canvas",
    "PageLayer",
    "PdfFont",
    "TextRun",
    "compose_pdf",
    "wrap",
]

#: PDF points per millimetre.
MM = 72 / 25.4


def _hex_color(color: str) -> tuple[float, float, float]:
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"colour must be #rrggbb, not {color!r}")
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


# --------------------------------------------------------------------------- fonts


class PdfFont:
    """A packaged TrueType font: its metrics, read once, and its embedding in a document."""

    def __init__(self, path: Path, name: str) -> None:
        from fontTools.ttLib import TTFont

        self.path = path
        self.name = name
        self.data = path.read_bytes()
        font = TTFont(io.BytesIO(self.data), lazy=True)
        upem = font["head"].unitsPerEm
        scale = 1000 / upem
        metrics = font["hmtx"].metrics
        glyph_ids = {glyph: gid for gid, glyph in enumerate(font.getGlyphOrder())}
        #: codepoint -> (glyph id, advance in 1/1000 em)
        self.glyphs: dict[int, tuple[int, float]] = {
            cp: (glyph_ids[glyph], metrics[glyph][0] * scale)
            for cp, glyph in font.getBestCmap().items()
        }
        self.notdef_width = metrics[font.getGlyphOrder()[0]][0] * scale
        self.ascent = font["hhea"].ascent * scale
        self.descent = font["hhea"].descent * scale
        self.cap_height = getattr(font["OS/2"], "sCapHeight", 0) * scale or self.ascent
        head = font["head"]
        self.bbox = [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        self._subset_face: Any = None

    def covers(self, text: str) -> bool:
        """Whether every character of ``text`` has a glyph in this font."""
        glyphs = self.glyphs
        return all(ord(ch) in glyphs for ch in text)

    def width(self, text: str, size: float, tracking: float = 0.0) -> float:
        """The advance of ``text`` in points at ``size`` points (``tracking``: letter-spacing).

        A character the font lacks counts as one em, wider than most fallback glyphs, so
        that text laid out with other fonts still fits the width it was measured for.
        """
        glyphs = self.glyphs
        units = sum(glyphs[ord(ch)][1] if ord(ch) in glyphs else 1000.0 for ch in text)
        return units * size / 1000 + tracking * len(text)

    # -- embedding

    def _subset(self, gids: Iterable[int]) -> bytes:
        """The font file with only ``gids`` (glyph ids kept), or the whole file."""
        subsetter = _harfbuzz_subsetter()
        if subsetter is None:
            return self.data
        if self._subset_face is None:
            self._subset_face = subsetter.face(self.data)
        return subsetter.subset(self._subset_face, gids) or self.data


def _hb_tag(tag: bytes) -> int:
    return int.from_bytes(tag, "big")


class _HarfBuzzSubset:
    """HarfBuzz-subset through cffi (the library WeasyPrint also uses for subsetting)."""

    CDEF = """
        typedef struct hb_blob_t hb_blob_t;
        typedef struct hb_face_t hb_face_t;
        typedef struct hb_set_t hb_set_t;
        typedef struct hb_subset_input_t hb_subset_input_t;
        hb_blob_t *hb_blob_create(const char *data, unsigned int length, int mode,
                                  void *user_data, void *destroy);
        void hb_blob_destroy(hb_blob_t *blob);
        const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
        hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
        void hb_face_destroy(hb_face_t *face);
        hb_blob_t *hb_face_reference_blob(hb_face_t *face);
        void hb_set_add(hb_set_t *set, unsigned int codepoint);
        hb_subset_input_t *hb_subset_input_create_or_fail(void);
        void hb_subset_input_destroy(hb_subset_input_t *input);
        hb_set_t *hb_subset_input_glyph_set(hb_subset_input_t *input);
        hb_set_t *hb_subset_input_set(hb_subset_input_t *input, int set_type);
        void hb_subset_input_set_flags(hb_subset_input_t *input, unsigned int value);
        hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
    """
    READONLY = 1  # HB_MEMORY_MODE_READONLY
    FLAGS = 0x1 | 0x2  # HB_SUBSET_FLAGS_NO_HINTING | HB_SUBSET_FLAGS_RETAIN_GIDS
    DROP_TABLE_TAG = 3  # HB_SUBSET_SETS_DROP_TABLE_TAG
    DROP = tuple(_hb_tag(t) for t in (b"GSUB", b"GPOS", b"GDEF", b"STAT", b"DSIG"))

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi, self.lib = ffi, lib
        self._keep: list[Any] = []

    def face(self, data: bytes) -> Any:
        buffer = self.ffi.new("char[]", data)
        self._keep.append(buffer)  # the face reads the bytes in place for the process's life
        blob = self.lib.hb_blob_create(
            buffer, len(data), self.READONLY, self.ffi.NULL, self.ffi.NULL
        )
        return self.lib.hb_face_create(blob, 0)

    def subset(self, face: Any, gids: Iterable[int]) -> bytes | None:
        lib, ffi = self.lib, self.ffi
        request = lib.hb_subset_input_create_or_fail()
        if request == ffi.NULL:
            return None
        try:
            glyph_set = lib.hb_subset_input_glyph_set(request)
            for gid in gids:
                lib.hb_set_add(glyph_set, gid)
            lib.hb_subset_input_set_flags(request, self.FLAGS)
            drop = lib.hb_subset_input_set(request, self.DROP_TABLE_TAG)
            for tag in self.DROP:
                lib.hb_set_add(drop, tag)
            result = lib.hb_subset_or_fail(face, request)
        finally:
            lib.hb_subset_input_destroy(request)
        if result == ffi.NULL:
            return None
        blob = lib.hb_face_reference_blob(result)
        try:
            length = ffi.new("unsigned int *")
            pointer = lib.hb_blob_get_data(blob, length)
            return bytes(ffi.unpack(pointer, length[0])) if length[0] else None
        finally:
            lib.hb_blob_destroy(blob)
            lib.hb_face_destroy(result)


_hb_lock = threading.Lock()
_hb: _HarfBuzzSubset | None = None
_hb_loaded = False


def _harfbuzz_subsetter() -> _HarfBuzzSubset | None:
    """HarfBuzz-subset if the system has it (``libharfbuzz-subset0``), else None."""
    global _hb, _hb_loaded
    if not _hb_loaded:
        with _hb_lock:
            if not _hb_loaded:
                try:
                    import cffi

                    ffi = cffi.FFI()
                    ffi.cdef(_HarfBuzzSubset.CDEF)
                    name = ctypes.util.find_library("harfbuzz-subset") or "libharfbuzz-subset.so.0"
                    _hb = _HarfBuzzSubset(ffi, ffi.dlopen(name))
                except (ImportError, OSError, AttributeError):
                    _hb = None
                _hb_loaded = True
    return _hb


def _to_unicode_cmap(glyphs: Mapping[int, str]) -> bytes:
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <ffff> endcodespacerange",
    ]
    items = sorted(glyphs.items())
    for start in range(0, len(items), 100):
        batch = items[start : start + 100]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines.extend(
            f"<{gid:04x}> <{text.encode('utf-16-be').hex()}>".encode() for gid, text in batch
        )
        lines.append(b"endbfchar")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return b"\n".join(lines)


def _embed_font(pdf: pydyf.PDF, font: PdfFont, used: Mapping[int, str], tag: str) -> bytes:
    """Add ``font`` (subset to the glyphs ``used``: gid -> text) to ``pdf``; its reference."""
    gids = sorted({0, *used})
    file_data = font._subset(gids)
    font_file = pydyf.Stream([file_data], {"Length1": len(file_data)}, compress=True)
    pdf.add_object(font_file)
    base_font = f"/{tag}+{font.name}"
    descriptor = pydyf.Dictionary(
        {
            "Type": "/FontDescriptor",
            "FontName": base_font,
            "Flags": 32,
            "FontBBox": pydyf.Array(font.bbox),
            "ItalicAngle": 0,
            "Ascent": round(font.ascent),
            "Descent": round(font.descent),
            "CapHeight": round(font.cap_height),
            "StemV": 80,
            "FontFile2": font_file.reference,
        }
    )
    pdf.add_object(descriptor)
    widths_by_gid = {gid: width for gid, width in font.glyphs.values()}
    widths = pydyf.Array()
    run: pydyf.Array | None = None
    previous = -2
    for gid in gids:
        if gid != previous + 1 or run is None:
            run = pydyf.Array()
            widths.extend([gid, run])
        run.append(round(widths_by_gid.get(gid, font.notdef_width)))
        previous = gid
    cid_font = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/CIDFontType2",
            "BaseFont": base_font,
            "CIDSystemInfo": pydyf.Dictionary(
                {
                    "Registry": pydyf.String("Adobe"),
                    "Ordering": pydyf.String("Identity"),
                    "Supplement": 0,
                }
            ),
            "CIDToGIDMap": "/Identity",
            "DW": round(font.notdef_width),
            "W": widths,
            "FontDescriptor": descriptor.reference,
        }
    )
    pdf.add_object(cid_font)
    to_unicode = pydyf.Stream([_to_unicode_cmap(used)], compress=True)
    pdf.add_object(to_unicode)
    type0 = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/Type0",
            "BaseFont": base_font,
            "Encoding": "/Identity-H",
            "DescendantFonts": pydyf.Array([cid_font.reference]),
            "ToUnicode": to_unicode.reference,
        }
    )
    pdf.add_object(type0)
    return bytes(type0.reference)


# --------------------------------------------------------------------------- line breaking


def wrap(text: str, font: PdfFont, size: float, width: float, *, breaks: str = " ") -> list[str]:
    """``text`` broken into lines no wider than ``width`` points, greedily.

    Lines break after any character of ``breaks`` (spaces at a break are dropped); a word
    wider than the line is broken between characters. Widths add up (no kerning), so each
    piece is measured once.
    """
    if not text:
        return []
    pieces: list[str] = []
    current = ""
    for ch in text:
        current += ch
        if ch in breaks:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    space = font.width(" ", size)
    lines: list[str] = []
    line, full, trailing = "", 0.0, 0
    for piece in pieces:
        piece_width = font.width(piece, size)
        stripped = piece.rstrip(" ")
        piece_trailing = len(piece) - len(stripped)
        new_trailing = piece_trailing if stripped else trailing + len(piece)
        if not line or full + piece_width - new_trailing * space <= width:
            line, full, trailing = line + piece, full + piece_width, new_trailing
        else:
            lines.append(line.rstrip(" "))
            line, full, trailing = piece, piece_width, piece_trailing
        while full - trailing * space > width and len(line.rstrip(" ")) > 1:
            # one word wider than the line: cut it where it stops fitting
            cut = len(line)
            while cut > 1 and font.width(line[:cut], size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
            full = font.width(line, size)
            trailing = len(line) - len(line.rstrip(" "))
    if line.strip(" "):
        lines.append(line.rstrip(" "))
    return lines


# --------------------------------------------------------------------------- layers


class _RawObject(pydyf.Object):
    """An indirect object whose serialised bytes are known (copied from a layer)."""

    def __init__(self, data: bytes, *, stream: bool) -> None:
        super().__init__()
        self._bytes = data
        self._stream = stream

    @property
    def data(self) -> bytes:
        return self._bytes

    @property
    def compressible(self) -> bool:
        return not self._stream


@dataclass(frozen=True)
class PageLayer:
    """The first page of a PDF as a Form XObject that :func:`compose_pdf` draws.

    ``objects`` are the page's content and everything its resources reach (fonts, images,
    patterns, graphics states), serialised once; an ``int`` part stands for a reference to
    the object at that index, numbered when a document takes a copy.
    """

    objects: tuple[tuple[tuple[bytes | int, ...], bool], ...]
    width: float
    height: float

    @classmethod
    def from_pdf(cls, data: bytes) -> PageLayer:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        page = reader.pages[0]
        box = [float(v) for v in page.mediabox]
        content = page.get_contents()
        body = zlib.compress(content.get_data() if content is not None else b"", 9)
        serialiser = _Serialiser()
        resources = serialiser.local(page.get("/Resources"))
        form: tuple[bytes | int, ...] = (
            b"<</Type /XObject /Subtype /Form /FormType 1 /BBox ["
            + " ".join(_num(v) for v in box).encode()
            + b"] /Resources ",
            resources,
            f" /Filter /FlateDecode /Length {len(body)}>>\nstream\n".encode()
            + body
            + b"\nendstream",
        )
        serialiser.run()
        objects = (*serialiser.objects, (form, True))
        return cls(objects=tuple(objects), width=box[2] - box[0], height=box[3] - box[1])

    def add_to(self, pdf: pydyf.PDF) -> bytes:
        """Copy the layer's objects into ``pdf``; the form's reference."""
        base = len(pdf.objects)
        for parts, is_stream in self.objects:
            data = b"".join(
                part if isinstance(part, bytes) else f"{base + part} 0 R".encode() for part in parts
            )
            pdf.add_object(_RawObject(data, stream=is_stream))
        return f"{len(pdf.objects) - 1} 0 R".encode()


class _Serialiser:
    """Serialises pypdf objects reachable from a page's resources, renumbering references."""

    def __init__(self) -> None:
        self.objects: list[tuple[tuple[bytes | int, ...], bool]] = []
        self._index: dict[tuple[int, int], int] = {}
        self._queue: list[tuple[int, Any]] = []

    def local(self, value: Any) -> int:
        """The local index of an object (an indirect reference, or a direct value to lift)."""
        from pypdf.generic import IndirectObject

        if isinstance(value, IndirectObject):
            key = (value.idnum, value.generation)
            if key not in self._index:
                self._index[key] = len(self.objects)
                self.objects.append(((), False))
                self._queue.append((self._index[key], value.get_object()))
            return self._index[key]
        self.objects.append(((), False))
        self._queue.append((len(self.objects) - 1, value))
        return len(self.objects) - 1

    def run(self) -> None:
        while self._queue:
            index, value = self._queue.pop()
            parts: list[bytes | int] = []
            is_stream = self._write(value, parts)
            self.objects[index] = (tuple(parts), is_stream)

    def _write(self, value: Any, parts: list[bytes | int]) -> bool:
        from pypdf.generic import (
            ArrayObject,
            DictionaryObject,
            IndirectObject,
            NameObject,
            StreamObject,
        )

        if isinstance(value, IndirectObject):
            parts.append(self.local(value))
            return False
        if isinstance(value, StreamObject):
            filters = value.get("/Filter")
            if filters is not None and filters not in ("/FlateDecode", ["/FlateDecode"]):
                raise PdfError(f"a layer's stream uses an unsupported filter: {filters}")
            body = zlib.compress(value.get_data(), 9)
            entries = {
                k: v
                for k, v in value.items()
                if k not in {"/Length", "/Filter", "/DecodeParms", "/DL"}
            }
            parts.append(b"<<")
            for key, item in entries.items():
                parts.append(_pypdf_bytes(NameObject(key)) + b" ")
                self._write(item, parts)
                parts.append(b" ")
            parts.append(f"/Filter /FlateDecode /Length {len(body)}>>\nstream\n".encode())
            parts.append(body + b"\nendstream")
            return True
        if isinstance(value, DictionaryObject):
            parts.append(b"<<")
            for key, item in value.items():
                parts.append(_pypdf_bytes(NameObject(key)) + b" ")
                self._write(item, parts)
                parts.append(b" ")
            parts.append(b">>")
            return False
        if isinstance(value, ArrayObject):
            parts.append(b"[")
            for item in value:
                self._write(item, parts)
                parts.append(b" ")
            parts.append(b"]")
            return False
        parts.append(_pypdf_bytes(value))
        return False


def _pypdf_bytes(value: Any) -> bytes:
    out = io.BytesIO()
    value.write_to_stream(out)
    return out.getvalue()


# --------------------------------------------------------------------------- canvas


@dataclass(frozen=True)
class TextRun:
    """One line of text: its left end and baseline in mm from the page's top-left corner;
    ``anchor`` and ``align`` say where it was placed (for a layout with other fonts)."""

    x: float
    baseline: float
    text: str
    font: PdfFont
    size: float
    color: str
    tracking: float
    width: float
    anchor: float
    align: str


@dataclass
class Canvas:
    """The variable drawing of a page, in millimetres from its top-left corner."""

    width: float
    height: float
    runs: list[TextRun] = field(default_factory=list)
    ops: list[bytes] = field(default_factory=list)

    def _y(self, y: float) -> float:
        return (self.height - y) * MM

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        font: PdfFont,
        size: float,
        color: str,
        *,
        tracking: float = 0.0,
        align: str = "left",
    ) -> float:
        """Set one line at ``baseline`` (mm); ``x`` is its left, centre or right end by
        ``align``. Returns the line's width in mm."""
        if align not in {"left", "center", "right"}:
            raise ValueError(f"align must be left, center or right, not {align!r}")
        width = font.width(text, size, tracking) / MM
        left = x - width / 2 if align == "center" else x - width if align == "right" else x
        self.runs.append(
            TextRun(left, baseline, text, font, size, color, tracking, width, x, align)
        )
        return width

    def covered(self) -> bool:
        """Whether the packaged fonts have a glyph for every character of every run."""
        return all(run.font.covers(run.text) for run in self.runs)

    def _text_ops(self) -> tuple[list[bytes], dict[PdfFont, str], dict[PdfFont, dict[int, str]]]:
        names: dict[PdfFont, str] = {}
        used: dict[PdfFont, dict[int, str]] = {}
        ops = []
        for run in self.runs:
            name = names.get(run.font)
            if name is None:
                name = names[run.font] = f"F{len(names)}"
                used[run.font] = {}
            glyphs, seen = run.font.glyphs, used[run.font]
            codes = []
            for ch in run.text:
                gid = glyphs.get(ord(ch), (0, 0.0))[0]
                seen.setdefault(gid, ch)
                codes.append(f"{gid:04x}")
            r, g, b = _hex_color(run.color)
            # Tc (character spacing) is graphics state: it outlives ET, so set it every time
            ops.append(
                f"BT /{name} {_num(run.size)} Tf {_num(run.tracking)} Tc {_num(r)} {_num(g)} {_num(b)} rg "
                f"1 0 0 1 {_num(run.x * MM)} {_num(self._y(run.baseline))} Tm "
                f"<{''.join(codes)}> Tj ET".encode()
            )
        return ops, names, used

    def rule(self, x0: float, y0: float, x1: float, y1: float, color: str, width: float) -> None:
        """A straight line from (x0, y0) to (x1, y1), ``width`` mm thick."""
        r, g, b = _hex_color(color)
        self.ops.append(
            f"q {_num(r)} {_num(g)} {_num(b)} RG {_num(width * MM)} w "
            f"{_num(x0 * MM)} {_num(self._y(y0))} m {_num(x1 * MM)} {_num(self._y(y1))} l S Q".encode()
        )

    def arrow(self, x: float, y: float, length: float, color: str, width: float) -> None:
        """A right arrow from (x, y) (mm, its centre line), ``length`` mm long."""
        r, g, b = _hex_color(color)
        head = length * 0.28
        x1 = x + length
        self.ops.append(
            f"q {_num(r)} {_num(g)} {_num(b)} RG {_num(width * MM)} w 1 J 1 j "
            f"{_num(x * MM)} {_num(self._y(y))} m {_num((x1 - width / 2) * MM)} {_num(self._y(y))} l S "
            f"{_num((x1 - head) * MM)} {_num(self._y(y - head))} m "
            f"{_num(x1 * MM)} {_num(self._y(y))} l "
            f"{_num((x1 - head) * MM)} {_num(self._y(y + head))} l S Q".encode()
        )

    def rectangles(self, rects: Iterable[tuple[float, float, float, float]], color: str) -> None:
        """Filled rectangles (x, y, w, h in mm from the top-left), one path."""
        r, g, b = _hex_color(color)
        path = " ".join(
            f"{_num(x * MM)} {_num(self._y(y + h))} {_num(w * MM)} {_num(h * MM)} re"
            for x, y, w, h in rects
        )
        self.ops.append(f"q {_num(r)} {_num(g)} {_num(b)} rg {path} f Q".encode())


# --------------------------------------------------------------------------- document


def _subset_tag(font: PdfFont, used: Mapping[int, str]) -> str:
    digest = hashlib.sha256(font.name.encode() + repr(sorted(used)).encode()).digest()
    return "".join(chr(65 + b % 26) for b in digest[:6])


def compose_pdf(
    *,
    layers: Sequence[PageLayer],
    canvas: Canvas,
    attachments: Sequence[FileAttachment] = (),
    metadata: Mapping[str, str] | None = None,
    lang: str | None = None,
    created: datetime | None = None,
    set_text: bool = True,
) -> bytes:
    """One page: each layer drawn in turn, then the canvas; fonts, files and metadata.

    ``set_text=False`` leaves the canvas's text runs out (a layer carries them instead).

    ``metadata`` keys: Title, Author, Subject, Keywords, Creator.
    """
    pdf = pydyf.PDF()
    width, height = canvas.width * MM, canvas.height * MM
    forms = {f"L{i}": layer.add_to(pdf) for i, layer in enumerate(layers)}
    text_ops, names, used = canvas._text_ops() if set_text else ([], {}, {})
    fonts = {
        name: _embed_font(pdf, font, used[font], _subset_tag(font, used[font]))
        for font, name in names.items()
    }
    drawing = [f"q /{name} Do Q".encode() for name in forms] + canvas.ops + text_ops
    content = pydyf.Stream(drawing, compress=True)
    pdf.add_object(content)
    resources = pydyf.Dictionary(
        {
            "XObject": pydyf.Dictionary(forms),
            "Font": pydyf.Dictionary(fonts),
            "ProcSet": pydyf.Array(["/PDF", "/Text"]),
        }
    )
    pdf.add_object(resources)
    page = pydyf.Dictionary(
        {
            "Type": "/Page",
            "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, _num(width), _num(height)]),
            "Contents": content.reference,
            "Resources": resources.reference,
        }
    )
    pdf.add_page(page)

    moment = (created or datetime.now(UTC)).strftime("D:%Y%m%d%H%M%SZ")
    if attachments:
        names = pydyf.Array()
        specs = pydyf.Array()
        for attachment in attachments:
            stream = pydyf.Stream(
                [attachment.data],
                {
                    "Type": "/EmbeddedFile",
                    "Subtype": "/" + attachment.media_type.replace("/", "#2F"),
                    "Params": pydyf.Dictionary(
                        {
                            "Size": len(attachment.data),
                            "CheckSum": f"<{hashlib.md5(attachment.data, usedforsecurity=False).hexdigest()}>",
                            "ModDate": pydyf.String(moment),
                        }
                    ),
                },
                compress=True,
            )
            pdf.add_object(stream)
            spec = pydyf.Dictionary(
                {
                    "Type": "/Filespec",
                    "F": pydyf.String(attachment.name.encode("ascii", errors="replace")),
                    "UF": pydyf.String(attachment.name),
                    "Desc": pydyf.String(attachment.description or attachment.name),
                    "EF": pydyf.Dictionary({"F": stream.reference, "UF": stream.reference}),
                    "AFRelationship": "/Data",
                }
            )
            pdf.add_object(spec)
            names.extend([pydyf.String(attachment.name), spec.reference])
            specs.append(spec.reference)
        tree = pydyf.Dictionary({"Names": names})
        pdf.add_object(tree)
        pdf.catalog["Names"] = pydyf.Dictionary({"EmbeddedFiles": tree.reference})
        pdf.catalog["AF"] = specs
    if lang:
        pdf.catalog["Lang"] = pydyf.String(lang)
    for key, value in (metadata or {}).items():
        if value:
            pdf.info[key] = pydyf.String(value)
    pdf.info["CreationDate"] = pydyf.String(moment)

    output = io.BytesIO()
    pdf.write(output, version=b"1.7", compress=True)
    return output.getvalue()
