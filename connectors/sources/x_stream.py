"""X (Twitter) API v2 filtered stream: rules kept in sync with config, X's reconnect policy.

Before connecting, the stream rules are read and made equal to the configured ones (stale rules
deleted, missing ones added), one ``from:`` rule per account group tag. Reconnects follow X's
documented back-off: network errors linearly (250 ms steps to 16 s), HTTP errors exponentially
(5 s doubling to 320 s), 429 exponentially from one minute. X sends a keep-alive newline every
20 s, so a longer silence means a dead connection.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from bytewax.inputs import FixedPartitionedSource

from connectors.sources import metrics
from connectors.sources.backoff import ExponentialBackoff, LinearBackoff
from connectors.sources.config import Defaults, XStreamConfig
from connectors.sources.jsonmap import dead_letter, decode_json
from connectors.sources.runtime import AsyncPartition, Emitter, SourceItem
from connectors.sources.secrets import Secret, secret_from_env
from connectors.sources.seen import SeenIds
from connectors.sources.text import parse_instant
from records import Clock, NewsItem

log = logging.getLogger(__name__)

RULES_PATH = "/2/tweets/search/stream/rules"
STREAM_PATH = "/2/tweets/search/stream"
STREAM_PARAMS = {
    "tweet.fields": "created_at,author_id",
    "expansions": "author_id",
    "user.fields": "username,name",
}
MAX_RULE_LENGTH = 512


@dataclass(frozen=True)
class XBackoff:
    """X's documented reconnect policy, one schedule per failure class."""

    network: LinearBackoff = field(default=LinearBackoff(0.25, 16.0))
    http: ExponentialBackoff = field(default=ExponentialBackoff(5.0, 320.0, jitter=False))
    rate_limit: ExponentialBackoff = field(default=ExponentialBackoff(60.0, 960.0, jitter=False))


@dataclass(frozen=True)
class XState:
    seen: tuple[str, ...] = ()


def desired_rules(config: XStreamConfig) -> set[tuple[str, str]]:
    """(value, tag) pairs: configured rules plus ``from:`` rules per account group, split to fit."""
    rules = {(r.value, r.tag) for r in config.rules}
    for tag, handles in config.accounts.items():
        chunk: list[str] = []
        for handle in handles:
            term = f"from:{handle.lstrip('@')}"
            if chunk and len(" OR ".join([*chunk, term])) > MAX_RULE_LENGTH:
                rules.add((" OR ".join(chunk), tag))
                chunk = []
            chunk.append(term)
        if chunk:
            rules.add((" OR ".join(chunk), tag))
    return rules


class _HttpStatusError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


async def sync_rules(
    session: aiohttp.ClientSession, base_url: str, wanted: set[tuple[str, str]]
) -> None:
    """Make the stream's rules equal to ``wanted`` (delete extra, add missing)."""
    url = base_url.rstrip("/") + RULES_PATH
    async with session.get(url) as response:
        if response.status != 200:
            raise _HttpStatusError(response.status)
        current = (await response.json()).get("data") or []
    have = {(r["value"], r.get("tag", "")): r["id"] for r in current}
    stale = [rule_id for key, rule_id in have.items() if key not in wanted]
    missing = [{"value": v, "tag": t} for v, t in sorted(wanted - set(have))]
    for body in (
        {"delete": {"ids": stale}} if stale else None,
        {"add": missing} if missing else None,
    ):
        if body is None:
            continue
        async with session.post(url, json=body) as response:
            if response.status not in (200, 201):
                raise _HttpStatusError(response.status)
    log.info("X rules in sync: %d deleted, %d added", len(stale), len(missing))


def post_item(message: Any, *, source: str, received: datetime) -> NewsItem:
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict) or not data.get("id") or not isinstance(data.get("text"), str):
        raise ValueError("stream line without data.id/data.text")
    users = {u.get("id"): u for u in (message.get("includes") or {}).get("users", [])}
    user = users.get(data.get("author_id"), {})
    username = user.get("username")
    tags = ",".join(sorted(r.get("tag", "") for r in message.get("matching_rules") or []))
    post_id = str(data["id"])
    return NewsItem(
        source=source,
        id=post_id,
        title=" ".join(data["text"].split()),
        author=f"@{username}" if username else data.get("author_id"),
        url=f"https://x.com/{username or 'i'}/status/{post_id}",
        published_at=parse_instant(data.get("created_at")) or received,
        received_at=received,
        raw_ref=f"x:{post_id}:rules={tags}",
    )


