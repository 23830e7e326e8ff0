"""Time exits: which entries get one, when, and the close they send."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from operators.risk import AccountFill
from operators.time_exit import TimeExitLogic, close_intent, exit_key, observe
from records import Fill, Market, OrderIntent, OrderType, Side, Venue

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


def _entry(hold: int | None = 900, reduce_only: bool = False) -> OrderIntent:
    return OrderIntent(
        client_order_id="tw-1",
        signal_id="sig-1",
        news_key="wire:1",
        model_version="m1",
        playbook="HACK",
        account="paper",
        venue=Venue.BYBIT,
        market=Market.LINEAR,
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
        reason="test",
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


def test_only_entries_with_a_hold_are_followed() -> None:
    assert observe(None, _entry(hold=None)) is None
    assert observe(None, _entry(reduce_only=True)) is None
    assert observe(None, _fill("f1", "0.5", "2000", 5)) is None
    assert exit_key(_entry()) == exit_key(_fill("f1", "0.5", "2000", 5)) == "tw-1"


def test_the_close_covers_every_fill_and_is_due_a_hold_after_the_first() -> None:
    entry = observe(None, _entry())
    assert entry is not None and entry.due is None
    entry = observe(entry, _fill("f2", "0.20", "1999", 30))
    entry = observe(entry, _fill("f1", "0.30", "2001", 10))
    assert entry is not None and entry.due == T0 + timedelta(seconds=10 + 900)
    close = close_intent(entry)
    assert close.client_order_id == "tw-1-tx"
    assert (close.side, close.order_type, close.quantity) == (
        Side.BUY,
        OrderType.MARKET,
        Decimal("0.50"),
    )
    assert close.reduce_only and close.hold_seconds is None
    assert (close.limit_price, close.stop_loss, close.take_profit) == (None, None, None)
    assert close.created_at == entry.due
    assert close.reference_price == Decimal(2001)


def test_the_operator_wakes_at_the_due_time_sends_once_and_forgets() -> None:
    logic = TimeExitLogic(None)
    assert logic.on_item(_entry()) == ([], False)
    assert logic.notify_at() is None
    assert logic.on_item(_fill("f1", "0.5", "2000", 60)) == ([], False)
    assert logic.notify_at() == T0 + timedelta(seconds=960)
    resumed = TimeExitLogic(pickle.loads(pickle.dumps(logic.snapshot())))
    [close], discard = resumed.on_notify()
    assert close.client_order_id == "tw-1-tx" and discard
    assert TimeExitLogic(None).on_item(_fill("f9", "1", "1", 0, cid="other")) == ([], True)
