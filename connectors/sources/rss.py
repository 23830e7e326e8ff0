"""RSS/Atom polling source: conditional GET, de-duplication by guid/link, WebSub subscription.

One Bytewax partition per feed. The snapshot holds the feed's ETag / Last-Modified and the ids
already emitted, so a resumed flow neither repeats nor skips items.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field, replace

import aiohttp
from bytewax.inputs import FixedPartitionedSource

from connectors.sources import metrics, websub
from connectors.sources.backoff import ExponentialBackoff
from connectors.sources.config import Defaults, RssFeed, WebhookConfig
from connectors.sources.feeds import FeedError, parse_feed
from connectors.sources.httpio import (
    FetchFailed,
    FetchResult,
    NotModified,
    conditional_headers,
    get,
    open_session,
)
from connectors.sources.jsonmap import dead_letter
from connectors.sources.ratelimit import limiter_for
from connectors.sources.runtime import AsyncPartition, Emitter, SourceItem
from connectors.sources.secrets import secret_from_env
from connectors.sources.seen import SeenIds
from records import Clock, NewsItem

log = logging.getLogger(__name__)

ERROR_BACKOFF = ExponentialBackoff(initial_s=5.0, maximum_s=900.0)


@dataclass(frozen=True)
class WebSubSettings:
    public_url: str
    secret_env: str
    lease_s: int = 86_400


@dataclass(frozen=True)
class FeedSpec:
    """Everything one feed partition needs; built from config, holds no secret values."""

    name: str
    """Partition name: unique per feed."""
    url: str
    poll_interval_s: float
    user_agent: str
    rate_per_s: float
    max_bytes: int = 5_000_000
    timeout_s: float = 30.0
    remember: int = 5000
    silence_after_s: float = 0.0
    categories: frozenset[str] = frozenset()
    websub: WebSubSettings | None = None
    backoff: ExponentialBackoff = field(default=ERROR_BACKOFF)
    source: str | None = None
    """``NewsItem.source`` when several feeds form one source (EDGAR); default: ``name``."""

    @property
    def label(self) -> str:
        return self.source or self.name


@dataclass(frozen=True)
class FeedState:
    """Resume point of one feed: validators for the next conditional GET and the ids emitted."""

    etag: str | None = None
    last_modified: str | None = None
    seen: tuple[str, ...] = ()
    failed_digest: str | None = None
    """Digest of the last body dead-lettered, so a feed that stays broken is reported once."""


def spec_from_config(feed: RssFeed, defaults: Defaults, webhook: WebhookConfig | None) -> FeedSpec:
    websub_settings = None
    if feed.websub and webhook is not None and webhook.public_url and webhook.websub_secret_env:
        websub_settings = WebSubSettings(webhook.public_url, webhook.websub_secret_env)
    return FeedSpec(
        name=feed.name,
        url=feed.url,
        poll_interval_s=feed.poll_interval_s or defaults.poll_interval_s,
        user_agent=defaults.user_agent,
        rate_per_s=feed.rate_per_s or defaults.rate_per_s,
        max_bytes=defaults.max_bytes,
        timeout_s=defaults.timeout_s,
        remember=defaults.remember,
        silence_after_s=defaults.silence_after_s,
        categories=frozenset(feed.categories),
        websub=websub_settings,
    )


class FeedPoller:
    """Polls one feed forever (or once), handing new items and the new state to an emitter."""

    def __init__(self, spec: FeedSpec, clock: Clock, *, once: bool, rng: random.Random) -> None:
        self._spec = spec
        self._clock = clock
        self._once = once
        self._rng = rng
        self._failures = 0
        self._subscribed_until = 0.0

    async def run(self, state: FeedState, emitter: Emitter[FeedState]) -> None:
        spec = self._spec
        limiter = limiter_for(spec.url, spec.rate_per_s)
        seen = SeenIds(state.seen, spec.remember)
        async with open_session(
            spec.user_agent, total_timeout_s=spec.timeout_s, read_timeout_s=spec.timeout_s
        ) as session:
            while True:
                await limiter.acquire()
                result = await get(
                    session,
                    spec.url,
                    max_bytes=spec.max_bytes,
                    now=self._clock.now(),
                    headers=conditional_headers(state.etag, state.last_modified),
                )
                state, delay, hub = await self._handle(result, state, seen, emitter)
                if hub is not None and spec.websub is not None:
                    await self._maybe_subscribe(session, spec.websub, *hub)
                if self._once:
                    return
                await asyncio.sleep(delay)

    async def _handle(
        self, result: FetchResult, state: FeedState, seen: SeenIds, emitter: Emitter[FeedState]
    ) -> tuple[FeedState, float, tuple[str, str] | None]:
        spec = self._spec
        if isinstance(result, NotModified):
            self._failures = 0
            return state, spec.poll_interval_s, None
        if isinstance(result, FetchFailed):
            return await self._failed(result, state, emitter), self._retry_delay(result), None
        self._failures = 0
        now = self._clock.now()
        try:
            parsed = parse_feed(
                result.body,
                source=spec.label,
                feed_url=spec.url,
                received_at=now,
                categories=spec.categories,
            )
        except FeedError as exc:
            metrics.ERRORS.labels(spec.name, "bad_feed").inc()
            log.warning("feed %s: %s", spec.name, exc)
            state = await self._dead_letter(str(exc), result.body, state, emitter)
            return state, spec.poll_interval_s, None
        fresh: list[SourceItem] = []
        for item in parsed.items:
            if isinstance(item, NewsItem) and not seen.add(item.id):
                continue
            fresh.append(item)
        state = FeedState(
            etag=result.etag,
            last_modified=result.last_modified,
            seen=seen.snapshot(),
            failed_digest=None,
        )
        await emitter.emit(fresh, state)
        hub = (parsed.hub, parsed.topic or spec.url) if parsed.hub else None
        return state, spec.poll_interval_s, hub

    async def _failed(
        self, result: FetchFailed, state: FeedState, emitter: Emitter[FeedState]
    ) -> FeedState:
        self._failures += 1
        metrics.ERRORS.labels(self._spec.name, result.kind).inc()
        log.warning("feed %s: %s (failure %d)", self._spec.name, result.message, self._failures)
        if result.kind == "too_large":
            return await self._dead_letter(result.message, result.head, state, emitter)
        return state

    async def _dead_letter(
        self, reason: str, payload: bytes, state: FeedState, emitter: Emitter[FeedState]
    ) -> FeedState:
        body_digest = hashlib.sha256(payload).hexdigest()
        if body_digest == state.failed_digest:
            return state  # the same broken document again: already in the dead-letter stream
        state = replace(state, failed_digest=body_digest)
        letter = dead_letter(self._spec.name, reason, payload, self._clock.now(), self._spec.url)
        await emitter.emit([letter], state)
        return state

    def _retry_delay(self, result: FetchFailed) -> float:
        if result.retry_after_s is not None:
            return result.retry_after_s  # the server said when: neither sooner nor later
        if result.kind == "too_large":
            return self._spec.poll_interval_s
        return self._spec.backoff.delay(self._failures - 1, self._rng)

    async def _maybe_subscribe(
        self, session: aiohttp.ClientSession, settings: WebSubSettings, hub: str, topic: str
    ) -> None:
        if time.monotonic() < self._subscribed_until:
            return
        master = secret_from_env(settings.secret_env, "WebSub HMAC master secret")
        websub.expect_topic(self._spec.name, topic)
        accepted = await websub.subscribe(
            session,
            hub=hub,
            topic=topic,
            callback=websub.callback_url(settings.public_url, self._spec.name),
            secret=websub.feed_secret(master, self._spec.name),
            lease_s=settings.lease_s,
        )
        # Renew at 80 % of the lease; after a refusal, try again in ten minutes.
        wait = settings.lease_s * 0.8 if accepted else 600.0
        self._subscribed_until = time.monotonic() + wait


class FeedSource(FixedPartitionedSource[SourceItem, FeedState]):
    """RSS/Atom feeds, one partition per feed; nothing is opened until ``build_part``."""

    def __init__(self, specs: list[FeedSpec], clock: Clock, *, once: bool = False) -> None:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            msg = f"feed names must be unique: {names}"
            raise ValueError(msg)
        self._specs = {spec.name: spec for spec in specs}
        self._clock = clock
        self._once = once

    def list_parts(self) -> list[str]:
        return list(self._specs)

    def build_part(
        self, step_id: str, for_part: str, resume_state: FeedState | None
    ) -> AsyncPartition[FeedState]:
        spec = self._specs[for_part]
        poller = FeedPoller(spec, self._clock, once=self._once, rng=random.Random())
        return AsyncPartition(
            spec.name,
            resume_state or FeedState(),
            poller.run,
            silence_after_s=0.0 if self._once else spec.silence_after_s,
        )
