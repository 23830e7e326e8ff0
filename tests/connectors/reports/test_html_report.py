"""The HTML report opens offline (no external references) and carries every required plot."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.reports import Marker, ReportInput, Table, render, write_html, write_json
from connectors.reports.svg import thin

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _report() -> ReportInput:
    curve = [(T0 + timedelta(hours=i), 1000.0 + i) for i in range(5000)]
    return ReportInput(
        title="Backtest <test>",
        summary=[("Net PnL", "12.5"), ("Sharpe", "1.20")],
        equity=curve,
        benchmark=[(t, v * 0.9) for t, v in curve],
        drawdown=[(t, 0.01) for t, _ in curve],
        monthly_returns={"2024-01": 0.02, "2024-02": -0.01},
        pnl_by_event={"HACK": -3.0, "LISTING": 5.0},
        prices={"BTCUSDT": [(t, 40000.0 + i) for i, (t, _) in enumerate(curve)]},
        markers={
            "BTCUSDT": [Marker(T0, 40000.0, "buy", "entry"), Marker(T0, 40001.0, "exit", "x")]
        },
        tables=[Table("By event type", ["event", "trades"], [["HACK", "3"]])],
        notes=["timestamps of date-only sources are approximate"],
    )


def test_report_is_self_contained_with_all_plots(tmp_path: Path) -> None:
    html = write_html(tmp_path / "r.html", _report()).read_text(encoding="utf-8")
    assert html.count("<svg") == 5  # equity, drawdown, monthly, PnL by event, price + trades
    for heading in ("Equity", "Drawdown", "Monthly returns", "PnL by event type", "BTCUSDT"):
        assert heading in html
    assert not re.search(r"(src|href)=|https?://(?!www\.w3\.org/2000/svg)|<script", html)
    assert "Backtest &lt;test&gt;" in html  # text is escaped
    assert "▲" in html and "HACK" in html


def test_same_input_same_bytes() -> None:
    assert render(_report()) == render(_report())


def test_thin_keeps_shape_and_end() -> None:
    pts = [(T0 + timedelta(hours=i), float(i)) for i in range(10_000)]
    out = thin(pts, 100)
    assert len(out) <= 101 and out[0] == pts[0] and out[-1] == pts[-1]


def test_json_keeps_decimals_exact(tmp_path: Path) -> None:
    from decimal import Decimal

    path = write_json(tmp_path / "s.json", {"pnl": Decimal("0.10"), "n": 1})
    assert '"pnl": "0.10"' in path.read_text()
