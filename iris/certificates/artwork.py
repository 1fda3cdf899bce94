"""The certificate's printed artwork, generated as SVG: frame, guilloché band, rosette.

Security-print style ornaments (interlaced sine waves along the frame, a hypotrochoid
rosette as a watermark) make a printed certificate look official and a photocopied edit
look wrong. Drawn in code so that no image file needs a licence; each function returns the
SVG markup, which :mod:`iris.certificates.document` registers with the PDF fetcher
(``iris-asset:gen/...`` URLs). Pure and cached: the same artwork for every certificate,
computed once per process.
"""

from __future__ import annotations

import math
from functools import lru_cache

NAVY = "#0b2f6b"
GOLD = "#b38b35"
PALE = "#d9e2f0"

# A4 landscape in millimetres: the SVG user unit is 1 mm.
PAGE_W, PAGE_H = 297.0, 210.0


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _wave_band(x0: float, y0: float, x1: float, y1: float, amplitude: float, period: float) -> str:
    """Interlaced sine waves along the segment (x0,y0)-(x1,y1), as SVG path data.

    Each half-period is one cubic Bézier (control points at 0.3642 and 0.6358 of its width,
    1.333 x the amplitude: within 1% of a sine), which keeps the path short to draw.
    """
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length  # along
    nx, ny = -uy, ux  # across
    half = period / 2
    count = max(2, round(length / half))
    half = length / count

    def at(s: float, a: float) -> str:
        return f"{_fmt(x0 + ux * s + nx * a)},{_fmt(y0 + uy * s + ny * a)}"

    paths = []
    for phase in range(4):
        offset = phase * half / 2  # quarter-period steps: four interlaced strands
        sign = 1.0
        parts = [f"M{at(0, amplitude * math.sin(math.pi * offset / half))}"]
        s0 = -offset
        while s0 < length:
            s1 = s0 + half
            c = sign * amplitude * 4 / 3
            a0, a1 = max(s0, 0.0), min(s1, length)
            if a0 == s0 and a1 == s1:
                parts.append(
                    f"C{at(s0 + 0.3642 * half, c)} {at(s0 + 0.6358 * half, c)} {at(s1, 0)}"
                )
            else:  # clipped ends: straight to the sine's value at the boundary
                parts.append(f"L{at(a1, sign * amplitude * math.sin(math.pi * (a1 - s0) / half))}")
            s0, sign = s1, -sign
        paths.append("".join(parts))
    return " ".join(paths)


#: Where the guilloché band runs: its centre line, in mm from the page edges.
BAND_INSET = 10.0
BAND_AMPLITUDE = 1.6
BAND_HEIGHT = 2 * BAND_AMPLITUDE + 0.6


def band_periods() -> tuple[float, float]:
    """The wave period along the long and the short sides: a whole number of waves each."""
    long_side, short_side = PAGE_W - 2 * BAND_INSET, PAGE_H - 2 * BAND_INSET
    return long_side / round(long_side / 9.0), short_side / round(short_side / 9.0)


def _band_tile(period: float, vertical: bool) -> str:
    """One period of the band: a tile that CSS repeats along a side.

    Repeated backgrounds become one PDF pattern that the viewer tiles, so the band costs
    one small drawing instead of thousands of path points on every render.
    """
    h = BAND_HEIGHT
    path = _wave_band(-period, h / 2, 2 * period, h / 2, BAND_AMPLITUDE, period)
    w_, h_ = (h, period) if vertical else (period, h)
    transform = f' transform="translate({_fmt(h)} 0) rotate(90)"' if vertical else ""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(w_)}mm" height="{_fmt(h_)}mm" '
        f'viewBox="0 0 {_fmt(w_)} {_fmt(h_)}">'
        f'<g{transform}><path d="{path}" fill="none" stroke="{GOLD}" stroke-width="0.18" '
        'stroke-opacity="0.9"/></g></svg>'
    )
    return svg


