"""PostgreSQL persistence of fills, positions and PnL snapshots (psycopg 3).

Writes are idempotent because delivery is at-least-once: a fill is stored once per (venue,
fill id) and moves its position only the first time; a position upsert never goes back in time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self

import psycopg
from psycopg import sql

from connectors.portfolio_store.migrate import apply_migrations
from records import Fill, Position, Side, Venue
from records.types import Record, UtcDatetime

PositionUpdate = Callable[[Position | None, Fill], Position]
"""Pure function giving a position after one more fill (``operators.portfolio.position_after_fill``
with the account bound)."""


class PnlSnapshot(Record, frozen=True, kw_only=True):
    """Account PnL at one instant (one row of ``pnl_snapshots``)."""

    account: str
    taken_at: UtcDatetime
    equity: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    fees: Decimal
    funding: Decimal
    drawdown_pct: Decimal


_FILL_COLUMNS = (
    "venue, fill_id, account, client_order_id, symbol, side, quantity, price, fee, fee_asset,"
    " filled_at"
)
_POSITION_COLUMNS = (
    "account, venue, symbol, quantity, average_entry, realised_pnl, fees, funding, updated_at"
)
_SNAPSHOT_COLUMNS = (
    "account, taken_at, equity, realised_pnl, unrealised_pnl, fees, funding, drawdown_pct"
)


class PortfolioStore:
    """One account book in one PostgreSQL schema; every table name is qualified by it."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        if not conn.autocommit:
            msg = "PortfolioStore needs an autocommit connection (it manages transactions)"
            raise ValueError(msg)
        self._conn = conn
        self.schema = schema
        self._s = sql.Identifier(schema)

    @classmethod
    def connect(cls, conninfo: str, schema: str) -> Self:
        """Open a connection, apply pending migrations and return the store."""
        conn = psycopg.connect(conninfo, autocommit=True)
        apply_migrations(conn, schema)
        return cls(conn, schema)

    def close(self) -> None:
        self._conn.close()

    def __repr__(self) -> str:
        # The connection string may hold a password: never show it.
        return f"PortfolioStore(schema={self.schema!r})"

    def _q(self, text: str) -> sql.Composed:
        """``text`` with ``{s}`` replaced by the quoted schema name."""
        return sql.SQL(text).format(s=self._s)

    # -- fills --------------------------------------------------------------------------

    def insert_fill(self, account: str, fill: Fill) -> bool:
        """Store a fill; False when it was already stored (a re-delivery)."""
        with self._conn.transaction():
            return self._insert_fill(account, fill)

    def apply_fill(self, account: str, fill: Fill, update: PositionUpdate) -> Position | None:
        """Store a fill and move its position atomically; None (and no change) if seen before."""
        with self._conn.transaction():
            if not self._insert_fill(account, fill):
                return None
            row = self._conn.execute(
                self._q(
                    f"SELECT {_POSITION_COLUMNS} FROM {{s}}.positions"
                    " WHERE account = %s AND venue = %s AND symbol = %s FOR UPDATE"
                ),
                (account, fill.venue.value, fill.symbol),
            ).fetchone()
            position = update(_position(row) if row else None, fill)
            self._upsert_position(position, only_newer=False)
            return position

    def _insert_fill(self, account: str, fill: Fill) -> bool:
        cur = self._conn.execute(
            self._q(
                f"INSERT INTO {{s}}.fills ({_FILL_COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (venue, fill_id) DO NOTHING"
            ),
            (
                fill.venue.value,
                fill.fill_id,
                account,
                fill.client_order_id,
                fill.symbol,
                fill.side.value,
                fill.quantity,
                fill.price,
                fill.fee,
                fill.fee_asset,
                fill.filled_at,
            ),
        )
        return cur.rowcount == 1

    def fills(self, account: str, symbol: str | None = None) -> list[Fill]:
        """Stored fills in execution order."""
        rows = self._conn.execute(
            self._q(
                f"SELECT {_FILL_COLUMNS} FROM {{s}}.fills WHERE account = %s"
                " AND (%s::text IS NULL OR symbol = %s) ORDER BY filled_at, venue, fill_id"
            ),
            (account, symbol, symbol),
        ).fetchall()
        return [
            Fill(
                venue=Venue(r[0]),
                fill_id=r[1],
                client_order_id=r[3],
                symbol=r[4],
                side=Side(r[5]),
                quantity=r[6],
                price=r[7],
                fee=r[8],
                fee_asset=r[9],
                filled_at=r[10].astimezone(UTC),
            )
            for r in rows
        ]

    # -- positions ----------------------------------------------------------------------

    def upsert_position(self, position: Position) -> bool:
        """Store a position unless a newer one is stored; True when it was written."""
        with self._conn.transaction():
            return self._upsert_position(position, only_newer=True)

    def _upsert_position(self, p: Position, *, only_newer: bool) -> bool:
        guard = " WHERE p.updated_at <= EXCLUDED.updated_at" if only_newer else ""
        cur = self._conn.execute(
            self._q(
                f"INSERT INTO {{s}}.positions AS p ({_POSITION_COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (account, venue, symbol) DO UPDATE SET"
                " quantity = EXCLUDED.quantity, average_entry = EXCLUDED.average_entry,"
                " realised_pnl = EXCLUDED.realised_pnl, fees = EXCLUDED.fees,"
                " funding = EXCLUDED.funding, updated_at = EXCLUDED.updated_at" + guard
            ),
            (
                p.account,
                p.venue.value,
                p.symbol,
                p.quantity,
                p.average_entry,
                p.realised_pnl,
                p.fees,
                p.funding,
                p.updated_at,
            ),
        )
        return cur.rowcount == 1

    def positions(self, account: str, venue: Venue | None = None) -> list[Position]:
        rows = self._conn.execute(
            self._q(
                f"SELECT {_POSITION_COLUMNS} FROM {{s}}.positions WHERE account = %s"
                " AND (%s::text IS NULL OR venue = %s) ORDER BY venue, symbol"
            ),
            (account, venue and venue.value, venue and venue.value),
        ).fetchall()
        return [_position(r) for r in rows]

    # -- PnL snapshots ------------------------------------------------------------------

    def record_snapshot(self, snap: PnlSnapshot) -> bool:
        """Store a snapshot once per (account, instant); False if one was already there."""
        with self._conn.transaction():
            cur = self._conn.execute(
                self._q(
                    f"INSERT INTO {{s}}.pnl_snapshots ({_SNAPSHOT_COLUMNS})"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (account, taken_at) DO NOTHING"
                ),
                (
                    snap.account,
                    snap.taken_at,
                    snap.equity,
                    snap.realised_pnl,
                    snap.unrealised_pnl,
                    snap.fees,
                    snap.funding,
                    snap.drawdown_pct,
                ),
            )
            return cur.rowcount == 1

    def snapshots(self, account: str, since: datetime | None = None) -> list[PnlSnapshot]:
        rows = self._conn.execute(
            self._q(
                f"SELECT {_SNAPSHOT_COLUMNS} FROM {{s}}.pnl_snapshots WHERE account = %s"
                " AND (%s::timestamptz IS NULL OR taken_at >= %s) ORDER BY taken_at"
            ),
            (account, since, since),
        ).fetchall()
        return [
            PnlSnapshot(
                account=r[0],
                taken_at=r[1].astimezone(UTC),
                equity=r[2],
                realised_pnl=r[3],
                unrealised_pnl=r[4],
                fees=r[5],
                funding=r[6],
                drawdown_pct=r[7],
            )
            for r in rows
        ]


def _position(r: tuple[Any, ...]) -> Position:
    return Position(
        account=r[0],
        venue=Venue(r[1]),
        symbol=r[2],
        quantity=r[3],
        average_entry=r[4],
        realised_pnl=r[5],
        fees=r[6],
        funding=r[7],
        updated_at=r[8].astimezone(UTC),
    )
