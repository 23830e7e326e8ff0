"""Time exits for live venues: close an entry ``hold_seconds`` after its first fill.

Bybit and Binance have no order type for "close this position in an hour", so the execution
flow keeps one small state per entry order that asked for it (keyed by client order id): the
intent, the quantity filled so far, when its first fill came and whether the venue has finished
with the order. When the first fill plus ``hold_seconds`` has passed, it emits a cancel of
whatever of the entry is still open, then a reduce-only market close for the filled quantity.
Ids and times come from the entry, so a replay sends the same orders, which the venues
deduplicate. An entry that ends without a fill is forgotten at once, one that never hears of
a fill after a week. The simulator applies the
same rule itself, so backtests and live trade alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
from bytewax.operators import StatefulLogic

from operators.proposal import client_order_id
from operators.risk import AccountFill, AccountOrderUpdate, CancelRequest
from records import Clock, OrderIntent, OrderStatus, OrderType, Side

TimeExitEvent = OrderIntent | AccountFill | AccountOrderUpdate
TimeExitOrder = OrderIntent | CancelRequest
TIME_EXIT = "time_exit"
FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


def wants_time_exit(intent: OrderIntent) -> bool:
    return intent.hold_seconds is not None and not intent.reduce_only


def exit_key(event: TimeExitEvent) -> str:
    """The entry's client order id, for intents, fills and order updates alike."""
    if isinstance(event, OrderIntent):
        return event.client_order_id
    if isinstance(event, AccountFill):
        return event.fill.client_order_id
    return event.update.client_order_id


ORPHAN_WAIT = timedelta(minutes=10)
"""How long fills wait for their intent: the two come by different inputs, and within one epoch
Bytewax does not order items of different inputs."""
UNFILLED_WAIT = timedelta(days=7)
"""How long an entry is followed without any fill before it is forgotten (its updates lost)."""


@dataclass(frozen=True, slots=True)
class Entry:
    intent: OrderIntent | None
    """None while only fills have been seen (an order with no hold, or its intent is late)."""
    expires_at: datetime
    """Forget the entry then if it still has no intent, or no fill."""
    filled: Decimal = Decimal(0)
    """Sum of the fills seen."""
    venue_filled: Decimal = Decimal(0)
    """The filled quantity the venue's order updates reported (covers fills never seen, as
    after a recovery: the venue is polled, not replayed)."""
    last_price: Decimal | None = None
    first_fill_at: datetime | None = None
    final: bool = False
    """The venue is done with the order (filled, cancelled, rejected or expired)."""

    @property
    def quantity(self) -> Decimal:
        return max(self.filled, self.venue_filled)

    @property
    def due(self) -> datetime | None:
        if self.intent is None or self.intent.hold_seconds is None:
            return None
        if self.first_fill_at is None:
            return None
        return self.first_fill_at + timedelta(seconds=self.intent.hold_seconds)

    @property
    def wake_at(self) -> datetime:
        return self.due or self.expires_at


def observe(entry: Entry | None, event: TimeExitEvent, now: datetime) -> Entry | None:
    """The entry after an intent, a fill or an order update; None when nothing is left to do."""
    if isinstance(event, OrderIntent):
        if not wants_time_exit(event):
            return None
        if entry is None:
            return Entry(event, expires_at=now + UNFILLED_WAIT)
        if entry.intent is None:
            return replace(entry, intent=event, expires_at=now + UNFILLED_WAIT)
        return entry
    if isinstance(event, AccountOrderUpdate):
        if entry is None:
            return None
        update = event.update
        if update.filled_quantity > entry.venue_filled:
            entry = replace(
                entry,
                venue_filled=update.filled_quantity,
                first_fill_at=entry.first_fill_at or update.updated_at,
                last_price=entry.last_price or update.average_price,
            )
        if update.status not in FINAL:
            return entry
        return None if entry.quantity == 0 else replace(entry, final=True)
    if entry is None:
        entry = Entry(None, expires_at=now + ORPHAN_WAIT)
    fill = event.fill
    first = entry.first_fill_at
    return replace(
        entry,
        filled=entry.filled + fill.quantity,
        last_price=fill.price,
        first_fill_at=fill.filled_at if first is None else min(first, fill.filled_at),
    )


def time_exit_id(entry_id: str, symbol: str) -> str:
    """The close's id: a function of the entry's, of the length the venues keep as it is."""
    return client_order_id(entry_id, TIME_EXIT, symbol, 0)


def exit_orders(entry: Entry) -> list[TimeExitOrder]:
    """What ends the hold: a cancel of the entry's open rest (unless the venue is done with it),
    then the reduce-only market order that closes what was filled."""
    intent, due = entry.intent, entry.due
    assert intent is not None and due is not None, "only an entry with a fill has a time exit"
    reason = f"time exit {intent.hold_seconds}s after the first fill of {intent.client_order_id}"
    out: list[TimeExitOrder] = []
    if not entry.final:
        out.append(
            CancelRequest(
                account=intent.account,
                venue=intent.venue,
                symbol=intent.symbol,
                client_order_id=intent.client_order_id,
                reason=reason,
                created_at=due,
            )
        )
    close = msgspec.structs.replace(
        intent,
        client_order_id=time_exit_id(intent.client_order_id, intent.symbol),
        side=Side.SELL if intent.side is Side.BUY else Side.BUY,
        order_type=OrderType.MARKET,
        quantity=entry.quantity,
        limit_price=None,
        stop_loss=None,
        take_profit=None,
        reduce_only=True,
        hold_seconds=None,
        reference_price=entry.last_price or intent.reference_price,
        reason=reason,
        created_at=due,
    )
    return [*out, close]


class TimeExitLogic(StatefulLogic[TimeExitEvent, TimeExitOrder, Entry | None]):
    """Bytewax wrapper: wakes at the entry's due time, emits its exit once, forgets it; fills
    whose intent never comes are forgotten after ``ORPHAN_WAIT``, entries that never fill after
    ``UNFILLED_WAIT``."""

    def __init__(self, entry: Entry | None, clock: Clock) -> None:
        self._entry = entry
        self._clock = clock

    def on_item(self, value: TimeExitEvent) -> tuple[Iterable[TimeExitOrder], bool]:
        self._entry = observe(self._entry, value, self._clock.now())
        return [], self._entry is None

    def on_notify(self) -> tuple[Iterable[TimeExitOrder], bool]:
        entry = self._entry
        if entry is None or entry.due is None:  # expired: no intent, or never filled
            return [], StatefulLogic.DISCARD
        return exit_orders(entry), StatefulLogic.DISCARD

    def notify_at(self) -> datetime | None:
        return self._entry.wake_at if self._entry is not None else None

    def snapshot(self) -> Entry | None:
        return self._entry
