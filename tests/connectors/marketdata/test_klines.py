"""Live market snapshots through the real pybit client against the exchange simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pybit.unified_trading import HTTP

from connectors.marketdata.bars import PriceBook
from connectors.marketdata.klines import BybitKlinesMarketData, parse_bybit_klines
from connectors.marketdata.snapshots import BarsMarketData
from connectors.venues.simulator.testing import LocalSimulator

pytestmark = pytest.mark.integration
START = datetime(2022, 5, 9, 12, 30, tzinfo=UTC)
PRICES = PriceBook.bundled()


@pytest.fixture
def sim() -> Iterator[LocalSimulator]:
    local = LocalSimulator.start(PRICES, START)
    try:
        yield local
    finally:
        local.stop()


class CountingSession:
    def __init__(self, http: HTTP) -> None:
        self.http = http
        self.calls = 0

    def get_kline(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.http.get_kline(**kwargs)


def test_snapshot_matches_bars_known_at_that_time_and_is_cached(sim: LocalSimulator) -> None:
    http = HTTP(testnet=True)
    http.endpoint = sim.url
    session = CountingSession(http)
    live = BybitKlinesMarketData(lambda: session)
    replay = BarsMarketData(PRICES)

    snap = live.snapshot("BTCUSDT", START)
    assert snap is not None
    assert snap == replay.snapshot("BTCUSDT", START)
    assert snap.as_of == datetime(2022, 5, 9, 12, tzinfo=UTC)
    assert live.snapshot("BTCUSDT", START + timedelta(minutes=10)) == snap
    assert session.calls == 1, "same closed bar: served from memory"

    sim.clock.set(START + timedelta(hours=1))
    later = live.snapshot("BTCUSDT", START + timedelta(hours=1))
    assert session.calls == 2
    assert later == replay.snapshot("BTCUSDT", START + timedelta(hours=1))


def test_unavailable_venue_gives_no_snapshot() -> None:
    http = HTTP(testnet=True, timeout=1, max_retries=0)
    http.endpoint = "http://127.0.0.1:9"
    assert BybitKlinesMarketData(lambda: http).snapshot("BTCUSDT", START) is None


def test_parse_rejects_error_payload() -> None:
    with pytest.raises(ValueError, match="10001"):
        parse_bybit_klines({"retCode": 10001, "retMsg": "params error"})
