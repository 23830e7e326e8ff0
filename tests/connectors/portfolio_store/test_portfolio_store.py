"""The portfolio store against the real PostgreSQL on loopback, one fresh schema per test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast

import psycopg
import pytest

from connectors.portfolio_store import (
    DiffKind,
    Migration,
    MigrationError,
    PnlSnapshot,
    PortfolioStore,
    apply_migrations,
    load_migrations,
    reconcile,
)
from connectors.venues.base import ExecutionClient
from operators.portfolio import position_after_fill
from records import Fill, Position, Side, Venue
from tests.conftest import POSTGRES_DSN

pytestmark = pytest.mark.integration

DSN = POSTGRES_DSN
T = datetime(2024, 3, 1, 12, tzinfo=UTC)
D = Decimal


@pytest.fixture
def conn(pg_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    return pg_conn


@pytest.fixture
def schema(pg_schema: str) -> str:
    return pg_schema


@pytest.fixture
def store(schema: str) -> Iterator[PortfolioStore]:
    s = PortfolioStore.connect(DSN, schema)
    yield s
    s.close()


def fill(fid: str, side: Side, qty: str, price: str, seconds: int = 0) -> Fill:
    return Fill(
        fill_id=fid,
        client_order_id="tw-abc",
        venue=Venue.SIMULATOR,
        symbol="BTCUSDT",
        side=side,
        quantity=D(qty),
        price=D(price),
        fee=D("0.1"),
        fee_asset="USDT",
        filled_at=T + timedelta(seconds=seconds),
    )


def test_migrations_apply_once_in_order(conn: psycopg.Connection[Any], schema: str) -> None:
    bundled = load_migrations()
    assert [m.version for m in bundled] == [1]
    extra = Migration(2, "extra", "CREATE TABLE extra (id int);")
    assert apply_migrations(conn, schema, [*bundled, extra]) == [1, 2]
    assert apply_migrations(conn, schema, [*bundled, extra]) == []
    rows = conn.execute(
        psycopg.sql.SQL("SELECT version, name FROM {}.schema_migrations ORDER BY version").format(
            psycopg.sql.Identifier(schema)
        )
    ).fetchall()
    assert rows == [(1, "initial"), (2, "extra")]


def test_edited_migration_is_refused(conn: psycopg.Connection[Any], schema: str) -> None:
    apply_migrations(conn, schema, [Migration(1, "a", "CREATE TABLE a (id int);")])
    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(conn, schema, [Migration(1, "a", "CREATE TABLE a (id bigint);")])


def test_a_failed_migration_leaves_nothing_behind(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    bad = Migration(1, "bad", "CREATE TABLE ok (id int); SELECT no_such_function();")
    with pytest.raises(psycopg.errors.UndefinedFunction):
        apply_migrations(conn, schema, [bad])
    assert apply_migrations(conn, schema, [Migration(1, "good", "CREATE TABLE ok (id int);")]) == [
        1
    ]


def test_fills_are_stored_once_and_move_the_position_once(store: PortfolioStore) -> None:
    update = partial(position_after_fill, "acct")
    first = store.apply_fill("acct", fill("1", Side.BUY, "2", "100"), update)
    assert first is not None
    assert store.apply_fill("acct", fill("1", Side.BUY, "2", "100"), update) is None
    second = store.apply_fill("acct", fill("2", Side.SELL, "0.5", "120", seconds=1), update)
    assert second is not None
    (pos,) = store.positions("acct")
    assert (pos.quantity, pos.average_entry, pos.realised_pnl, pos.fees) == (
        D("1.5"),
        D(100),
        D(10),
        D("0.2"),
    )
    assert pos.updated_at == T + timedelta(seconds=1)
    assert [f.fill_id for f in store.fills("acct")] == ["1", "2"]
    assert store.fills("acct", "ETHUSDT") == []
    assert store.fills("acct")[0] == fill("1", Side.BUY, "2", "100")
    assert not store.insert_fill("acct", fill("2", Side.SELL, "0.5", "120"))


def test_position_upsert_never_goes_back_in_time(store: PortfolioStore) -> None:
    def pos(qty: str, seconds: int) -> Position:
        return Position(
            account="acct",
            venue=Venue.BYBIT,
            symbol="ETHUSDT",
            quantity=D(qty),
            average_entry=D(1500),
            updated_at=T + timedelta(seconds=seconds),
        )

    assert store.upsert_position(pos("1", 10))
    assert not store.upsert_position(pos("5", 5))
    assert store.upsert_position(pos("2", 20))
    assert [p.quantity for p in store.positions("acct", Venue.BYBIT)] == [D(2)]
    assert store.positions("acct", Venue.BINANCE) == []


def test_snapshots_are_idempotent(store: PortfolioStore) -> None:
    snap = PnlSnapshot(
        account="acct",
        taken_at=T,
        equity=D("10012.5"),
        realised_pnl=D(10),
        unrealised_pnl=D("2.7"),
        fees=D("0.2"),
        funding=D(0),
        drawdown_pct=D("0.125"),
    )
    assert store.record_snapshot(snap)
    assert not store.record_snapshot(snap)
    assert store.snapshots("acct") == [snap]
    assert store.snapshots("acct", since=T + timedelta(seconds=1)) == []


class VenuePositions:
    """Just the part of an execution client reconciliation reads."""

    venue = Venue.SIMULATOR

    def __init__(self, positions: Sequence[Position]) -> None:
        self._positions = positions

    def positions(self) -> Sequence[Position]:
        return self._positions


def test_reconcile_reports_each_kind_of_difference(store: PortfolioStore) -> None:
    def pos(symbol: str, qty: str, entry: str) -> Position:
        return Position(
            account="acct",
            venue=Venue.SIMULATOR,
            symbol=symbol,
            quantity=D(qty),
            average_entry=D(entry),
            updated_at=T,
        )

    for p in (
        pos("BTCUSDT", "1", "20000"),
        pos("ETHUSDT", "2", "1500"),
        pos("SOLUSDT", "10", "100"),
        pos("XRPUSDT", "0", "0"),
        pos("BNBUSDT", "3", "300"),
    ):
        store.upsert_position(p)
    venue = VenuePositions(
        [
            pos("BTCUSDT", "1", "20000.5"),  # within 0.01%: fine
            pos("ETHUSDT", "3", "1500"),
            pos("DOGEUSDT", "100", "0.1"),
            pos("BNBUSDT", "3", "310"),
        ]
    )
    diffs = reconcile(store, cast(ExecutionClient, venue), "acct", T)
    assert [(d.symbol, d.kind) for d in diffs] == [
        ("BNBUSDT", DiffKind.AVERAGE_ENTRY),
        ("DOGEUSDT", DiffKind.MISSING_IN_STORE),
        ("ETHUSDT", DiffKind.QUANTITY),
        ("SOLUSDT", DiffKind.MISSING_AT_VENUE),
    ]
    eth = diffs[2]
    assert (eth.stored_quantity, eth.venue_quantity, eth.detail) == (
        D(2),
        D(3),
        "ETHUSDT: store 2, venue 3",
    )
    assert all(d.checked_at == T and d.account == "acct" for d in diffs)


def test_store_repr_hides_the_connection(store: PortfolioStore) -> None:
    assert "postgres" not in repr(store) and "127.0.0.1" not in repr(store)
