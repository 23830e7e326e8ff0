"""State behind the HTTP simulator: one matching engine per (venue, market) account, the API
keys it accepts, a rate limiter, and the clocks.

Two clocks on purpose: ``clock`` is market time (which bar is "now"; a ``ReplayClock`` maps wall
time onto the bars), ``wall`` is real time, used for request timestamps (recvWindow) and rate
limits, because the real clients stamp requests with the wall clock.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from connectors.marketdata.bars import PriceBook
from connectors.venues.simulator.engine import EngineConfig, MatchingEngine
from records import Clock, Market, SystemClock


class ReplayClock:
    """Market time that follows the wall clock from ``start``, ``speed`` times faster."""

    def __init__(self, start: datetime, speed: float = 1.0, wall: Clock | None = None) -> None:
        if start.tzinfo is None:
            msg = "ReplayClock needs a timezone-aware start"
            raise ValueError(msg)
        self._wall = wall or SystemClock()
        self._origin = self._wall.now()
        self._start = start
        self._speed = speed

    def now(self) -> datetime:
        return self._start + (self._wall.now() - self._origin) * self._speed


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Token bucket per API key: ``capacity`` requests, refilled at ``per_second``."""

    capacity: int = 600
    per_second: float = 10.0


class RateLimiter:
    def __init__(self, limit: RateLimit, wall: Clock) -> None:
        self.limit = limit
        self._wall = wall
        self._buckets: dict[str, tuple[float, datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, datetime]:
        """Take a token for ``key``; returns (allowed, when the next token is due)."""
        now = self._wall.now()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.limit.capacity), now))
            tokens = min(
                float(self.limit.capacity),
                tokens + (now - last).total_seconds() * self.limit.per_second,
            )
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return True, now
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / self.limit.per_second if self.limit.per_second > 0 else 3600.0
            return False, now + timedelta(seconds=wait)


def hmac_sha256(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


VENUES = ("bybit", "binance")


class ExchangeSimulator:
    """Accounts of both venues on both markets, each its own engine on the same prices."""

    def __init__(
        self,
        prices: PriceBook,
        clock: Clock,
        *,
        api_keys: Mapping[str, str],
        balances: Mapping[str, Decimal],
        config: EngineConfig | None = None,
        rate_limit: RateLimit | None = None,
        wall: Clock | None = None,
    ) -> None:
        self.clock = clock
        self.prices = prices
        self.wall = wall or SystemClock()
        self.api_keys = dict(api_keys)
        self.limiter = RateLimiter(rate_limit or RateLimit(), self.wall)
        start = clock.now()
        self._engines = {
            (venue, market): MatchingEngine(
                prices, market=market, start=start, balances=balances, config=config
            )
            for venue in VENUES
            for market in (Market.SPOT, Market.LINEAR)
        }
        self.lock = threading.Lock()
        """Handlers hold this while touching an engine (the server may serve from threads)."""

    def engine(self, venue: str, market: Market) -> MatchingEngine:
        """The account's engine, walked to market time now."""
        engine = self._engines[(venue, market)]
        now = self.clock.now()
        if now > engine.now:
            engine.advance_to(now)
        return engine

    def secret(self, api_key: str) -> str | None:
        return self.api_keys.get(api_key)
