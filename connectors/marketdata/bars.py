"""Historical OHLCV bars: the price feed for paper fills, backtests, sizing and the simulator.

Bars are read once into sorted arrays; lookups are by bisection on the open time. Prices stay
exact (``Decimal`` parsed from the file's text). A bar opening at ``t`` covers ``[t, t+interval)``
and is only *known* at ``t+interval``: the helpers that serve decisions honour that, so no
caller can see a price from its own future.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from connectors.bundled import PRICES_DIR


@dataclass(frozen=True, slots=True)
class Bar:
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class BarSeries:
    """Bars of one symbol at one interval, sorted by open time."""

    def __init__(self, symbol: str, interval: timedelta, bars: list[Bar]) -> None:
        if not bars:
            msg = f"no bars for {symbol}"
            raise ValueError(msg)
        self.symbol = symbol
        self.interval = interval
        self.bars = sorted(bars, key=lambda b: b.open_time)
        self._times = [int(b.open_time.timestamp()) for b in self.bars]

    def __len__(self) -> int:
        return len(self.bars)

    @property
    def start(self) -> datetime:
        return self.bars[0].open_time

    @property
    def end(self) -> datetime:
        return self.bars[-1].open_time + self.interval

    def first_open_at_or_after(self, instant: datetime) -> Bar | None:
        """The first bar that opens at or after ``instant``: where an order sent then can fill."""
        i = bisect.bisect_left(self._times, int(instant.timestamp()))
        return self.bars[i] if i < len(self.bars) else None

    def last_closed_before(self, instant: datetime) -> Bar | None:
        """The latest bar fully closed at ``instant``: the last price a decision may know."""
        cutoff = int((instant - self.interval).timestamp())
        i = bisect.bisect_right(self._times, cutoff)
        return self.bars[i - 1] if i > 0 else None

    def closed_before(self, instant: datetime, count: int) -> list[Bar]:
        """Up to ``count`` most recent bars fully closed at ``instant`` (oldest first)."""
        cutoff = int((instant - self.interval).timestamp())
        i = bisect.bisect_right(self._times, cutoff)
        return self.bars[max(0, i - count) : i]

    def opened_before(self, instant: datetime) -> int:
        """How many bars open strictly before ``instant``."""
        return bisect.bisect_left(self._times, int(instant.timestamp()))

    def closed_by(self, instant: datetime) -> int:
        """How many bars have closed at or before ``instant``."""
        return bisect.bisect_right(self._times, int((instant - self.interval).timestamp()))

    def between(self, start: datetime, end: datetime) -> Iterator[Bar]:
        """Bars opening in ``[start, end)``."""
        i = bisect.bisect_left(self._times, int(start.timestamp()))
        stop = int(end.timestamp())
        while i < len(self.bars) and self._times[i] < stop:
            yield self.bars[i]
            i += 1


def parse_bars_csv(symbol: str, interval: timedelta, text: str) -> BarSeries:
    """Parse ``date,open,high,low,close,volume`` rows (ISO dates with offset, UTC)."""
    bars: list[Bar] = []
    for row in csv.DictReader(io.StringIO(text)):
        opened = datetime.fromisoformat(row["date"]).astimezone(UTC)
        bars.append(
            Bar(
                open_time=opened,
                open=Decimal(row["open"]),
                high=Decimal(row["high"]),
                low=Decimal(row["low"]),
                close=Decimal(row["close"]),
                volume=Decimal(row["volume"]),
            )
        )
    return BarSeries(symbol, interval, bars)


def load_bars(path: Path, symbol: str, interval: timedelta) -> BarSeries:
    """Load a CSV (optionally gzipped) of bars."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return parse_bars_csv(symbol, interval, raw.decode("utf-8"))


BUNDLED: Mapping[str, tuple[str, timedelta]] = {
    "1h": ("{symbol}-1h.csv.gz", timedelta(hours=1)),
    "5m": ("{symbol}-5m-2023.csv.gz", timedelta(minutes=5)),
}


def load_bundled(symbol: str, interval: str = "1h") -> BarSeries:
    """Bundled real Binance spot bars (see data/README.md): BTCUSDT and ETHUSDT."""
    pattern, step = BUNDLED[interval]
    path = PRICES_DIR / pattern.format(symbol=symbol)
    if not path.exists():
        msg = f"no bundled {interval} bars for {symbol} (looked for {path})"
        raise FileNotFoundError(msg)
    return load_bars(path, symbol, step)


class PriceBook:
    """Bars for several symbols; answers the questions decisions and fills ask."""

    def __init__(self, series: Mapping[str, BarSeries]) -> None:
        self.series = dict(series)

    @classmethod
    def bundled(
        cls, symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"), interval: str = "1h"
    ) -> PriceBook:
        return cls({s: load_bundled(s, interval) for s in symbols})

    def symbols(self) -> tuple[str, ...]:
        return tuple(self.series)

    def last_price(self, symbol: str, instant: datetime) -> Decimal | None:
        """Close of the latest bar closed at ``instant``; None for unknown symbols or times."""
        s = self.series.get(symbol)
        bar = s.last_closed_before(instant) if s else None
        return bar.close if bar else None
