"""SimulatedExecutionClient: intents in, OrderUpdate/Fill records out, on the bundled real bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connectors.marketdata.bars import PriceBook
from connectors.venues.base import ExecutionClient
from connectors.venues.simulated import SimulatedExecutionClient
from connectors.venues.simulator.engine import EngineConfig
from records import (
    Fill,
    ManualClock,
    Market,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    Venue,
)

D = Decimal

START = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
PRICES = PriceBook.bundled(("BTCUSDT",), "1h")


def intent(cid: str, **kw: object) -> OrderIntent:
    base: dict[str, object] = {
        "client_order_id": cid,
        "signal_id": "sig",
        "news_key": "src:1",
        "model_version": "m1",
        "playbook": "test",
        "account": "paper",
        "venue": Venue.SIMULATOR,
        "market": Market.LINEAR,
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "order_type": OrderType.MARKET,
        "quantity": D("0.0104"),
        "reference_price": D(60000),
        "reason": "test",
        "created_at": START,
    }
    base.update(kw)
    return OrderIntent(**base)  # type: ignore[arg-type]


def client(clock: ManualClock, usdt: str = "10000") -> SimulatedExecutionClient:
    return SimulatedExecutionClient.create(
        PRICES, clock, balances={"USDT": D(usdt)}, config=EngineConfig()
    )


def test_satisfies_the_execution_protocol() -> None:
    c: ExecutionClient = client(ManualClock(START))
    assert c.venue is Venue.SIMULATOR


def test_market_intent_fills_at_next_bar_open_and_time_exit_closes_it() -> None:
    clock = ManualClock(START)
    c = client(clock)
    update = c.submit(intent("a", hold_seconds=3600))
    assert update.status is OrderStatus.NEW
    assert update.quantity == D("0.010")  # rounded down to the 0.001 lot
    clock.set(START + timedelta(hours=1))
    events = c.poll_updates()
    fill = next(e for e in events if isinstance(e, Fill) and e.client_order_id == "a")
    open_1300 = PRICES.series["BTCUSDT"].first_open_at_or_after(START)
    assert open_1300 is not None
    assert fill.filled_at == open_1300.open_time
    assert fill.price >= open_1300.open
    assert c.query("BTCUSDT", "a").status is OrderStatus.FILLED
    [pos] = c.positions()
    assert pos.quantity == D("0.010")
    clock.set(START + timedelta(hours=3))
    c.sync()
    assert c.query("BTCUSDT", "a-tx").status is OrderStatus.FILLED
    [pos] = c.positions()
    assert pos.quantity == 0
    assert pos.fees > 0


def test_redelivered_intent_places_no_second_order() -> None:
    clock = ManualClock(START)
    c = client(clock)
    first = c.submit(intent("dup"))
    clock.set(START + timedelta(hours=2))
    again = c.submit(intent("dup"))
    assert again.venue_order_id == first.venue_order_id
    assert again.status is OrderStatus.FILLED
    assert len([e for e in c.poll_updates() if isinstance(e, Fill)]) == 1


def test_rejection_is_an_update_with_a_reason() -> None:
    c = client(ManualClock(START), usdt="10")
    update = c.submit(intent("poor"))
    assert update.status is OrderStatus.REJECTED
    assert update.reason is not None
    assert "INSUFFICIENT_BALANCE" in update.reason
    assert not update.retryable
    missing = c.cancel("BTCUSDT", "never-sent")
    assert (missing.status, missing.reason) == (OrderStatus.REJECTED, "unknown order")


def test_limit_amend_cancel_and_attached_stop() -> None:
    clock = ManualClock(START)
    c = client(clock)
    c.submit(intent("lim", order_type=OrderType.LIMIT, limit_price=D("1000.04")))
    [open_order] = c.open_orders("BTCUSDT")
    assert open_order.client_order_id == "lim"
    amended = c.amend("BTCUSDT", "lim", quantity=D("0.02"), price=D("1100"))
    assert amended.quantity == D("0.02")
    assert c.cancel("BTCUSDT", "lim").status is OrderStatus.CANCELED
    mark = PRICES.last_price("BTCUSDT", START)
    assert mark is not None
    c.submit(intent("sl", stop_loss=(mark * D("0.999")).quantize(D("0.1"))))
    clock.set(START + timedelta(days=3))
    updates = c.poll_updates()
    sl = [u for u in updates if isinstance(u, OrderUpdate) and u.client_order_id == "sl-sl"]
    assert sl
    assert sl[-1].status is OrderStatus.FILLED
