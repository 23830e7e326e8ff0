"""One run's performance in one record: trade stats, equity stats, breakdowns, buy-and-hold.

Buy-and-hold is the honest yardstick: the starting capital split equally over the traded assets,
bought at the first price of the period and held to its end, with the same figures computed
on its curve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from operators.analytics.equity import EquityPoint, EquityStats, equity_stats
from operators.analytics.trades import BREAKDOWNS, ClosedTrade, TradeStats, breakdown, exposure
from operators.analytics.trades import trade_stats as compute_trade_stats
from records import UtcDatetime

PricePoint = tuple[datetime, Decimal]


class Performance(msgspec.Struct, frozen=True, kw_only=True):
    start: UtcDatetime
    end: UtcDatetime
    trades: TradeStats
    equity: EquityStats
    exposure: float
    """Fraction of the period with a position open."""
    turnover: float
    """Traded notional (both legs) over the starting equity."""
    fees: Decimal
    buy_and_hold: EquityStats | None
    breakdowns: dict[str, dict[str, TradeStats]]


def buy_and_hold_curve(
    prices: Mapping[str, Sequence[PricePoint]], capital: Decimal
) -> list[EquityPoint]:
    """Equal-weight buy-and-hold of ``prices`` (each sorted by time), marked at each instant
    where every asset has a price; empty if any asset has none."""
    if not prices or any(not series for series in prices.values()):
        return []
    share = capital / len(prices)
    units = {sym: share / series[0][1] for sym, series in prices.items()}
    by_time: dict[datetime, dict[str, Decimal]] = {}
    for sym, series in prices.items():
        for at, price in series:
            by_time.setdefault(at, {})[sym] = price
    last: dict[str, Decimal] = {}
    curve: list[EquityPoint] = []
    for at in sorted(by_time):
        last.update(by_time[at])
        if len(last) == len(prices):
            value = sum((units[s] * last[s] for s in prices), Decimal(0))
            curve.append(EquityPoint(at, value))
    return curve


def performance(
    trades: Sequence[ClosedTrade],
    curve: Sequence[EquityPoint],
    benchmark: Sequence[EquityPoint] = (),
) -> Performance:
    """Everything a report shows, from the closed trades and the marked-to-market curve."""
    start, end = curve[0].time, curve[-1].time
    stats = compute_trade_stats(trades)
    notional = sum((t.notional for t in trades), Decimal(0))
    return Performance(
        start=start,
        end=end,
        trades=stats,
        equity=equity_stats(curve),
        exposure=exposure(trades, start, end),
        turnover=float(notional / curve[0].equity),
        fees=stats.fees,
        buy_and_hold=equity_stats(benchmark) if benchmark else None,
        breakdowns={name: breakdown(trades, key) for name, key in BREAKDOWNS.items()},
    )
