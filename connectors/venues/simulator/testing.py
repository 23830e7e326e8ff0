"""Test and demo harness: the exchange simulator on 127.0.0.1 with a manual market clock.

    with LocalSimulator.start(PriceBook.bundled(), start) as sim:
        client = BybitExecutionClient(sim.config(Venue.BYBIT), clock=sim.clock)
        ...; sim.advance(hours=1)   # market time moves only when told

(As bytewax ships ``testing.py`` next to its operators: the doubles live with what they test.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from connectors.marketdata.bars import PriceBook
from connectors.venues.config import Network, VenueConfig
from connectors.venues.retry import RetryPolicy
from connectors.venues.simulator.engine import EngineConfig
from connectors.venues.simulator.exchange import ExchangeSimulator, RateLimit
from connectors.venues.simulator.server import SimulatorServer
from records import ManualClock, Venue

TEST_KEY = "test-key"
TEST_SECRET = "test-secret"  # a throwaway credential of the local simulator, not a real key

NO_WAIT_RETRY = RetryPolicy(attempts=2, base_delay=0.0, sleep=lambda _: None)
"""Retries once without sleeping: keeps retry paths exercised and tests fast."""


class LocalSimulator:
    """A running simulator server plus its manual clock and exchange state."""

    def __init__(self, clock: ManualClock, exchange: ExchangeSimulator, server: SimulatorServer):
        self.clock = clock
        self.exchange = exchange
        self.server = server

    @classmethod
    def start(
        cls,
        prices: PriceBook,
        start: datetime,
        *,
        balances: dict[str, Decimal] | None = None,
        config: EngineConfig | None = None,
        rate_limit: RateLimit | None = None,
    ) -> LocalSimulator:
        clock = ManualClock(start)
        exchange = ExchangeSimulator(
            prices,
            clock,
            api_keys={TEST_KEY: TEST_SECRET},
            balances=balances or {"USDT": Decimal(10_000)},
            config=config,
            rate_limit=rate_limit,
        )
        return cls(clock, exchange, SimulatorServer(exchange).start())

    @property
    def url(self) -> str:
        return self.server.url

    def config(self, venue: Venue, secret: str = TEST_SECRET) -> VenueConfig:
        return VenueConfig(
            venue=venue,
            api_key=TEST_KEY,
            api_secret=secret,
            network=Network.SIMULATOR,
            endpoint=self.url,
        )

    def advance(self, hours: float) -> None:
        self.clock.set(self.clock.now() + timedelta(hours=hours))

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> LocalSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
