"""The real python-binance client, driven by BinanceExecutionClient, against the simulator."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from binance import Client
from binance.exceptions import BinanceAPIException

from connectors.venues.binance import BinanceExecutionClient
from connectors.venues.simulator.testing import NO_WAIT_RETRY, TEST_KEY, TEST_SECRET, LocalSimulator
from records import (
    Market,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    Venue,
)

pytestmark = pytest.mark.integration


def adapter(sim: LocalSimulator, secret: str = TEST_SECRET) -> BinanceExecutionClient:
    return BinanceExecutionClient(
        sim.config(Venue.BINANCE, secret), clock=sim.clock, retry=NO_WAIT_RETRY
    )


def raw_client(sim: LocalSimulator, secret: str = TEST_SECRET) -> Client:
    client = Client(TEST_KEY, secret, ping=False)
    client.API_URL = sim.url + "/api"
    client.FUTURES_URL = sim.url + "/fapi"
    return client


def test_futures_market_order_fills_and_shows_position(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    update = client.submit(make_intent("bn-m1", Venue.BINANCE, quantity=Decimal("0.0109")))
    assert (update.status, update.quantity) == (OrderStatus.NEW, Decimal("0.01"))
    sim.advance(1)
    [changed] = client.poll_updates()
    assert isinstance(changed, OrderUpdate)
    assert (changed.status, changed.filled_quantity) == (OrderStatus.FILLED, Decimal("0.01"))
    [pos] = client.positions()
    assert (pos.quantity, pos.average_entry) == (Decimal("0.01"), changed.average_price)
    assert client.balances()["USDT"] < Decimal(20000)


def test_spot_limit_and_cancel(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    placed = client.submit(
        make_intent(
            "bn-sl1",
            Venue.BINANCE,
            market=Market.SPOT,
            order_type=OrderType.LIMIT,
            limit_price=Decimal("50000.005"),
        )
    )
    assert placed.status is OrderStatus.NEW
    [row] = raw_client(sim).get_open_orders(symbol="BTCUSDT")
    assert (row["price"], row["type"]) == ("50000", "LIMIT")
    assert client.cancel("BTCUSDT", "bn-sl1").status is OrderStatus.CANCELED
    unknown = client.cancel("BTCUSDT", "bn-sl1")
    assert unknown.reason is not None
    assert "-2011" in unknown.reason


def test_futures_amend_post_only_ioc(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    client.submit(
        make_intent("bn-l1", Venue.BINANCE, order_type=OrderType.LIMIT, limit_price=Decimal(50000))
    )
    amended = client.amend("BTCUSDT", "bn-l1", quantity=Decimal("0.02"), price=Decimal(51000))
    assert amended.quantity == Decimal("0.02")
    post = client.submit(
        make_intent(
            "bn-po",
            Venue.BINANCE,
            order_type=OrderType.LIMIT,
            limit_price=Decimal(70000),
            time_in_force=TimeInForce.POST_ONLY,
        )
    )
    assert post.reason is not None
    assert "-5022" in post.reason
    client.submit(
        make_intent(
            "bn-ioc",
            Venue.BINANCE,
            order_type=OrderType.LIMIT,
            limit_price=Decimal(50000),
            time_in_force=TimeInForce.IOC,
        )
    )
    sim.advance(1)
    client.poll_updates()
    assert client.query("BTCUSDT", "bn-ioc").status is OrderStatus.EXPIRED


def test_conditional_orders_via_algo_endpoint_and_exits_after_fill(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    stop = client.submit(
        make_intent(
            "bn-stop", Venue.BINANCE, order_type=OrderType.STOP_MARKET, limit_price=Decimal(62500)
        )
    )
    assert stop.status is OrderStatus.UNTRIGGERED
    client.submit(
        make_intent("bn-br", Venue.BINANCE, stop_loss=Decimal(40000), take_profit=Decimal(90000))
    )
    sim.advance(48)
    client.poll_updates()
    assert client.query("BTCUSDT", "bn-stop").status is OrderStatus.FILLED
    assert client.query("BTCUSDT", "bn-br-sl").status is OrderStatus.UNTRIGGERED
    assert client.query("BTCUSDT", "bn-br-tp").status is OrderStatus.UNTRIGGERED
    assert client.cancel("BTCUSDT", "bn-br-tp").status is OrderStatus.CANCELED


def test_spot_stop_loss_sell(sim: LocalSimulator, make_intent: Callable[..., OrderIntent]) -> None:
    client = adapter(sim)
    client.submit(
        make_intent("bn-sb", Venue.BINANCE, market=Market.SPOT, quantity=Decimal("0.001"))
    )
    sim.advance(1)
    stop = client.submit(
        make_intent(
            "bn-ss",
            Venue.BINANCE,
            market=Market.SPOT,
            side=Side.SELL,
            order_type=OrderType.STOP_MARKET,
            limit_price=Decimal(30000),
            quantity=Decimal("0.001"),
        )
    )
    assert stop.status is OrderStatus.UNTRIGGERED


def test_partial_fills(
    sim_factory: Callable[..., LocalSimulator], make_intent: Callable[..., OrderIntent]
) -> None:
    sim = sim_factory(fraction=Decimal("0.00001"))
    client = adapter(sim)
    client.submit(make_intent("bn-part", Venue.BINANCE, quantity=Decimal("0.05")))
    sim.advance(1)
    [update] = client.poll_updates()
    assert isinstance(update, OrderUpdate)
    assert update.status is OrderStatus.PARTIALLY_FILLED


def test_rejections(sim: LocalSimulator, make_intent: Callable[..., OrderIntent]) -> None:
    client = adapter(sim)
    poor = client.submit(
        make_intent("bn-poor", Venue.BINANCE, market=Market.SPOT, quantity=Decimal(1))
    )
    assert poor.reason is not None
    assert "-2010" in poor.reason
    assert not poor.retryable
    futures_poor = client.submit(make_intent("bn-fpoor", Venue.BINANCE, quantity=Decimal(5)))
    assert futures_poor.reason is not None
    assert "-2019" in futures_poor.reason
    tiny = client.submit(
        make_intent("bn-tiny", Venue.BINANCE, market=Market.SPOT, quantity=Decimal("0.00002"))
    )
    assert tiny.reason is not None
    assert "-1013" in tiny.reason
    with pytest.raises(BinanceAPIException) as info:
        raw_client(sim).create_order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.01",
            price="50000.001",
        )
    assert info.value.code == -1013


def test_bad_signature_and_bad_key(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    update = adapter(sim, secret="wrong").submit(make_intent("bn-sig", Venue.BINANCE))
    assert update.reason is not None
    assert "-1022" in update.reason
    stranger = Client("nobody", TEST_SECRET, ping=False)
    stranger.API_URL = sim.url + "/api"
    with pytest.raises(BinanceAPIException) as info:
        stranger.get_account()
    assert (info.value.code, info.value.status_code) == (-2015, 401)


def test_rate_limit_429_is_retryable(
    sim_factory: Callable[..., LocalSimulator], make_intent: Callable[..., OrderIntent]
) -> None:
    sim = sim_factory(capacity=3)
    client = adapter(sim)
    assert client.submit(make_intent("bn-rl1", Venue.BINANCE)).status is OrderStatus.NEW
    limited = client.submit(make_intent("bn-rl2", Venue.BINANCE))
    assert (limited.status, limited.retryable) == (OrderStatus.REJECTED, True)
    assert limited.reason is not None
    assert "-1003" in limited.reason
    with pytest.raises(BinanceAPIException) as info:
        raw_client(sim).get_account()
    assert info.value.status_code == 429


def test_redelivered_intents_after_restart_place_no_duplicates(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    orders = [
        make_intent(f"bn-r{i}", Venue.BINANCE, market=m)
        for i, m in enumerate((Market.SPOT, Market.LINEAR))
    ]
    first = [adapter(sim).submit(o) for o in orders]
    again = [adapter(sim).submit(o) for o in orders]
    assert [u.venue_order_id for u in again] == [u.venue_order_id for u in first]
    assert len(sim.exchange.engine("binance", Market.SPOT).orders()) == 1
    assert len(sim.exchange.engine("binance", Market.LINEAR).orders()) == 1
