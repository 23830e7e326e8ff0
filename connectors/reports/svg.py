"""Tiny inline-SVG charts: line, bar and marker plots that need no library and no network.

Every number is formatted with fixed precision, so the same data always gives the same bytes
(reports of two identical runs compare equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 900, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 30
MAX_POINTS = 1500
"""Long series are thinned to this many points: a 900px chart cannot show more."""

Point = tuple[datetime, float]


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[Point]
    color: str


@dataclass(frozen=True)
class Marker:
    at: datetime
    value: float
    kind: str
    """``buy``, ``sell`` or ``exit``: the glyph and colour."""
    title: str


MARKER_STYLE = {"buy": ("#1a7f37", "▲"), "sell": ("#cf222e", "▼"), "exit": ("#57606a", "●")}


def thin(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """Every k-th point plus the last, so the curve keeps its shape and its end value."""
    if len(points) <= limit:
        return list(points)
    step = -(-len(points) // limit)
    out = list(points[::step])
    if out[-1] != points[-1]:
        out.append(points[-1])
    return out


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def _label(v: float, percent: bool) -> str:
    if percent:
        return f"{v * 100:.1f}%"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


class _Scale:
    def __init__(self, t0: float, t1: float, v0: float, v1: float) -> None:
        if t1 <= t0:
            t1 = t0 + 1
        if v1 <= v0:
            v0, v1 = v0 - 1, v1 + 1
        self.t0, self.t1, self.v0, self.v1 = t0, t1, v0, v1

    def x(self, t: float) -> float:
        return LEFT + (t - self.t0) / (self.t1 - self.t0) * (WIDTH - LEFT - RIGHT)

    def y(self, v: float) -> float:
        return TOP + (self.v1 - v) / (self.v1 - self.v0) * (HEIGHT - TOP - BOTTOM)


def _axes(s: _Scale, percent: bool) -> list[str]:
    parts = [
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#8c959f"/>'
    ]
    for i in range(5):
        v = s.v0 + (s.v1 - s.v0) * i / 4
        y = _fmt(s.y(v))
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#eaeef2"/>'
            f'<text x="{LEFT - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">'
            f"{_label(v, percent)}</text>"
        )
    for i in range(6):
        t = s.t0 + (s.t1 - s.t0) * i / 5
        day = datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d")
        parts.append(f'<text x="{_fmt(s.x(t))}" y="{HEIGHT - 8}" text-anchor="middle">{day}</text>')
    return parts


def _svg(body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-size="11" font-family="sans-serif">'
        + "".join(body)
        + "</svg>"
    )


def line_chart(
    series: Sequence[Series],
    title: str,
    *,
    percent: bool = False,
    markers: Sequence[Marker] = (),
) -> str:
    """Time series on one shared scale, with optional markers (trade entries and exits)."""
    drawn = [(s, thin(s.points)) for s in series if s.points]
    if not drawn:
        return f"<p>{escape(title)}: no data</p>"
    times = [p[0].timestamp() for _, pts in drawn for p in pts]
    values = [p[1] for _, pts in drawn for p in pts] + [m.value for m in markers]
    scale = _Scale(min(times), max(times), min(values), max(values))
    body = _axes(scale, percent)
    for s, pts in drawn:
        coords = " ".join(f"{_fmt(scale.x(t.timestamp()))},{_fmt(scale.y(v))}" for t, v in pts)
        body.append(
            f'<polyline fill="none" stroke="{s.color}" stroke-width="1.3" points="{coords}">'
            f"<title>{escape(s.label)}</title></polyline>"
        )
    for m in markers:
        color, glyph = MARKER_STYLE.get(m.kind, MARKER_STYLE["exit"])
        body.append(
            f'<text x="{_fmt(scale.x(m.at.timestamp()))}" y="{_fmt(scale.y(m.value))}" '
            f'fill="{color}" text-anchor="middle" dominant-baseline="middle">{glyph}'
            f"<title>{escape(m.title)}</title></text>"
        )
    legend = "".join(
        f'<text x="{LEFT + 10 + 160 * i}" y="{TOP}" fill="{s.color}">{escape(s.label)}</text>'
        for i, (s, _) in enumerate(drawn)
    )
    return _svg([*body, legend], title)


def bar_chart(bars: Sequence[tuple[str, float]], title: str, *, percent: bool = False) -> str:
    """Labelled vertical bars around zero (green up, red down)."""
    if not bars:
        return f"<p>{escape(title)}: no data</p>"
    lo = min(0.0, *(v for _, v in bars))
    hi = max(0.0, *(v for _, v in bars))
    scale = _Scale(0, len(bars), lo, hi)
    body = _axes_values_only(scale, percent)
    width = (WIDTH - LEFT - RIGHT) / len(bars)
    zero = scale.y(0)
    for i, (label, v) in enumerate(bars):
        x = LEFT + i * width
        top, bottom = sorted((scale.y(v), zero))
        color = "#1a7f37" if v >= 0 else "#cf222e"
        body.append(
            f'<rect x="{_fmt(x + width * 0.1)}" y="{_fmt(top)}" width="{_fmt(width * 0.8)}" '
            f'height="{_fmt(max(bottom - top, 0.5))}" fill="{color}">'
            f"<title>{escape(label)}: {_label(v, percent)}</title></rect>"
        )
        if len(bars) <= 40 or i % -(-len(bars) // 40) == 0:
            body.append(
                f'<text x="{_fmt(x + width / 2)}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return _svg(body, title)


def _axes_values_only(s: _Scale, percent: bool) -> list[str]:
    parts = []
    for i in range(5):
        v = s.v0 + (s.v1 - s.v0) * i / 4
        y = _fmt(s.y(v))
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#eaeef2"/>'
            f'<text x="{LEFT - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">'
            f"{_label(v, percent)}</text>"
        )
    return parts
