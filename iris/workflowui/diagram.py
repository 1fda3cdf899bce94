"""Lifecycle diagrams drawn as SVG on the server, from the same tables the engine runs.

No JavaScript and no inline style (the CSP forbids both): the drawing uses SVG
presentation attributes only. The layout is a plain layered one, left to right:

- a state's column is its distance (in steps) from the creating row, found breadth-first;
- within a column, states keep the order of their enum, which follows the lifecycle's story;
- a step to a later column is a curve from the right edge to the left edge; a step back or
  within a column is an arc above the boxes, so forward flow stays readable;
- timer steps are dashed; final states have a double border.

Steps between the same two states are merged into one arrow with their labels joined.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from workflows.base import N_, NEW, Lifecycle

BOX_W, BOX_H = 150, 38
COL_GAP, ROW_GAP = 150, 40
MARGIN = 24
CHAR_W = 5.6  # average width of an 10 px label character, for label backgrounds


@dataclass
class _Edge:
    src: str
    dest: str
    labels: list[str]
    timer: bool


def _columns(lifecycle: Lifecycle) -> dict[str, int]:
    """Each state's column: the longest forward path to it from the pseudo-state ``new``.

    Steps back (to a state on the current depth-first path, such as ``restore`` back to
    ``active``) are left out of the layering, so the story reads left to right.
    """
    succ: dict[str, list[str]] = {}
    for t in lifecycle.transitions:
        for s in t.sources:
            if t.dest not in succ.setdefault(s, []):
                succ[s].append(t.dest)
    forward: dict[str, list[str]] = {}
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(s: str) -> None:
        on_path.add(s)
        for d in succ.get(s, ()):
            if d in on_path or d == s:
                continue
            forward.setdefault(s, []).append(d)
            if d not in done:
                visit(d)
        on_path.discard(s)
        done.add(s)

    visit(NEW)
    col = {NEW: 0}
    for s in _topological(forward):
        for d in forward.get(s, ()):
            col[d] = max(col.get(d, 0), col.get(s, 0) + 1)
    last = max(col.values()) + 1
    for state in lifecycle.states:  # unreachable ones (the table test forbids them) at the end
        col.setdefault(state.value, last)
    return col


def _topological(graph: dict[str, list[str]]) -> list[str]:
    indegree: dict[str, int] = {}
    for s, ds in graph.items():
        indegree.setdefault(s, 0)
        for d in ds:
            indegree[d] = indegree.get(d, 0) + 1
    ready = deque(s for s, n in indegree.items() if n == 0)
    out: list[str] = []
    while ready:
        s = ready.popleft()
        out.append(s)
        for d in graph.get(s, ()):
            indegree[d] -= 1
            if indegree[d] == 0:
                ready.append(d)
    return out


def _y_at(x: float, *points: tuple[float, float]) -> float:
    """The y of the cubic Bézier through ``points`` where it crosses ``x`` (sampled)."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    best, best_y = float("inf"), y0
    for i in range(51):
        t = i / 50
        u = 1 - t
        bx = u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3
        by = u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3
        if abs(bx - x) < best:
            best, best_y = abs(bx - x), by
    return best_y


def _free_spot(
    placed: list[tuple[float, float, float, float]], x: float, y: float, w: float, h: float
) -> float:
    """A ``y`` near the wanted one where a ``w``×``h`` label overlaps no box or label."""

    def clashes(top: float) -> bool:
        return any(
            x < px + pw and px < x + w and top < py + ph and py < top + h
            for px, py, pw, ph in placed
        )

    for step in range(40):
        for top in (y + step * 6, y - step * 6):
            if not clashes(top):
                return top
    return y


def _wrap(text: str, width: int = 24) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _edges(lifecycle: Lifecycle, label: Callable[[str], str]) -> list[_Edge]:
    merged: dict[tuple[str, str], _Edge] = {}
    for t in lifecycle.transitions:
        for s in t.sources:
            edge = merged.setdefault((s, t.dest), _Edge(s, t.dest, [], t.timer))
            text = label(t.label) if t.label else t.trigger
            if text not in edge.labels:
                edge.labels.append(text)
            edge.timer = edge.timer and t.timer
    return list(merged.values())


