"""Schema migrations: numbered ``.sql`` files applied once each, in order, recorded in a table.

Each migration runs in its own transaction under an advisory lock, so two processes starting
together apply it once; a file edited after it was applied is refused (its checksum changed).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

MIGRATIONS_PACKAGE = "connectors.portfolio_store.migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """Migrations are inconsistent (duplicate numbers, edited after being applied)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(package: str = MIGRATIONS_PACKAGE) -> list[Migration]:
    """The package's ``NNNN_name.sql`` files, sorted by number; other files are ignored."""
    found: dict[int, Migration] = {}
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            msg = f"two migrations numbered {version}: {found[version].name}, {match.group(2)}"
            raise MigrationError(msg)
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def apply_migrations(
    conn: psycopg.Connection[tuple[object, ...]],
    schema: str,
    migrations: list[Migration] | None = None,
) -> list[int]:
    """Create ``schema`` if needed and apply pending migrations; returns the versions applied."""
    pending = load_migrations() if migrations is None else migrations
    ident = sql.Identifier(schema)
    table = sql.SQL("{}.schema_migrations").format(ident)
    applied: list[int] = []
    for migration in pending:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"tradewire:{schema}",))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (version integer PRIMARY KEY,"
                    " name text NOT NULL, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                ).format(table)
            )
            row = conn.execute(
                sql.SQL("SELECT checksum FROM {} WHERE version = %s").format(table),
                (migration.version,),
            ).fetchone()
            if row is not None:
                if row[0] != migration.checksum:
                    msg = (
                        f"migration {migration.version}_{migration.name} changed after it was"
                        f" applied to schema {schema!r}; add a new migration instead"
                    )
                    raise MigrationError(msg)
                continue
            conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(ident))
            conn.execute(migration.sql.encode())
            conn.execute(
                sql.SQL("INSERT INTO {} (version, name, checksum) VALUES (%s, %s, %s)").format(
                    table
                ),
                (migration.version, migration.name, migration.checksum),
            )
            applied.append(migration.version)
    return applied