@lru_cache(maxsize=1)
def band_tiles() -> dict[str, str]:
    long_period, short_period = band_periods()
    return {
        "horizontal": _band_tile(long_period, vertical=False),
        "vertical": _band_tile(short_period, vertical=True),
        "long_period": _fmt(long_period),
        "short_period": _fmt(short_period),
        "height": _fmt(BAND_HEIGHT),
    }


@lru_cache(maxsize=1)
def frame_svg() -> str:
    """The full-page frame: the outer and inner rules and the corner rosettes."""
    m_out, m_in, band = 7.0, 13.0, BAND_INSET
    w, h = PAGE_W, PAGE_H
    corners = "".join(
        f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="3.2" fill="#fff" '
        f'stroke="{GOLD}" stroke-width="0.5"/>'
        f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="1.4" fill="{NAVY}"/>'
        for cx, cy in ((band, band), (w - band, band), (w - band, h - band), (band, h - band))
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(w)}mm" height="{_fmt(h)}mm" '
        f'viewBox="0 0 {_fmt(w)} {_fmt(h)}">'
        f'<rect x="{m_out}" y="{m_out}" width="{_fmt(w - 2 * m_out)}" '
        f'height="{_fmt(h - 2 * m_out)}" '
        f'fill="none" stroke="{NAVY}" stroke-width="0.9"/>'
        f'<rect x="{m_in}" y="{m_in}" width="{_fmt(w - 2 * m_in)}" height="{_fmt(h - 2 * m_in)}" '
        f'fill="none" stroke="{NAVY}" stroke-width="0.35"/>'
        f"{corners}</svg>"
    )
    return svg


@lru_cache(maxsize=1)
def rosette_svg() -> str:
    """A faint rosette of rotated ellipses, the watermark behind the holder's name.

    Ellipses (four Bézier arcs each) draw far faster than a sampled hypotrochoid and give
    the same spirograph look.
    """
    rings = []
    for count, cy, rx, ry, colour in ((36, 52, 9.0, 28.0, PALE), (24, 64, 7.0, 16.0, "#e8dcc0")):
        for k in range(count):
            rings.append(
                f'<ellipse cx="80" cy="{cy}" rx="{rx}" ry="{ry}" fill="none" stroke="{colour}" '
                f'stroke-width="0.35" transform="rotate({_fmt(360 * k / count)} 80 80)"/>'
            )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160mm" height="160mm" '
        'viewBox="0 0 160 160">' + "".join(rings) + "</svg>"
    )
    return svg


@lru_cache(maxsize=1)
def emblem_svg() -> str:
    """The IRIS emblem: concentric rings around an eye-like iris, in navy and gold."""
    petals = []
    for k in range(12):
        angle = k * 30
        petals.append(
            f'<ellipse cx="50" cy="30" rx="5.5" ry="17" fill="none" stroke="{NAVY}" '
            f'stroke-width="1.3" transform="rotate({angle} 50 50)"/>'
        )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">'
        f'<circle cx="50" cy="50" r="47" fill="none" stroke="{GOLD}" stroke-width="2.2"/>'
        f'<circle cx="50" cy="50" r="42.5" fill="none" stroke="{NAVY}" stroke-width="0.8"/>'
        + "".join(petals)
        + f'<circle cx="50" cy="50" r="9" fill="{NAVY}"/>'
        f'<circle cx="50" cy="50" r="4" fill="{GOLD}"/>'
        "</svg>"
    )
    return svg


@lru_cache(maxsize=1)
def seal_svg() -> str:
    """A small navy seal with a white check mark (the signature note's marker)."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 20">'
        f'<circle cx="10" cy="10" r="9.5" fill="{NAVY}"/>'
        f'<circle cx="10" cy="10" r="7.6" fill="none" stroke="{GOLD}" stroke-width="0.8"/>'
        '<path d="M6 10.4 L8.8 13.1 L14.2 7.2" fill="none" stroke="#fff" stroke-width="1.8" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
        "</svg>"
    )
    return svg