class XStreamSource(FixedPartitionedSource[SourceItem, XState]):
    """The filtered stream is one connection per app: a single partition."""

    def __init__(
        self,
        config: XStreamConfig,
        defaults: Defaults,
        clock: Clock,
        *,
        once: bool = False,
        policy: XBackoff | None = None,
    ) -> None:
        self._config = config
        self._defaults = defaults
        self._clock = clock
        self._once = once
        self._policy = policy or XBackoff(
            rate_limit=ExponentialBackoff(60.0, config.max_429_backoff_s, jitter=False)
        )

    def list_parts(self) -> list[str]:
        return [self._config.name]

    def build_part(
        self, step_id: str, for_part: str, resume_state: XState | None
    ) -> AsyncPartition[XState]:
        token = secret_from_env(self._config.bearer_token_env, "X API bearer token")

        async def run(state: XState, emitter: Emitter[XState]) -> None:
            await self._run(token, state, emitter)

        return AsyncPartition(
            self._config.name,
            resume_state or XState(),
            run,
            silence_after_s=0.0 if self._once else self._defaults.silence_after_s,
        )

    async def _run(self, token: Secret, state: XState, emitter: Emitter[XState]) -> None:
        config, name = self._config, self._config.name
        seen = SeenIds(state.seen, self._defaults.remember)
        rng = random.Random()
        attempts = {"network": 0, "http": 0, "rate_limit": 0}
        headers = {
            "Authorization": f"Bearer {token.reveal()}",
            "User-Agent": self._defaults.user_agent,
        }
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=10, sock_read=config.stall_timeout_s
        )
        synced = False
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
            while True:
                kind = None
                try:
                    if not synced:
                        await sync_rules(session, config.base_url, desired_rules(config))
                        synced = True
                    async with session.get(
                        config.base_url.rstrip("/") + STREAM_PATH, params=STREAM_PARAMS
                    ) as response:
                        if response.status != 200:
                            raise _HttpStatusError(response.status)
                        attempts = dict.fromkeys(attempts, 0)
                        await self._consume(response, seen, emitter)
                        kind = "network"  # the server ended the stream: reconnect
                except _HttpStatusError as exc:
                    kind = "rate_limit" if exc.status == 429 else "http"
                    metrics.ERRORS.labels(name, f"http_{exc.status}").inc()
                    log.warning("X stream: %s", exc)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    kind = "network"
                    metrics.ERRORS.labels(name, "network").inc()
                    log.warning("X stream: %s", type(exc).__name__)
                if self._once:
                    return
                schedule = getattr(self._policy, kind)
                delay = schedule.delay(attempts[kind], rng)
                attempts[kind] += 1
                metrics.RECONNECTS.labels(name).inc()
                await asyncio.sleep(delay)

    async def _consume(
        self, response: aiohttp.ClientResponse, seen: SeenIds, emitter: Emitter[XState]
    ) -> None:
        name = self._config.name
        while True:
            try:
                line = await (
                    asyncio.wait_for(response.content.readline(), 1.0)
                    if self._once
                    else response.content.readline()
                )
            except TimeoutError:
                if self._once:
                    return
                raise
            if not line:
                return
            line = line.strip()
            if not line:
                continue  # keep-alive
            now = self._clock.now()
            try:
                message = decode_json(line)
                if isinstance(message, dict) and "errors" in message and "data" not in message:
                    log.warning("X stream error message: %s", message["errors"])
                    continue
                item: SourceItem = post_item(message, source=name, received=now)
            except ValueError as exc:
                item = dead_letter(name, str(exc), line, now, "x-stream")
            if isinstance(item, NewsItem) and not seen.add(item.id):
                continue
            await emitter.emit([item], XState(seen.snapshot()))
