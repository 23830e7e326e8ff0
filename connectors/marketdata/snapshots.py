"""Market snapshots for decisions, from bars: what was known about a symbol at an instant.

Only bars fully closed at the decision time are used (``BarSeries.closed_before``), so a replay
can never size or price an order from its own future.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from connectors.marketdata.bars import PriceBook
from operators.market import MarketSnapshot, snapshot_from_bars


class MarketData(Protocol):
    def snapshot(self, symbol: str, at: datetime) -> MarketSnapshot | None:
        """Last price and volatility of ``symbol`` as known at ``at``; None if unknown."""
        ...


class BarsMarketData:
    """Snapshots from historical bars: the demo, backtests and paper trading on replay."""

    def __init__(self, book: PriceBook, atr_period: int = 14) -> None:
        self._book = book
        self._atr_period = atr_period

    def snapshot(self, symbol: str, at: datetime) -> MarketSnapshot | None:
        series = self._book.series.get(symbol)
        if series is None:
            return None
        bars = series.closed_before(at, self._atr_period + 1)
        return snapshot_from_bars(bars, series.interval, self._atr_period)
