"""The risk engine's per-account state: an immutable, picklable snapshot.

Mappings are never mutated after construction (each step builds new ones), so a snapshot taken
by Bytewax for recovery can never change under it. Windowed maps are kept in time order, which
lets expiry drop entries from the front without scanning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from operators.portfolio import PositionState
from operators.risk.events import TradingState
from records import Side, Venue

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class OpenOrder:
    client_order_id: str
    venue: Venue
    symbol: str
    side: Side
    remaining: Decimal
    price: Decimal
    reduce_only: bool


@dataclass(frozen=True, slots=True)
class RiskState:
    account: str
    initial_equity: Decimal
    peak_equity: Decimal
    day_start_equity: Decimal
    trading_state: TradingState = TradingState.ACTIVE
    state_reason: str = "initial"
    now: datetime | None = None
    """Latest event time seen (a watermark: windows never move backwards)."""
    day: date | None = None
    positions: Mapping[str, PositionState] = field(default_factory=dict)
    marks: Mapping[str, Decimal] = field(default_factory=dict)
    open_orders: Mapping[str, OpenOrder] = field(default_factory=dict)
    order_times: tuple[datetime, ...] = ()
    cooldowns: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    """(asset, event type) -> until when."""
    seen_orders: Mapping[str, datetime] = field(default_factory=dict)
    seen_stories: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    seen_fills: Mapping[str, datetime] = field(default_factory=dict)
    last_reset_at: datetime | None = None
    """Time of the last operator reset applied: a re-delivered one (recovery) is not applied
    again, as it would lift a HALT that came after it."""


def with_item(mapping: Mapping[K, datetime], key: K, value: datetime) -> dict[K, datetime]:
    """Copy with ``key`` moved to the end (keeps time order for ``expire``)."""
    out = dict(mapping)
    out.pop(key, None)
    out[key] = value
    return out


def expire(mapping: Mapping[K, datetime], cutoff: datetime) -> Mapping[K, datetime]:
    """Drop entries whose time is <= ``cutoff``; returns the same object when nothing expires."""
    if not mapping or next(iter(mapping.values())) > cutoff:
        return mapping
    return {k: v for k, v in mapping.items() if v > cutoff}
