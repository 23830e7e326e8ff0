"""The backtest report as one self-contained HTML file (inline SVG, no scripts, no network).

It takes plain values, not analytics objects, so it knows nothing about how they were computed:
the backtest flow fills a ``ReportInput`` and this module only lays it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from connectors.reports.svg import Marker, Point, Series, bar_chart, line_chart


@dataclass(frozen=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class ReportInput:
    title: str
    summary: Sequence[tuple[str, str]]
    """Headline figures as (label, formatted value)."""
    equity: Sequence[Point]
    benchmark: Sequence[Point] = ()
    drawdown: Sequence[Point] = ()
    monthly_returns: Mapping[str, float] = field(default_factory=dict)
    pnl_by_event: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, Sequence[Point]] = field(default_factory=dict)
    markers: Mapping[str, Sequence[Marker]] = field(default_factory=dict)
    tables: Sequence[Table] = ()
    notes: Sequence[str] = ()
    """Caveats the reader must see (approximate timestamps, model training overlap, ...)."""


STYLE = """
body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#1f2328}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
th{background:#f6f8fa} td:first-child,th:first-child{text-align:left}
h2{margin-top:1.6em;border-bottom:1px solid #d0d7de}
"""


def _table(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows
    )
    return f"<h3>{escape(t.title)}</h3><table><tr>{head}</tr>{body}</table>"


def render(report: ReportInput) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
        "<table>"
        + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in report.summary)
        + "</table>",
    ]
    if report.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    curves = [Series("strategy", report.equity, "#0969da")]
    if report.benchmark:
        curves.append(Series("buy and hold", report.benchmark, "#8c959f"))
    parts += ["<h2>Equity</h2>", line_chart(curves, "equity curve")]
    if report.drawdown:
        dd = [(t, -v) for t, v in report.drawdown]
        parts += [
            "<h2>Drawdown</h2>",
            line_chart([Series("drawdown", dd, "#cf222e")], "drawdown", percent=True),
        ]
    months = sorted(report.monthly_returns.items())
    parts += ["<h2>Monthly returns</h2>", bar_chart(months, "monthly returns", percent=True)]
    events = sorted(report.pnl_by_event.items())
    parts += ["<h2>PnL by event type</h2>", bar_chart(events, "PnL by event type")]
    for symbol in sorted(report.prices):
        parts += [
            f"<h2>{escape(symbol)}: trades on price</h2>",
            line_chart(
                [Series(symbol, report.prices[symbol], "#57606a")],
                f"{symbol} price with trades",
                markers=report.markers.get(symbol, ()),
            ),
        ]
    parts += [_table(t) for t in report.tables]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: Path, report: ReportInput) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
