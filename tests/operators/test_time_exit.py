"""Time exits: which entries get one, when, and the close they send."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connectors.venues.ids import venue_client_id
from operators.risk import AccountFill, AccountOrderUpdate, CancelRequest
from operators.time_exit import (
    ORPHAN_WAIT,
    UNFILLED_WAIT,
    TimeExitLogic,
    exit_key,
    exit_orders,
    observe,
    time_exit_id,
)
from records import (
    Fill,
    ManualClock,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    Venue,
)
from tests.doubles import order_intent

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


def _entry(hold: int | None = 900, reduce_only: bool = False) -> OrderIntent:
    return order_intent(
        "tw-1",
        account="paper",
        symbol="ETHUSDT",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        quantity=Decimal("0.50"),
        limit_price=Decimal(2000),
        stop_loss=Decimal(2100),
        take_profit=Decimal(1800),
        reduce_only=reduce_only,
        hold_seconds=hold,
        reference_price=Decimal(2000),
        created_at=T0,
    )


def _fill(fill_id: str, qty: str, price: str, seconds: int, cid: str = "tw-1") -> AccountFill:
    fill = Fill(
        fill_id=fill_id,
        client_order_id=cid,
        venue=Venue.BYBIT,
        symbol="ETHUSDT",
        side=Side.SELL,
        quantity=Decimal(qty),
        price=Decimal(price),
        fee=Decimal(0),
        fee_asset="USDT",
        filled_at=T0 + timedelta(seconds=seconds),
    )
    return AccountFill(account="paper", fill=fill)


def _update(status: OrderStatus, filled: str = "0", cid: str = "tw-1") -> AccountOrderUpdate:
    update = OrderUpdate(
        client_order_id=cid,
        venue=Venue.BYBIT,
        symbol="ETHUSDT",
        status=status,
        quantity=Decimal("0.50"),
        filled_quantity=Decimal(filled),
        updated_at=T0,
    )
    return AccountOrderUpdate(account="paper", update=update)


def test_only_entries_with_a_hold_are_followed() -> None:
    assert observe(None, _entry(hold=None), NOW) is None
    assert observe(None, _entry(reduce_only=True), NOW) is None
    orphan = observe(None, _fill("f1", "0.5", "2000", 5), NOW)
    assert orphan is not None and orphan.intent is None and orphan.due is None
    assert observe(orphan, _entry(hold=None), NOW) is None
    assert exit_key(_entry()) == exit_key(_fill("f1", "0.5", "2000", 5)) == "tw-1"
    assert exit_key(_update(OrderStatus.NEW)) == "tw-1"


def test_an_entry_that_ends_unfilled_is_forgotten_and_one_that_filled_is_kept() -> None:
    entry = observe(None, _entry(), NOW)
    assert observe(entry, _update(OrderStatus.NEW), NOW) == entry
    assert observe(entry, _update(OrderStatus.REJECTED), NOW) is None
    assert observe(entry, _update(OrderStatus.CANCELED), NOW) is None
    # the venue says FILLED but no fill is seen (after a recovery fills are not replayed):
    # the update's quantity and time stand in for them
    filled = observe(entry, _update(OrderStatus.FILLED, filled="0.50"), NOW)
    assert filled is not None and filled.final and filled.due == T0 + timedelta(seconds=900)
    close = exit_orders(filled)[-1]
    assert isinstance(close, OrderIntent) and close.quantity == Decimal("0.50")
    # the fills arriving late do not double the close
    late = observe(filled, _fill("f1", "0.50", "2000", 5), NOW)
    assert late is not None and late.quantity == Decimal("0.50")


def test_at_the_due_time_the_rest_is_cancelled_and_the_fills_closed() -> None:
    entry = observe(None, _entry(), NOW)
    entry = observe(entry, _fill("f2", "0.20", "1999", 30), NOW)
    entry = observe(entry, _fill("f1", "0.10", "2001", 10), NOW)
    assert entry is not None and entry.due == T0 + timedelta(seconds=10 + 900)
    cancel, close = exit_orders(entry)
    assert isinstance(cancel, CancelRequest) and cancel.client_order_id == "tw-1"
    assert cancel.created_at == entry.due
    assert isinstance(close, OrderIntent)
    assert close.client_order_id == time_exit_id("tw-1", "ETHUSDT")
    assert len(close.client_order_id) == 33
    assert venue_client_id(close.client_order_id) == close.client_order_id
    assert (close.side, close.order_type, close.quantity) == (
        Side.BUY,
        OrderType.MARKET,
        Decimal("0.30"),
    )
    assert close.reduce_only and close.hold_seconds is None
    assert (close.limit_price, close.stop_loss, close.take_profit) == (None, None, None)
    assert close.created_at == entry.due
    assert close.reference_price == Decimal(2001)
    done = observe(entry, _update(OrderStatus.CANCELED, filled="0.30"), NOW)
    assert done is not None
    assert [type(o) for o in exit_orders(done)] == [OrderIntent]  # nothing left to cancel


def test_the_operator_wakes_at_the_due_time_sends_once_and_forgets() -> None:
    logic = TimeExitLogic(None, ManualClock(NOW))
    assert logic.on_item(_entry()) == ([], False)
    assert logic.notify_at() == NOW + UNFILLED_WAIT  # nothing filled yet
    assert logic.on_item(_fill("f1", "0.5", "2000", 60)) == ([], False)
    assert logic.on_item(_update(OrderStatus.FILLED, filled="0.5")) == ([], False)
    assert logic.notify_at() == T0 + timedelta(seconds=960)
    resumed = TimeExitLogic(pickle.loads(pickle.dumps(logic.snapshot())), ManualClock(NOW))
    [close], discard = resumed.on_notify()
    assert isinstance(close, OrderIntent) and close.quantity == Decimal("0.5") and discard


def test_fills_that_come_before_their_intent_wait_for_it_a_while() -> None:
    clock = ManualClock(NOW)
    logic = TimeExitLogic(None, clock)
    assert logic.on_item(_fill("f1", "0.5", "2000", 60)) == ([], False)
    assert logic.notify_at() == NOW + ORPHAN_WAIT  # no hold known yet
    assert logic.on_item(_entry()) == ([], False)
    assert logic.notify_at() == T0 + timedelta(seconds=960)
    [cancel, close], _ = logic.on_notify()
    assert isinstance(cancel, CancelRequest)
    assert isinstance(close, OrderIntent) and close.quantity == Decimal("0.5")
    # an entry that never hears of a fill is forgotten after a week
    stale = TimeExitLogic(None, clock)
    stale.on_item(_entry())
    assert stale.notify_at() == NOW + UNFILLED_WAIT
    assert stale.on_notify() == ([], True)
    # an order without a hold: its fills are forgotten once the wait is over
    other = TimeExitLogic(None, clock)
    other.on_item(_fill("f9", "1", "1", 0, cid="other"))
    assert other.on_notify() == ([], True)
    assert other.on_item(_entry(hold=None)) == ([], True)
