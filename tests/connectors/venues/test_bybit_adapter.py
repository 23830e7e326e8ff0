"""The real pybit client, driven by BybitExecutionClient, against the simulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from pybit.unified_trading import HTTP

from connectors.venues.bybit import BybitExecutionClient
from connectors.venues.retry import VenueError
from connectors.venues.simulator.testing import NO_WAIT_RETRY, TEST_KEY, TEST_SECRET, LocalSimulator
from records import (
    Fill,
    Market,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    Venue,
)
from tests.connectors.venues.conftest import then_market_moves

pytestmark = pytest.mark.integration


def adapter(sim: LocalSimulator, secret: str = TEST_SECRET) -> BybitExecutionClient:
    return BybitExecutionClient(
        sim.config(Venue.BYBIT, secret), clock=sim.clock, retry=NO_WAIT_RETRY
    )


def raw_session(sim: LocalSimulator, secret: str = TEST_SECRET) -> HTTP:
    session = HTTP(
        api_key=TEST_KEY, api_secret=secret, testnet=True, max_retries=1, retry_codes={-1}
    )
    session.endpoint = sim.url
    return session


def test_market_order_fills_and_reports_fill_position_and_balance(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    update = client.submit(make_intent("bb-m1", Venue.BYBIT, quantity=Decimal("0.0109")))
    assert (update.status, update.quantity) == (OrderStatus.NEW, Decimal("0.01"))
    sim.advance(1)
    events = client.poll_updates()
    fills = [e for e in events if isinstance(e, Fill)]
    assert len(fills) == 1
    assert fills[0].quantity == Decimal("0.01")
    assert fills[0].fee > 0
    assert client.query("BTCUSDT", "bb-m1").status is OrderStatus.FILLED
    [pos] = client.positions()
    assert (pos.symbol, pos.quantity, pos.average_entry) == (
        "BTCUSDT",
        Decimal("0.01"),
        fills[0].price,
    )
    assert client.balances()["USDT"] == Decimal(20000) - fills[0].fee  # spot + linear accounts


def test_order_filled_before_the_first_look_still_reports_its_fill(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    """A market order can fill between placement and the status query that follows it."""
    client = adapter(sim)
    client.session.place_order = then_market_moves(sim, client.session.place_order)
    update = client.submit(make_intent("bb-fast", Venue.BYBIT, quantity=Decimal("0.01")))
    assert update.status is OrderStatus.FILLED
    events = client.poll_updates()
    [fill] = [e for e in events if isinstance(e, Fill)]
    assert (fill.client_order_id, fill.quantity) == ("bb-fast", Decimal("0.01"))
    assert client.poll_updates() == []  # reported once


def test_limit_amend_cancel(sim: LocalSimulator, make_intent: Callable[..., OrderIntent]) -> None:
    client = adapter(sim)
    client.submit(
        make_intent(
            "bb-l1", Venue.BYBIT, order_type=OrderType.LIMIT, limit_price=Decimal("50000.04")
        )
    )
    [open_order] = client.open_orders("BTCUSDT")
    assert open_order.client_order_id == "bb-l1"
    amended = client.amend("BTCUSDT", "bb-l1", quantity=Decimal("0.02"), price=Decimal(51000))
    assert amended.quantity == Decimal("0.02")
    assert sim.exchange.engine("bybit", Market.LINEAR).order("bb-l1").price == Decimal(51000)  # type: ignore[union-attr]
    assert client.cancel("BTCUSDT", "bb-l1").status is OrderStatus.CANCELED
    again = client.cancel("BTCUSDT", "bb-l1")
    assert (again.status, again.retryable) == (OrderStatus.REJECTED, False)
    assert again.reason is not None
    assert "110008" in again.reason


def test_ioc_fok_and_post_only(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    far = {"order_type": OrderType.LIMIT, "limit_price": Decimal(50000)}
    client.submit(make_intent("bb-ioc", Venue.BYBIT, time_in_force=TimeInForce.IOC, **far))
    client.submit(make_intent("bb-fok", Venue.BYBIT, time_in_force=TimeInForce.FOK, **far))
    post = client.submit(
        make_intent(
            "bb-po",
            Venue.BYBIT,
            order_type=OrderType.LIMIT,
            limit_price=Decimal(70000),
            time_in_force=TimeInForce.POST_ONLY,
        )
    )
    assert post.status is OrderStatus.REJECTED
    sim.advance(1)
    client.poll_updates()
    assert client.query("BTCUSDT", "bb-ioc").status is OrderStatus.CANCELED
    assert client.query("BTCUSDT", "bb-fok").status is OrderStatus.CANCELED


def test_conditional_orders_and_attached_exits(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    entry = client.submit(
        make_intent("bb-br", Venue.BYBIT, stop_loss=Decimal(61000), take_profit=Decimal(100000))
    )
    assert entry.status is OrderStatus.NEW
    stop = client.submit(
        make_intent(
            "bb-stop",
            Venue.BYBIT,
            side=Side.BUY,
            order_type=OrderType.STOP_MARKET,
            limit_price=Decimal(62500),
        )
    )
    assert stop.status is OrderStatus.UNTRIGGERED
    tp = client.submit(
        make_intent(
            "bb-tp",
            Venue.BYBIT,
            side=Side.BUY,
            order_type=OrderType.TAKE_PROFIT_MARKET,
            limit_price=Decimal(30000),
        )
    )
    assert tp.status is OrderStatus.UNTRIGGERED
    sim.advance(48)
    client.poll_updates()
    assert client.query("BTCUSDT", "bb-stop").status is OrderStatus.FILLED
    assert client.query("BTCUSDT", "bb-tp").status is OrderStatus.UNTRIGGERED
    engine = sim.exchange.engine("bybit", Market.LINEAR)
    exits = {o.client_order_id: o.status for o in engine.orders() if o.parent_id == "bb-br"}
    assert set(exits) == {"bb-br-sl", "bb-br-tp"}


def test_partial_fills(
    sim_factory: Callable[..., LocalSimulator], make_intent: Callable[..., OrderIntent]
) -> None:
    sim = sim_factory(fraction=Decimal("0.00001"))  # a fraction of a 1h bar's BTC volume
    client = adapter(sim)
    client.submit(make_intent("bb-part", Venue.BYBIT, quantity=Decimal("0.05")))
    sim.advance(1)
    events = client.poll_updates()
    updates = [e for e in events if isinstance(e, OrderUpdate)]
    assert updates[-1].status is OrderStatus.PARTIALLY_FILLED
    assert Decimal(0) < updates[-1].filled_quantity < Decimal("0.05")
    sim.advance(24)
    client.poll_updates()
    assert client.query("BTCUSDT", "bb-part").status is OrderStatus.FILLED


def test_rejections_are_final_with_reason(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    poor = client.submit(make_intent("bb-poor", Venue.BYBIT, quantity=Decimal(5)))
    assert (poor.status, poor.retryable) == (OrderStatus.REJECTED, False)
    assert poor.reason is not None
    assert "110007" in poor.reason
    tiny = client.submit(
        make_intent("bb-tiny", Venue.BYBIT, market=Market.SPOT, quantity=Decimal("0.00002"))
    )
    assert tiny.reason is not None
    assert "170140" in tiny.reason
    reduce = client.submit(make_intent("bb-ro", Venue.BYBIT, side=Side.SELL, reduce_only=True))
    assert reduce.reason is not None
    assert "110017" in reduce.reason


def test_bad_signature_is_refused(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    update = adapter(sim, secret="wrong").submit(make_intent("bb-sig", Venue.BYBIT))
    assert update.status is OrderStatus.REJECTED
    assert update.reason is not None
    assert "10004" in update.reason
    with pytest.raises(Exception, match="10004"):
        raw_session(sim, "wrong").get_wallet_balance(accountType="UNIFIED")


def test_rate_limit_is_retryable(
    sim_factory: Callable[..., LocalSimulator], make_intent: Callable[..., OrderIntent]
) -> None:
    sim = sim_factory(capacity=3)
    client = adapter(sim)
    update = client.submit(make_intent("bb-rl1", Venue.BYBIT))  # instruments + create + query
    assert update.status is OrderStatus.NEW
    limited = client.submit(make_intent("bb-rl2", Venue.BYBIT))
    assert (limited.status, limited.retryable) == (OrderStatus.REJECTED, True)
    assert limited.reason is not None
    assert "10006" in limited.reason


def test_redelivered_intents_after_restart_place_no_duplicates(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    orders = [make_intent(f"bb-r{i}", Venue.BYBIT) for i in range(3)]
    first = [adapter(sim).submit(o) for o in orders]
    restarted = adapter(sim)
    again = [restarted.submit(o) for o in orders]
    assert [u.venue_order_id for u in again] == [u.venue_order_id for u in first]
    assert len(sim.exchange.engine("bybit", Market.LINEAR).orders()) == 3


def test_spot_market_buy_in_base_units(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    client.submit(
        make_intent("bb-spot", Venue.BYBIT, market=Market.SPOT, quantity=Decimal("0.001"))
    )
    sim.advance(1)
    assert client.query("BTCUSDT", "bb-spot").filled_quantity == Decimal("0.001")
    assert client.balances()["BTC"] == Decimal("0.001")


def test_classify_marks_unknown_errors_final() -> None:
    from connectors.venues.bybit import classify

    assert classify(ValueError("x")).retryable is False
    assert isinstance(classify(VenueError(1, "m", retryable=True)), VenueError)
