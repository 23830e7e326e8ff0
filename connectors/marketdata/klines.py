"""Live market snapshots from the venue's klines (Bybit V5 ``/v5/market/kline``, public).

A decision at ``t`` needs the bars closed by ``t``; they change once per bar, so each symbol is
fetched at most once per bar interval and served from memory in between. A failed fetch yields
no snapshot: the risk engine then refuses the order with a ``market_data`` reason instead of
sizing it from stale or invented prices.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from connectors.marketdata.bars import Bar
from operators.market import MarketSnapshot, snapshot_from_bars

log = logging.getLogger(__name__)


class KlineSession(Protocol):
    """What is used of ``pybit.unified_trading.HTTP``."""

    def get_kline(self, **kwargs: Any) -> Mapping[str, Any]: ...


def parse_bybit_klines(payload: Mapping[str, Any]) -> list[Bar]:
    """Bars from a V5 kline response (newest first on the wire), oldest first."""
    if payload.get("retCode") != 0:
        msg = f"kline request failed: {payload.get('retCode')} {payload.get('retMsg')}"
        raise ValueError(msg)
    bars = [
        Bar(
            open_time=datetime.fromtimestamp(int(row[0]) / 1000, tz=UTC),
            open=Decimal(row[1]),
            high=Decimal(row[2]),
            low=Decimal(row[3]),
            close=Decimal(row[4]),
            volume=Decimal(row[5]),
        )
        for row in payload["result"]["list"]
    ]
    return sorted(bars, key=lambda b: b.open_time)


class BybitKlinesMarketData:
    """``MarketData`` for live trading, from a pybit session (testnet, mainnet or simulator)."""

    def __init__(
        self,
        session: Callable[[], KlineSession],
        *,
        category: str = "linear",
        interval: timedelta = timedelta(hours=1),
        atr_period: int = 14,
    ) -> None:
        self._session = session
        self._category = category
        self._interval = interval
        self._atr_period = atr_period
        self._cache: dict[str, list[Bar]] = {}
        self._lock = threading.Lock()

    def _closed(self, bars: list[Bar], at: datetime) -> list[Bar]:
        """Only bars closed by ``at``: the venue also sends the one still forming."""
        return [b for b in bars if b.open_time + self._interval <= at]

    def snapshot(self, symbol: str, at: datetime) -> MarketSnapshot | None:
        step = int(self._interval.total_seconds())
        latest_closed_open = datetime.fromtimestamp(
            (int(at.timestamp()) // step) * step - step, tz=UTC
        )
        with self._lock:
            bars = self._cache.get(symbol, [])
            if not bars or bars[-1].open_time < latest_closed_open:
                try:
                    payload = self._session().get_kline(
                        category=self._category,
                        symbol=symbol,
                        interval=str(step // 60),
                        limit=self._atr_period + 2,
                    )
                    bars = self._closed(parse_bybit_klines(payload), at)
                except Exception as exc:  # network, venue or payload errors: no snapshot
                    log.warning("klines for %s unavailable: %s", symbol, exc)
                    return None
                self._cache[symbol] = bars
        return snapshot_from_bars(self._closed(bars, at), self._interval, self._atr_period)
