"""Bytewax sink that books fills into the PostgreSQL portfolio (idempotent, so at-least-once
delivery and recovery replays never double-count a fill)."""

from __future__ import annotations

from functools import partial

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from connectors.portfolio_store.store import PortfolioStore
from operators.portfolio import position_after_fill
from operators.risk import AccountFill


class _Partition(StatelessSinkPartition[AccountFill]):
    def __init__(self, store: PortfolioStore) -> None:
        self._store = store

    def write_batch(self, items: list[AccountFill]) -> None:
        for item in items:
            update = partial(position_after_fill, item.account)
            self._store.apply_fill(item.account, item.fill, update)

    def close(self) -> None:
        self._store.close()


class PortfolioSink(DynamicSink[AccountFill]):
    """Each worker opens its own connection in ``build`` (nothing is opened before)."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self._conninfo = conninfo
        self._schema = schema

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Partition:
        return _Partition(PortfolioStore.connect(self._conninfo, self._schema))