def lifecycle_svg(
    lifecycle: Lifecycle,
    label: Callable[[str], str] = str,
    title: str | None = None,
) -> Markup:
    """The lifecycle as an inline ``<svg>`` element; ``label`` translates the texts."""
    col = _columns(lifecycle)
    order = [NEW] + [s.value for s in lifecycle.states]
    rows: dict[int, list[str]] = {}
    for name in order:
        rows.setdefault(col[name], []).append(name)
    pos: dict[str, tuple[float, float]] = {}
    height_rows = max(len(v) for v in rows.values())
    arc_room = 70  # space above the boxes for steps back
    for c, names in rows.items():
        offset = (height_rows - len(names)) * (BOX_H + ROW_GAP) / 2
        for i, name in enumerate(names):
            x = MARGIN + c * (BOX_W + COL_GAP)
            y = MARGIN + arc_room + offset + i * (BOX_H + ROW_GAP)
            pos[name] = (x, y)
    width = MARGIN * 2 + (max(rows) + 1) * (BOX_W + COL_GAP) - COL_GAP
    height = MARGIN * 2 + arc_room + height_rows * (BOX_H + ROW_GAP) - ROW_GAP

    terminal = set(lifecycle.terminal_states)
    out: list[str] = []
    heading = title or label(lifecycle.title)
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle-diagram" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="system-ui, sans-serif" aria-labelledby="d-{lifecycle.name}-t">'
        f'<title id="d-{lifecycle.name}-t">{escape(heading)}</title>'
        f'<defs><marker id="arrow-{lifecycle.name}" viewBox="0 0 10 10" refX="10" refY="5" '
        f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="#495057"/></marker></defs>'
    )
    labels_svg: list[str] = []
    placed: list[tuple[float, float, float, float]] = [
        (x, y, BOX_W, BOX_H) for name, (x, y) in pos.items() if name != NEW
    ]
    arcs = 0
    for edge in _edges(lifecycle, label):
        sx, sy = pos[edge.src]
        dx, dy = pos[edge.dest]
        dash = ' stroke-dasharray="5 4"' if edge.timer else ""
        if col[edge.dest] > col[edge.src]:
            x1, y1 = sx + (12 if edge.src == NEW else BOX_W), sy + BOX_H / 2
            x2, y2 = dx, dy + BOX_H / 2
            mid = (x1 + x2) / 2
            path = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
            # the label sits in the gap just after the source, so it never covers a box
            # that a longer arrow passes by
            lx = x1 + COL_GAP / 2 if col[edge.dest] - col[edge.src] > 1 else mid
            ly = _y_at(lx, (x1, y1), (mid, y1), (mid, y2), (x2, y2))
        elif col[edge.dest] == col[edge.src] and edge.src != edge.dest:
            # within a column: round the right-hand side of the boxes
            x1, y1 = sx + BOX_W, sy + BOX_H / 2
            x2, y2 = dx + BOX_W, dy + BOX_H / 2
            bulge = x1 + 34 + abs(y2 - y1) * 0.15
            path = (
                f"M{x1:.0f},{y1:.0f} C{bulge:.0f},{y1:.0f} {bulge:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
            )
            lx, ly = bulge + 8, (y1 + y2) / 2
        else:  # back, or to itself: an arc over the top of both boxes
            arcs += 1
            x1, y1 = sx + BOX_W * 0.6, sy
            x2, y2 = dx + BOX_W * 0.4, dy
            lift = 28 + (arcs % 3) * 14
            top = min(y1, y2) - lift - abs(x2 - x1) * 0.08
            if edge.src == edge.dest:
                x1, x2 = sx + BOX_W * 0.7, sx + BOX_W * 0.3
            path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{top:.0f} {x2:.0f},{top:.0f} {x2:.0f},{y2:.0f}"
            lx, ly = (x1 + x2) / 2, top + (min(y1, y2) - top) * 0.25
        out.append(
            f'<path d="{path}" fill="none" stroke="#495057" stroke-width="1.3"{dash} '
            f'marker-end="url(#arrow-{lifecycle.name})"/>'
        )
        lines = [line for text in edge.labels for line in _wrap(text)]
        w = max(len(line) for line in lines) * CHAR_W + 8
        h = 12 * len(lines) + 2
        top_y = _free_spot(placed, lx - w / 2, ly - h / 2, w, h)
        placed.append((lx - w / 2, top_y, w, h))
        tspans = "".join(
            f'<tspan x="{lx:.0f}" y="{top_y + 10 + 12 * i:.0f}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        labels_svg.append(
            f'<g class="edge-label"><rect x="{lx - w / 2:.0f}" y="{top_y:.0f}" width="{w:.0f}" '
            f'height="{h:.0f}" rx="3" fill="#ffffff" fill-opacity="0.92"/>'
            f'<text font-size="10" text-anchor="middle" fill="#212529">{tspans}</text></g>'
        )
    for name, (x, y) in pos.items():
        if name == NEW:
            out.append(
                f'<circle cx="{x + 6:.0f}" cy="{y + BOX_H / 2:.0f}" r="6" fill="#212529">'
                f"<title>{escape(label(N_('Start')))}</title></circle>"
            )
            continue
        final = name in terminal
        out.append(
            f'<g class="state" data-state="{escape(name)}">'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="{"#e9ecef" if final else "#e7f1ff"}" stroke="#0b3d91" '
            f'stroke-width="{2.5 if final else 1.2}"/>'
        )
        if final:
            out.append(
                f'<rect x="{x + 3:.0f}" y="{y + 3:.0f}" width="{BOX_W - 6}" height="{BOX_H - 6}" '
                f'rx="6" fill="none" stroke="#0b3d91" stroke-width="0.8"/>'
            )
        words = _wrap(label(lifecycle.state_label(name)), 22)
        first = y + BOX_H / 2 + 4 - 7 * (len(words) - 1)
        out.append(
            '<text font-size="12" text-anchor="middle" fill="#0b1f3a">'
            + "".join(
                f'<tspan x="{x + BOX_W / 2:.0f}" y="{first + 14 * i:.0f}">{escape(line)}</tspan>'
                for i, line in enumerate(words)
            )
            + "</text></g>"
        )
    out.extend(labels_svg)  # labels last, so no line crosses them
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above is escaped
