"""Reconciliation: compare the positions we stored with the venue's, report every difference.

Run on start and periodically; differences are records for an alert or a dashboard. Nothing is
corrected automatically: which side is right is a human decision.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from connectors.portfolio_store.store import PortfolioStore
from connectors.venues.base import ExecutionClient
from records import Position, Venue
from records.types import Record, UtcDatetime

HUNDRED = Decimal(100)


class DiffKind(enum.StrEnum):
    MISSING_IN_STORE = "missing_in_store"
    """The venue holds a position we have no record of."""
    MISSING_AT_VENUE = "missing_at_venue"
    """We think we hold a position the venue does not show."""
    QUANTITY = "quantity"
    AVERAGE_ENTRY = "average_entry"


class PositionDiff(Record, frozen=True, kw_only=True):
    account: str
    venue: Venue
    symbol: str
    kind: DiffKind
    stored_quantity: Decimal
    venue_quantity: Decimal
    stored_average_entry: Decimal | None
    venue_average_entry: Decimal | None
    detail: str
    checked_at: UtcDatetime


def diff_positions(
    account: str,
    venue: Venue,
    stored: Sequence[Position],
    live: Sequence[Position],
    checked_at: datetime,
    entry_tolerance_pct: Decimal = Decimal("0.01"),
) -> list[PositionDiff]:
    """Differences by symbol; flat positions (quantity 0) count as absent on either side.

    Average entries are compared within ``entry_tolerance_pct`` because venues round them.
    """
    ours = {p.symbol: p for p in stored if p.quantity != 0}
    theirs = {p.symbol: p for p in live if p.quantity != 0}
    diffs: list[PositionDiff] = []
    for symbol in sorted(ours.keys() | theirs.keys()):
        a, b = ours.get(symbol), theirs.get(symbol)
        qa = a.quantity if a else Decimal(0)
        qb = b.quantity if b else Decimal(0)
        ea = a.average_entry if a else None
        eb = b.average_entry if b else None
        if a is None:
            kind, detail = DiffKind.MISSING_IN_STORE, f"venue holds {qb} {symbol}, store none"
        elif b is None:
            kind, detail = DiffKind.MISSING_AT_VENUE, f"store holds {qa} {symbol}, venue none"
        elif qa != qb:
            kind, detail = DiffKind.QUANTITY, f"{symbol}: store {qa}, venue {qb}"
        elif ea and eb and abs(ea - eb) * HUNDRED / ea > entry_tolerance_pct:
            kind = DiffKind.AVERAGE_ENTRY
            detail = f"{symbol}: entry store {ea}, venue {eb} (> {entry_tolerance_pct}% apart)"
        else:
            continue
        diffs.append(
            PositionDiff(
                account=account,
                venue=venue,
                symbol=symbol,
                kind=kind,
                stored_quantity=qa,
                venue_quantity=qb,
                stored_average_entry=ea,
                venue_average_entry=eb,
                detail=detail,
                checked_at=checked_at,
            )
        )
    return diffs


def reconcile(
    store: PortfolioStore,
    client: ExecutionClient,
    account: str,
    checked_at: datetime,
    entry_tolerance_pct: Decimal = Decimal("0.01"),
) -> list[PositionDiff]:
    """Fetch both sides and diff them; ``checked_at`` comes from the caller's clock."""
    live = client.positions()
    stored = store.positions(account, client.venue)
    return diff_positions(account, client.venue, stored, live, checked_at, entry_tolerance_pct)
