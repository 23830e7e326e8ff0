"""Time exits for live venues: close an entry ``hold_seconds`` after its first fill.

Bybit and Binance have no order type for "close this position in an hour", so the execution
flow keeps one small state per entry order that asked for it (keyed by client order id): the
intent, the quantity filled so far and when its first fill came. When that time plus
``hold_seconds`` has passed, it emits a reduce-only market order ``<id>-tx`` for the filled
quantity, which goes out like any other intent. The close's id and time are functions of the
entry, so a replay or a recovery never sends a second one; a position that its stop-loss or
take-profit already closed makes the venue refuse the reduce-only close, and nothing else.
The simulator applies the same rule itself, so backtests and live trade alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
from bytewax.operators import StatefulLogic

from operators.risk import AccountFill
from records import OrderIntent, OrderType, Side

TimeExitEvent = OrderIntent | AccountFill


def wants_time_exit(intent: OrderIntent) -> bool:
    return intent.hold_seconds is not None and not intent.reduce_only


def exit_key(event: TimeExitEvent) -> str:
    """The entry's client order id, for intents and fills alike."""
    return event.client_order_id if isinstance(event, OrderIntent) else event.fill.client_order_id


@dataclass(frozen=True, slots=True)
class Entry:
    intent: OrderIntent
    filled: Decimal = Decimal(0)
    last_price: Decimal | None = None
    first_fill_at: datetime | None = None

    @property
    def due(self) -> datetime | None:
        if self.first_fill_at is None or self.intent.hold_seconds is None:
            return None
        return self.first_fill_at + timedelta(seconds=self.intent.hold_seconds)


def observe(entry: Entry | None, event: TimeExitEvent) -> Entry | None:
    """The entry after an intent or a fill; None while there is nothing to close later."""
    if isinstance(event, OrderIntent):
        return entry if entry is not None else Entry(event) if wants_time_exit(event) else None
    if entry is None:
        return None
    fill = event.fill
    first = entry.first_fill_at
    return replace(
        entry,
        filled=entry.filled + fill.quantity,
        last_price=fill.price,
        first_fill_at=fill.filled_at if first is None else min(first, fill.filled_at),
    )


def close_intent(entry: Entry) -> OrderIntent:
    """The reduce-only market order that ends the hold, for what the entry got filled."""
    intent, due = entry.intent, entry.due
    assert due is not None, "only an entry with a fill has a time exit"
    return msgspec.structs.replace(
        intent,
        client_order_id=f"{intent.client_order_id}-tx",
        side=Side.SELL if intent.side is Side.BUY else Side.BUY,
        order_type=OrderType.MARKET,
        quantity=entry.filled,
        limit_price=None,
        stop_loss=None,
        take_profit=None,
        reduce_only=True,
        hold_seconds=None,
        reference_price=entry.last_price or intent.reference_price,
        reason=f"time exit {intent.hold_seconds}s after the first fill of {intent.client_order_id}",
        created_at=due,
    )


class TimeExitLogic(StatefulLogic[TimeExitEvent, OrderIntent, Entry | None]):
    """Bytewax wrapper: wakes at the entry's due time, emits its close once, forgets it."""

    def __init__(self, entry: Entry | None) -> None:
        self._entry = entry

    def on_item(self, value: TimeExitEvent) -> tuple[Iterable[OrderIntent], bool]:
        self._entry = observe(self._entry, value)
        return [], self._entry is None

    def on_notify(self) -> tuple[Iterable[OrderIntent], bool]:
        entry = self._entry
        return ([close_intent(entry)] if entry is not None else []), StatefulLogic.DISCARD

    def notify_at(self) -> datetime | None:
        return self._entry.due if self._entry is not None else None

    def snapshot(self) -> Entry | None:
        return self._entry
