"""Portfolio persistence in PostgreSQL: fills, positions, PnL snapshots, reconciliation."""

from connectors.portfolio_store.migrate import (
    Migration,
    MigrationError,
    apply_migrations,
    load_migrations,
)
from connectors.portfolio_store.reconcile import DiffKind, PositionDiff, diff_positions, reconcile
from connectors.portfolio_store.store import PnlSnapshot, PortfolioStore, PositionUpdate

__all__ = [
    "DiffKind",
    "Migration",
    "MigrationError",
    "PnlSnapshot",
    "PortfolioStore",
    "PositionDiff",
    "PositionUpdate",
    "apply_migrations",
    "diff_positions",
    "load_migrations",
    "reconcile",
]
