"""Fixtures: the exchange simulator on 127.0.0.1 with a manual clock, and order intents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.marketdata.bars import PriceBook
from connectors.venues.simulator.engine import EngineConfig
from connectors.venues.simulator.exchange import RateLimit
from connectors.venues.simulator.testing import LocalSimulator
from records import Market, OrderIntent, Venue
from tests.doubles import order_intent

START = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
PRICES = PriceBook.bundled(("BTCUSDT",), "1h")

SimFactory = Callable[..., LocalSimulator]
IntentFactory = Callable[..., OrderIntent]


def _start(*, fraction: Decimal | None = None, capacity: int = 10_000) -> LocalSimulator:
    return LocalSimulator.start(
        PRICES,
        START,
        config=EngineConfig(max_fill_fraction=fraction),
        rate_limit=RateLimit(capacity=capacity, per_second=0.0 if capacity < 100 else 100.0),
    )


@pytest.fixture
def sim() -> Iterator[LocalSimulator]:
    with _start() as running:
        yield running


@pytest.fixture
def sim_factory() -> Iterator[SimFactory]:
    started: list[LocalSimulator] = []

    def make(**kw: Any) -> LocalSimulator:
        started.append(_start(**kw))
        return started[-1]

    yield make
    for running in started:
        running.stop()


def _intent(cid: str, venue: Venue, market: Market = Market.LINEAR, **kw: Any) -> OrderIntent:
    return order_intent(cid, venue=venue, market=market, created_at=START, **kw)


@pytest.fixture
def make_intent() -> IntentFactory:
    return _intent


def then_market_moves(sim: LocalSimulator, call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, after which the simulated market moves one bar: an order placed by it can fill
    before the adapter's first look at it."""

    def wrapped(**params: Any) -> Any:
        out = call(**params)
        sim.advance(1)
        return out

    return wrapped
