"""One request-rate limit per host, shared by every partition in the process.

Partitions run their own event loops in their own threads, so the limiter is a thread-safe
reservation schedule (each caller books the next free slot, then sleeps until it) rather than
an asyncio primitive bound to one loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from urllib.parse import urlsplit


class HostRateLimiter:
    """Spaces requests to one host at least ``1 / rate_per_s`` seconds apart."""

    def __init__(self, rate_per_s: float) -> None:
        if rate_per_s <= 0:
            msg = f"rate must be positive, got {rate_per_s}"
            raise ValueError(msg)
        self._interval = 1.0 / rate_per_s
        self._next_free = 0.0
        self._lock = threading.Lock()

    @property
    def rate_per_s(self) -> float:
        return 1.0 / self._interval

    def tighten(self, rate_per_s: float) -> None:
        """Keep the strictest rate asked for: two sources on one host share one budget."""
        with self._lock:
            self._interval = max(self._interval, 1.0 / rate_per_s)

    def reserve(self, now: float) -> float:
        """Book the next slot; returns how long the caller must wait before sending."""
        with self._lock:
            start = max(now, self._next_free)
            self._next_free = start + self._interval
            return start - now

    async def acquire(self) -> None:
        delay = self.reserve(time.monotonic())
        if delay > 0:
            await asyncio.sleep(delay)


_limiters: dict[str, HostRateLimiter] = {}
_registry_lock = threading.Lock()


def host_key(url: str) -> str:
    """``host:port`` of a URL: the unit a server's rate limit applies to."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def limiter_for(url: str, rate_per_s: float) -> HostRateLimiter:
    """The process-wide limiter for ``url``'s host, tightened to ``rate_per_s`` if stricter."""
    key = host_key(url)
    with _registry_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = HostRateLimiter(rate_per_s)
        else:
            limiter.tighten(rate_per_s)
        return limiter
