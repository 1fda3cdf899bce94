"""Chart geometry for server-rendered SVG: plain numbers, no library, no script, no style.

Each function returns a dict the template turns into SVG elements; colours come from CSS
classes (``iris-series-N``, ``iris-status-<state>``) in iris.css, so the charts follow the
Content-Security-Policy (no inline styles) and the page's theme.
"""

from __future__ import annotations

from typing import Any

WIDTH = 640
LABEL_W = 170
BAR_H = 22
GAP = 6


def _scale(maximum: float) -> float:
    usable = WIDTH - LABEL_W - 60
    return usable / maximum if maximum > 0 else 0.0


def bars(items: list[tuple[Any, float]]) -> dict[str, Any]:
    """Horizontal bars: ``items`` are (label, value)."""
    k = _scale(max((v for _, v in items), default=0))
    rows = []
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_H + GAP)
        rows.append(
            {
                "label": label,
                "value": value,
                "y": y,
                "text_y": y + BAR_H * 0.7,
                "x": LABEL_W,
                "w": round(value * k, 1),
                "h": BAR_H,
                "value_x": LABEL_W + round(value * k, 1) + 6,
            }
        )
    return {
        "width": WIDTH,
        "height": GAP + len(items) * (BAR_H + GAP),
        "rows": rows,
        "label_x": LABEL_W - 8,
    }


def stacked(rows: list[tuple[str, dict[str, int]]], keys: list[str]) -> dict[str, Any]:
    """Horizontal stacked bars: ``rows`` are (label, {key: value}) with ``keys`` in order."""
    totals = [sum(parts.values()) for _, parts in rows]
    k = _scale(max(totals, default=0))
    out = []
    for i, (label, parts) in enumerate(rows):
        y = GAP + i * (BAR_H + GAP)
        x = float(LABEL_W)
        segments = []
        for key in keys:
            value = parts.get(key, 0)
            if value:
                w = round(value * k, 1)
                segments.append({"key": key, "x": round(x, 1), "w": w, "value": value})
                x += w
        out.append(
            {
                "label": label,
                "y": y,
                "text_y": y + BAR_H * 0.7,
                "h": BAR_H,
                "segments": segments,
                "total": totals[i],
                "value_x": round(x, 1) + 6,
            }
        )
    return {
        "width": WIDTH,
        "height": GAP + len(rows) * (BAR_H + GAP),
        "rows": out,
        "label_x": LABEL_W - 8,
    }


def lines(
    labels: list[str], series: list[tuple[str, list[int]]], height: int = 220
) -> dict[str, Any]:
    """A line per series over ``labels`` (months), with a y axis from 0 to the maximum."""
    left, right, top, bottom = 40, 16, 12, 28
    n = max(len(labels), 2)
    maximum = max((max(values, default=0) for _, values in series), default=0) or 1
    step = (WIDTH - left - right) / (n - 1)

    def point(i: int, v: int) -> tuple[float, float]:
        return (
            round(left + i * step, 1),
            round(top + (height - top - bottom) * (1 - v / maximum), 1),
        )

    out = []
    for idx, (name, values) in enumerate(series):
        pts = [point(i, v) for i, v in enumerate(values)]
        out.append(
            {
                "name": name,
                "index": idx,
                "points": " ".join(f"{x},{y}" for x, y in pts),
                "dots": [{"x": x, "y": y, "v": v} for (x, y), v in zip(pts, values, strict=True)],
            }
        )
    ticks = [{"x": point(i, 0)[0], "label": label} for i, label in enumerate(labels)]
    return {
        "width": WIDTH,
        "height": height,
        "series": out,
        "ticks": ticks,
        "axis_y": height - bottom,
        "left": left,
        "max": maximum,
        "max_y": top,
        "label_y": height - 8,
    }
