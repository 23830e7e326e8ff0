"""A cancel of a partly filled order loses none of its fills (both live adapters)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from connectors.venues.simulator.testing import LocalSimulator
from records import Fill, OrderIntent, OrderStatus, OrderUpdate, Venue
from tests.connectors.venues import test_binance_adapter, test_bybit_adapter

pytestmark = pytest.mark.integration
ADAPTERS: dict[Venue, Callable[[LocalSimulator], Any]] = {
    Venue.BYBIT: test_bybit_adapter.adapter,
    Venue.BINANCE: test_binance_adapter.adapter,
}


@pytest.mark.parametrize("venue", [Venue.BYBIT, Venue.BINANCE])
def test_fills_before_a_cancel_are_reported_by_the_next_poll(
    venue: Venue,
    sim_factory: Callable[..., LocalSimulator],
    make_intent: Callable[..., OrderIntent],
) -> None:
    sim = sim_factory(fraction=Decimal("0.00001"))  # a fraction of a 1h bar's BTC volume
    client = ADAPTERS[venue](sim)
    client.submit(make_intent("pc-1", venue, quantity=Decimal("0.1")))
    assert client.poll_updates() == []
    sim.advance(1)  # part of the order fills; nobody has polled yet
    cancelled = client.cancel("BTCUSDT", "pc-1")
    assert cancelled.status is OrderStatus.CANCELED
    assert Decimal(0) < cancelled.filled_quantity < Decimal("0.1")
    events = client.poll_updates()
    fills = [e for e in events if isinstance(e, Fill)]
    assert sum(f.quantity for f in fills) == cancelled.filled_quantity
    [final] = [e for e in events if isinstance(e, OrderUpdate)]
    assert final.status is OrderStatus.CANCELED
    assert client.poll_updates() == []  # reported once
