"""The one execution interface: live venues, the simulator and paper trading all implement it.

Strategy and risk code never learn which venue they talk to (live, paper and backtest differ only
in the adapter and the clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import msgspec

from records import Fill, OrderIntent, OrderStatus, OrderUpdate, Position, Venue


class ExecutionClient(Protocol):
    venue: Venue

    def submit(self, intent: OrderIntent) -> OrderUpdate:
        """Place the order; idempotent on ``intent.client_order_id`` (a re-delivery never
        places a second order, it returns the existing order's state)."""
        ...

    def amend(
        self,
        symbol: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
    ) -> OrderUpdate: ...

    def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate: ...

    def query(self, symbol: str, client_order_id: str) -> OrderUpdate: ...

    def open_orders(self, symbol: str | None = None) -> Sequence[OrderUpdate]:
        """Open orders at the venue; live adapters also (re)start following them, so orders
        placed before a restart still report their fills through ``poll_updates``."""
        ...

    def positions(self) -> Sequence[Position]: ...

    def balances(self) -> dict[str, Decimal]: ...

    def poll_updates(self) -> Sequence[OrderUpdate | Fill]:
        """Order and fill updates since the last call; never blocks."""
        ...


def before_any_fill(update: OrderUpdate) -> OrderUpdate:
    """The order as it stood before its first fill.

    An adapter follows an order that filled before it first looked (market orders usually do)
    from this state, so its next poll reports the fills instead of dropping a finished order.
    """
    return msgspec.structs.replace(
        update, status=OrderStatus.NEW, filled_quantity=Decimal(0), average_price=None
    )


def decimal_or_zero(raw: object) -> Decimal:
    """A venue's numeric string as a Decimal; both venues send "" or omit a field for zero."""
    return Decimal(str(raw)) if raw not in (None, "") else Decimal(0)
