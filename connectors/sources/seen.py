"""A bounded, insertion-ordered memory of item ids, snapshotted as a tuple."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


class SeenIds:
    """Remembers the last ``limit`` ids: enough to drop re-served items without growing forever."""

    def __init__(self, ids: Iterable[str], limit: int) -> None:
        self._limit = max(1, limit)
        self._ids: OrderedDict[str, None] = OrderedDict((i, None) for i in ids)
        self._trim()

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._ids

    def add(self, item_id: str) -> bool:
        """Record ``item_id``; False if it was already known (a duplicate)."""
        if item_id in self._ids:
            return False
        self._ids[item_id] = None
        self._trim()
        return True

    def _trim(self) -> None:
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)

    def snapshot(self) -> tuple[str, ...]:
        return tuple(self._ids)
