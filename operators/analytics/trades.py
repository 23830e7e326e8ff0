"""Closed round trips and the statistics users judge a strategy by (win rate, profit factor, ...).

Money stays ``Decimal``; ratios that are statistics, not amounts (win rate, profit factor), are
floats. A figure with no meaning for the sample (profit factor without a losing trade, averages
of nothing) is ``None``, never a made-up number like infinity or zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from records import Side, UtcDatetime

ZERO = Decimal(0)


class ClosedTrade(msgspec.Struct, frozen=True, kw_only=True):
    """One position from entry fill to exit fill, with what it cost and why it ended."""

    trade_id: str
    """The entry order's client order id."""
    symbol: str
    asset: str
    side: Side
    """Entry side: BUY is a long, SELL a short."""
    quantity: Decimal
    entry_time: UtcDatetime
    entry_price: Decimal
    exit_time: UtcDatetime
    exit_price: Decimal
    fees: Decimal
    """Entry and exit fees, in quote currency."""
    funding: Decimal = ZERO
    """Perpetual funding paid (negative when received)."""
    exit_reason: str
    event_type: str
    source: str
    playbook: str
    signal_id: str
    decided_at: UtcDatetime
    """When the signal was received (the decision time); entry is later by the latency."""

    @property
    def direction(self) -> int:
        return 1 if self.side is Side.BUY else -1

    @property
    def gross_pnl(self) -> Decimal:
        return (self.exit_price - self.entry_price) * self.quantity * self.direction

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.fees - self.funding

    @property
    def notional(self) -> Decimal:
        """Traded notional of both legs (entry and exit): the basis of turnover."""
        return (self.entry_price + self.exit_price) * self.quantity


class TradeStats(msgspec.Struct, frozen=True, kw_only=True):
    trades: int
    wins: int
    losses: int
    win_rate: float | None
    avg_win: Decimal | None
    avg_loss: Decimal | None
    """Mean of losing trades' net PnL (a negative number)."""
    profit_factor: float | None
    """Gross profit / gross loss of net PnLs; None when there is no losing trade."""
    expectancy: Decimal | None
    """Mean net PnL per trade."""
    gross_profit: Decimal
    gross_loss: Decimal
    net_pnl: Decimal
    fees: Decimal
    funding: Decimal


def trade_stats(trades: Sequence[ClosedTrade]) -> TradeStats:
    """Statistics of net PnL per trade; a trade at exactly zero counts as neither win nor loss."""
    pnls = [t.net_pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit = sum(wins, ZERO)
    gross_loss = -sum(losses, ZERO)
    n = len(pnls)
    return TradeStats(
        trades=n,
        wins=len(wins),
        losses=len(losses),
        win_rate=len(wins) / n if n else None,
        avg_win=gross_profit / len(wins) if wins else None,
        avg_loss=-gross_loss / len(losses) if losses else None,
        profit_factor=float(gross_profit / gross_loss) if gross_loss > 0 else None,
        expectancy=sum(pnls, ZERO) / n if n else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net_pnl=sum(pnls, ZERO),
        fees=sum((t.fees for t in trades), ZERO),
        funding=sum((t.funding for t in trades), ZERO),
    )


def breakdown(
    trades: Iterable[ClosedTrade], key: Callable[[ClosedTrade], str]
) -> dict[str, TradeStats]:
    """Statistics per group (event type, source, asset, playbook), groups sorted by name."""
    groups: defaultdict[str, list[ClosedTrade]] = defaultdict(list)
    for trade in trades:
        groups[key(trade)].append(trade)
    return {name: trade_stats(groups[name]) for name in sorted(groups)}


BREAKDOWNS: dict[str, Callable[[ClosedTrade], str]] = {
    "event_type": lambda t: t.event_type,
    "source": lambda t: t.source,
    "asset": lambda t: t.asset,
    "playbook": lambda t: t.playbook,
    "exit_reason": lambda t: t.exit_reason,
}
"""The breakdowns every report carries: which signals earn and which lose."""


def exposure(trades: Iterable[ClosedTrade], start: datetime, end: datetime) -> float:
    """Fraction of ``[start, end)`` with at least one open position (overlaps counted once)."""
    span = (end - start).total_seconds()
    if span <= 0:
        return 0.0
    intervals = sorted(
        (max(t.entry_time, start), min(t.exit_time, end))
        for t in trades
        if t.exit_time > start and t.entry_time < end
    )
    covered = 0.0
    cur_start: datetime | None = None
    cur_end: datetime | None = None
    for a, b in intervals:
        if cur_end is None or a > cur_end:
            if cur_start is not None and cur_end is not None:
                covered += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = a, b
        elif b > cur_end:
            cur_end = b
    if cur_start is not None and cur_end is not None:
        covered += (cur_end - cur_start).total_seconds()
    return covered / span
