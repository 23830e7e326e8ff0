"""Market facts a decision may use, as plain values: last price, volatility, instrument steps.

Operators never read prices themselves; the flow asks its price source for the bars known at
decision time (``BarSeries.closed_before``) and passes them here, so the same decision replays
identically in a backtest.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

import msgspec


class OhlcBar(Protocol):
    """The bar fields ATR needs (``connectors.marketdata.bars.Bar`` satisfies it)."""

    @property
    def open_time(self) -> datetime: ...
    @property
    def high(self) -> Decimal: ...
    @property
    def low(self) -> Decimal: ...
    @property
    def close(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What was known about one symbol at decision time."""

    last_price: Decimal
    atr: Decimal | None
    """Average true range over recent bars, in price units; None when too few bars."""
    as_of: datetime
    """When ``last_price`` became known (close time of its bar): lets risk refuse stale data."""


def average_true_range(bars: Sequence[OhlcBar], period: int) -> Decimal | None:
    """Simple mean of the last ``period`` true ranges; needs ``period + 1`` bars (oldest first).

    A plain mean (not Wilder's smoothing) keeps the value exact and independent of how much
    history the caller happened to pass.
    """
    if period < 1:
        msg = f"ATR period must be >= 1, got {period}"
        raise ValueError(msg)
    if len(bars) < period + 1:
        return None
    window = bars[-(period + 1) :]
    total = Decimal(0)
    for prev, bar in itertools.pairwise(window):
        total += max(bar.high - bar.low, abs(bar.high - prev.close), abs(bar.low - prev.close))
    return total / period


def snapshot_from_bars(
    bars: Sequence[OhlcBar], interval: timedelta, atr_period: int = 14
) -> MarketSnapshot | None:
    """Snapshot from closed bars (oldest first): last close, ATR, close time of the last bar."""
    if not bars:
        return None
    last = bars[-1]
    return MarketSnapshot(
        last_price=last.close,
        atr=average_true_range(bars, atr_period),
        as_of=last.open_time + interval,
    )


class Instrument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Steps of one symbol: quantities are multiples of ``lot_step``, prices of ``tick_size``."""

    lot_step: Decimal
    tick_size: Decimal
    min_notional: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.lot_step <= 0 or self.tick_size <= 0:
            msg = "lot_step and tick_size must be > 0"
            raise ValueError(msg)
        if self.min_notional < 0:
            msg = "min_notional must be >= 0"
            raise ValueError(msg)

    def floor_quantity(self, quantity: Decimal) -> Decimal:
        """Round down to the lot step: never more than was sized."""
        if quantity <= 0:
            return Decimal(0)
        return (quantity / self.lot_step).to_integral_value(ROUND_DOWN) * self.lot_step

    def round_price(self, price: Decimal) -> Decimal:
        """Nearest tick (half-even): for limit, stop-loss and take-profit prices."""
        return (price / self.tick_size).to_integral_value() * self.tick_size
