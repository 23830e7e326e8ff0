"""Bounded retries with exponential backoff and full jitter for venue calls.

Only the adapters use this (never a Bytewax ``next_batch``): a call is retried only when the
error was classified retryable (timeouts, 5xx, rate limits), at most ``attempts`` times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


class VenueError(Exception):
    """A classified venue failure: ``retryable`` says whether trying again may succeed."""

    def __init__(self, code: int | str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    def run(self, call: Callable[[], T], classify: Callable[[Exception], VenueError]) -> T:
        """Run ``call``; retry retryable failures; raise the last classified error."""
        for attempt in range(self.attempts):
            try:
                return call()
            except Exception as exc:
                error = classify(exc)
                if not error.retryable or attempt == self.attempts - 1:
                    raise error from exc
                self.sleep(self.delay(attempt))
        msg = "retry policy needs at least one attempt"
        raise ValueError(msg)
