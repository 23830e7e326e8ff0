"""Turn a backtest's results into the report's plain values, the JSON summary and the table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from rich.table import Table as RichTable

from connectors.marketdata.bars import PriceBook
from connectors.reports import Marker, ReportInput, Table
from operators.analytics import (
    EquityPoint,
    Performance,
    TradeStats,
    buy_and_hold_curve,
    drawdown_series,
    performance,
)
from operators.analytics.trades import ClosedTrade


def benchmark(
    prices: PriceBook, symbols: Sequence[str], start: datetime, end: datetime, capital: Decimal
) -> list[EquityPoint]:
    """Equal-weight buy-and-hold of ``symbols`` over ``[start, end]`` at bar closes."""
    series = {
        s: [
            (b.open_time + prices.series[s].interval, b.close)
            for b in prices.series[s].between(start, end)
        ]
        for s in symbols
        if s in prices.series
    }
    series = {s: [p for p in pts if p[0] <= end] for s, pts in series.items()}
    return buy_and_hold_curve(series, capital)


def evaluate(
    trades: Sequence[ClosedTrade],
    curve: Sequence[EquityPoint],
    prices: PriceBook,
    symbols: Sequence[str],
) -> Performance:
    bench = benchmark(prices, symbols, curve[0].time, curve[-1].time, curve[0].equity)
    return performance(trades, curve, bench)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.2f}%"


def _num(v: float | Decimal | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def headline(perf: Performance) -> list[tuple[str, str]]:
    t, e, b = perf.trades, perf.equity, perf.buy_and_hold
    rows = [
        ("period", f"{perf.start:%Y-%m-%d %H:%M} .. {perf.end:%Y-%m-%d %H:%M} UTC"),
        ("trades", str(t.trades)),
        ("win rate", _pct(t.win_rate)),
        ("avg win / avg loss", f"{_num(t.avg_win)} / {_num(t.avg_loss)}"),
        ("profit factor", _num(t.profit_factor)),
        ("expectancy / trade", _num(t.expectancy)),
        ("net PnL (after fees, funding)", _num(t.net_pnl)),
        ("fees / funding", f"{_num(t.fees)} / {_num(t.funding)}"),
        ("start -> end equity", f"{_num(e.start_equity)} -> {_num(e.end_equity)}"),
        ("total return", _pct(e.total_return)),
        ("CAGR", _pct(e.cagr)),
        ("max drawdown", f"{_pct(e.max_drawdown.depth)} (longest {e.max_drawdown.longest})"),
        ("Sharpe / Sortino / Calmar", f"{_num(e.sharpe)} / {_num(e.sortino)} / {_num(e.calmar)}"),
        ("exposure", _pct(perf.exposure)),
        ("turnover (x start equity)", _num(perf.turnover)),
    ]
    if b is not None:
        rows += [
            ("buy & hold return", _pct(b.total_return)),
            (
                "buy & hold max drawdown / Sharpe",
                f"{_pct(b.max_drawdown.depth)} / {_num(b.sharpe)}",
            ),
        ]
    return rows


def _stats_rows(groups: dict[str, TradeStats]) -> list[list[str]]:
    return [
        [
            name,
            str(s.trades),
            _pct(s.win_rate),
            _num(s.net_pnl),
            _num(s.profit_factor),
            _num(s.expectancy),
        ]
        for name, s in groups.items()
    ]


BREAKDOWN_HEADERS = ["group", "trades", "win rate", "net PnL", "profit factor", "expectancy"]


def terminal_table(title: str, perf: Performance) -> list[RichTable]:
    main = RichTable(title=title)
    main.add_column("metric")
    main.add_column("value", justify="right")
    for k, v in headline(perf):
        main.add_row(k, v)
    tables = [main]
    for name in ("event_type", "asset", "source"):
        t = RichTable(title=f"by {name}")
        for h in BREAKDOWN_HEADERS:
            t.add_column(h, justify="left" if h == "group" else "right")
        rows = sorted(_stats_rows(perf.breakdowns[name]), key=lambda r: r[0])[:15]
        for row in rows:
            t.add_row(*row)
        tables.append(t)
    return tables


def report_input(
    title: str,
    perf: Performance,
    curve: Sequence[EquityPoint],
    bench: Sequence[EquityPoint],
    trades: Sequence[ClosedTrade],
    prices: PriceBook,
    notes: Sequence[str],
) -> ReportInput:
    start, end = curve[0].time, curve[-1].time
    dd = drawdown_series(curve)
    markers: dict[str, list[Marker]] = {}
    for t in trades:
        kind = "buy" if t.side.value == "BUY" else "sell"
        markers.setdefault(t.symbol, []).append(
            Marker(t.entry_time, float(t.entry_price), kind, f"{t.event_type} {t.trade_id}")
        )
        markers[t.symbol].append(
            Marker(t.exit_time, float(t.exit_price), "exit", f"{t.exit_reason} {t.net_pnl:.2f}")
        )
    traded = sorted(markers)
    price_points = {
        s: [(b.open_time, float(b.close)) for b in prices.series[s].between(start, end)]
        for s in traded
        if s in prices.series
    }
    return ReportInput(
        title=title,
        summary=headline(perf),
        equity=[(p.time, float(p.equity)) for p in curve],
        benchmark=[(p.time, float(p.equity)) for p in bench],
        drawdown=[(p.time, d) for p, d in zip(curve, dd, strict=True)],
        monthly_returns=perf.equity.monthly_returns,
        pnl_by_event={k: float(v.net_pnl) for k, v in perf.breakdowns["event_type"].items()},
        prices=price_points,
        markers=markers,
        tables=[
            Table(f"By {name}", BREAKDOWN_HEADERS, _stats_rows(perf.breakdowns[name]))
            for name in ("event_type", "playbook", "asset", "source", "exit_reason")
        ],
        notes=notes,
    )
