"""Reconnect and retry delays: exponential with jitter, and the linear policy X asks for."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class ExponentialBackoff:
    """``initial * factor**attempt`` capped at ``maximum``; jitter spreads reconnect storms.

    With jitter the delay is drawn from [d/2, d] ("equal jitter"): never near zero, so a
    flapping server is not hammered, yet clients that failed together do not retry together.
    """

    initial_s: float
    maximum_s: float
    factor: float = 2.0
    jitter: bool = True

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.maximum_s, self.initial_s * self.factor ** max(0, attempt))
        return rng.uniform(base / 2, base) if self.jitter else base


@dataclass(frozen=True)
class LinearBackoff:
    """``step * (attempt + 1)`` capped at ``maximum`` (X: network errors, 250 ms steps to 16 s)."""

    step_s: float
    maximum_s: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        del rng  # deterministic by design: X documents exact linear steps
        return min(self.maximum_s, self.step_s * (max(0, attempt) + 1))


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
