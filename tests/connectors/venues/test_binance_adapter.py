"""The real python-binance client, driven by BinanceExecutionClient, against the simulator."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from binance import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException

from connectors.venues.binance import BinanceExecutionClient
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
    fill, changed = client.poll_updates()
    assert isinstance(changed, OrderUpdate) and isinstance(fill, Fill)
    assert (changed.status, changed.filled_quantity) == (OrderStatus.FILLED, Decimal("0.01"))
    assert (fill.client_order_id, fill.side, fill.quantity) == ("bn-m1", Side.BUY, Decimal("0.01"))
    assert (fill.price, fill.fee_asset) == (changed.average_price, "USDT")
    assert fill.fee > 0
    [pos] = client.positions()
    assert (pos.quantity, pos.average_entry) == (Decimal("0.01"), changed.average_price)
    assert client.balances()["USDT"] == Decimal(20000) - fill.fee  # spot + futures wallets
    assert client.poll_updates() == []  # reported once


def test_order_filled_before_the_first_look_still_reports_its_fill(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    """A market order can fill between placement and the status query that follows it."""
    client = adapter(sim)
    client.client.create_order = then_market_moves(sim, client.client.create_order)
    update = client.submit(
        make_intent("bn-fast", Venue.BINANCE, market=Market.SPOT, quantity=Decimal("0.001"))
    )
    assert update.status is OrderStatus.FILLED
    events = client.poll_updates()
    [fill] = [e for e in events if isinstance(e, Fill)]
    assert (fill.client_order_id, fill.side, fill.quantity) == (
        "bn-fast",
        Side.BUY,
        Decimal("0.001"),
    )
    assert client.poll_updates() == []


def test_trade_list_failure_loses_no_fill(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    client.submit(make_intent("bn-retry", Venue.BINANCE, quantity=Decimal("0.01")))
    sim.advance(1)
    trades = client.client.futures_account_trades

    def down(**params: object) -> object:
        raise BinanceRequestException("Invalid Response: <html>502 Bad Gateway</html>")

    client.client.futures_account_trades = down
    assert client.poll_updates() == []
    client.client.futures_account_trades = trades
    [fill, update] = client.poll_updates()
    assert isinstance(fill, Fill) and fill.quantity == Decimal("0.01")
    assert isinstance(update, OrderUpdate) and update.status is OrderStatus.FILLED


def test_trade_lists_in_binance_wire_format(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    client = adapter(sim)
    client.submit(
        make_intent("bn-w1", Venue.BINANCE, market=Market.SPOT, quantity=Decimal("0.001"))
    )
    client.submit(make_intent("bn-w2", Venue.BINANCE, quantity=Decimal("0.01")))
    sim.advance(1)
    raw = raw_client(sim)
    [spot] = raw.get_my_trades(symbol="BTCUSDT")
    assert set(spot) == {
        "symbol", "id", "orderId", "orderListId", "price", "qty", "quoteQty", "commission",
        "commissionAsset", "time", "isBuyer", "isMaker", "isBestMatch",
    }  # fmt: skip
    assert (spot["isBuyer"], spot["qty"], spot["commissionAsset"]) == (True, "0.001", "USDT")
    [fut] = raw.futures_account_trades(symbol="BTCUSDT")
    assert set(fut) == {
        "buyer", "commission", "commissionAsset", "id", "maker", "orderId", "price", "qty",
        "quoteQty", "realizedPnl", "side", "positionSide", "symbol", "time",
    }  # fmt: skip
    assert (fut["side"], fut["qty"]) == ("BUY", "0.01")
    assert raw.futures_account_trades(symbol="ETHUSDT") == []
    assert raw.futures_account_trades(symbol="BTCUSDT", orderId=fut["orderId"] + 1) == []
    with pytest.raises(BinanceAPIException) as bad:
        raw.get_my_trades(symbol="BTCUSDT", limit="many")
    assert bad.value.code == -1100


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
    events = client.poll_updates()
    assert client.query("BTCUSDT", "bn-stop").status is OrderStatus.FILLED
    filled = {e.client_order_id for e in events if isinstance(e, Fill)}
    assert filled == {"bn-stop", "bn-br"}  # the triggered algo order's trades too
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
    fill, update = client.poll_updates()
    assert isinstance(update, OrderUpdate)
    assert update.status is OrderStatus.PARTIALLY_FILLED
    assert isinstance(fill, Fill) and fill.quantity == update.filled_quantity < Decimal("0.05")


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


def test_a_new_process_adopts_open_orders_and_reports_their_fills(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent]
) -> None:
    before = adapter(sim)
    before.submit(
        make_intent(
            "bn-ad-stop",
            Venue.BINANCE,
            order_type=OrderType.STOP_MARKET,
            limit_price=Decimal(62500),
        )
    )
    before.submit(
        make_intent(
            "bn-ad-lim",
            Venue.BINANCE,
            market=Market.SPOT,
            order_type=OrderType.LIMIT,
            limit_price=Decimal(70000),
            quantity=Decimal("0.001"),
        )
    )
    after = adapter(sim)  # a restarted process knows nothing of them
    assert {u.client_order_id for u in after.open_orders()} == {"bn-ad-stop", "bn-ad-lim"}
    sim.advance(48)
    fills = [e for e in after.poll_updates() if isinstance(e, Fill)]
    assert {(f.client_order_id, f.quantity) for f in fills} == {
        ("bn-ad-stop", Decimal("0.01")),
        ("bn-ad-lim", Decimal("0.001")),
    }


def test_an_intent_redelivered_after_its_order_filled_is_not_placed_again(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Binance checks client ids only among open orders, so the adapter must look first."""
    intent = make_intent("bn-f1", Venue.BINANCE)
    adapter(sim).submit(intent)
    sim.advance(1)
    later = adapter(sim)  # a new process after recovery, re-reading the intent

    def place(*_args: object) -> None:
        raise AssertionError("placed a second order")

    monkeypatch.setattr(later, "_place", place)
    again = later.submit(intent)
    assert (again.status, again.filled_quantity) == (OrderStatus.FILLED, Decimal("0.01"))
    assert len(sim.exchange.engine("binance", Market.LINEAR).orders()) == 1


def test_an_order_is_not_placed_when_the_venue_cannot_say_whether_it_exists(
    sim: LocalSimulator, make_intent: Callable[..., OrderIntent], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = adapter(sim)

    def lookup_fails(*_args: object) -> None:
        raise VenueError(-1003, "Too many requests.", retryable=True)

    def place(*_args: object) -> None:
        raise AssertionError("placed without knowing")

    monkeypatch.setattr(client, "_fetch", lookup_fails)
    monkeypatch.setattr(client, "_place", place)
    update = client.submit(make_intent("bn-look", Venue.BINANCE))
    assert (update.status, update.retryable) == (OrderStatus.REJECTED, True)
    assert "binance -1003" in (update.reason or "")
