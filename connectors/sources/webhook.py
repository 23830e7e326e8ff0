"""Webhook receiver: signed pushes from external services and WebSub content, as a source.

A delivery is acknowledged (2xx) only once its items are in the partition's queue; when the
queue is full the sender gets 503 + Retry-After and delivers again later, so nothing is dropped.
Signatures are HMAC-SHA256 over ``"<timestamp>." + body``; a timestamp outside the window or a
signature already seen is refused as a replay. The replay cache is part of the snapshot, so a
restart does not reopen the window to replays.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from aiohttp import web
from bytewax.inputs import FixedPartitionedSource

from connectors.sources import metrics, websub
from connectors.sources.config import JsonFields, RssFeed, WebhookConfig
from connectors.sources.feeds import FeedError, parse_feed
from connectors.sources.jsonmap import dead_letter, map_message
from connectors.sources.runtime import AsyncPartition, Emitter, SourceItem
from connectors.sources.secrets import Secret, secret_from_env
from connectors.sources.seen import SeenIds
from records import Clock, NewsItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    secret_env: str
    fields: JsonFields = field(default_factory=JsonFields)


@dataclass(frozen=True)
class WebSubFeed:
    topic: str
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WebhookSpec:
    name: str
    host: str
    port: int
    hooks: dict[str, Hook] = field(default_factory=dict)
    websub_feeds: dict[str, WebSubFeed] = field(default_factory=dict)
    websub_secret_env: str | None = None
    max_body_bytes: int = 1_000_000
    window_s: float = 300.0
    signature_header: str = "X-Tradewire-Signature"
    timestamp_header: str = "X-Tradewire-Timestamp"
    remember: int = 5000
    silence_after_s: float = 0.0


@dataclass(frozen=True)
class WebhookState:
    replays: tuple[tuple[str, float], ...] = ()
    """(signature, signed unix time) of accepted deliveries still inside the window."""
    seen: tuple[str, ...] = ()
    """Keys of WebSub items already emitted (hubs may push the same entry again)."""


def spec_from_config(
    config: WebhookConfig, feeds: list[RssFeed], *, remember: int, silence_after_s: float
) -> WebhookSpec:
    return WebhookSpec(
        name=config.name,
        host=config.host,
        port=config.port,
        hooks={h.name: Hook(h.secret_env, h.fields) for h in config.hooks},
        websub_feeds={
            f.name: WebSubFeed(f.url, frozenset(f.categories)) for f in feeds if f.websub
        },
        websub_secret_env=config.websub_secret_env,
        max_body_bytes=config.max_body_bytes,
        window_s=config.window_s,
        signature_header=config.signature_header,
        timestamp_header=config.timestamp_header,
        remember=remember,
        silence_after_s=silence_after_s,
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value a sender computes: ``sha256=<hex>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class _Receiver:
    """The aiohttp application; all handlers run on the partition's own loop (no locking)."""

    def __init__(
        self,
        spec: WebhookSpec,
        clock: Clock,
        secrets: dict[str, Secret],
        websub_master: Secret | None,
        state: WebhookState,
        emitter: Emitter[WebhookState],
    ) -> None:
        self._spec = spec
        self._clock = clock
        self._secrets = secrets
        self._websub_master = websub_master
        self._replays = dict(state.replays)
        self._seen = SeenIds(state.seen, spec.remember)
        self._emitter = emitter

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self._spec.max_body_bytes)
        app.router.add_post("/hooks/{name}", self._hook)
        app.router.add_get("/websub/{feed}", self._websub_verify)
        app.router.add_post("/websub/{feed}", self._websub_push)
        app.router.add_get("/healthz", self._health)
        return app

    def _state(self) -> WebhookState:
        return WebhookState(replays=tuple(self._replays.items()), seen=self._seen.snapshot())

    def _reject(self, status: int, reason: str, kind: str) -> web.Response:
        metrics.ERRORS.labels(self._spec.name, kind).inc()
        log.warning("webhook %s: %s", self._spec.name, reason)
        return web.Response(status=status, text=reason)

    async def _read(self, request: web.Request) -> bytes | web.Response:
        limit = self._spec.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return self._reject(413, f"body over {limit} bytes", "too_large")
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(413, f"body over {limit} bytes", "too_large")

    def _hand_over(self, items: list[SourceItem]) -> web.Response:
        if not self._emitter.offer(items, self._state()):
            return web.Response(status=503, headers={"Retry-After": "1"}, text="queue full")
        return web.Response(status=202, text="accepted")

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _hook(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        hook = self._spec.hooks.get(name)
        if hook is None:
            return self._reject(404, f"unknown hook {name!r}", "unknown_hook")
        body = await self._read(request)
        if isinstance(body, web.Response):
            return body
        raw_ts = request.headers.get(self._spec.timestamp_header, "")
        signature = request.headers.get(self._spec.signature_header, "")
        if not raw_ts.isdigit():
            return self._reject(401, "missing or malformed timestamp", "bad_signature")
        timestamp = int(raw_ts)
        expected = sign(self._secrets[name].reveal(), timestamp, body)
        if not hmac.compare_digest(expected, signature.strip().lower()):
            return self._reject(401, "signature mismatch", "bad_signature")
        now = self._clock.now().timestamp()
        if abs(now - timestamp) > self._spec.window_s:
            return self._reject(401, "timestamp outside the accepted window", "stale")
        self._replays = {s: t for s, t in self._replays.items() if now - t <= self._spec.window_s}
        if expected in self._replays:
            return self._reject(409, "replayed delivery", "replay")
        items = map_message(
            body,
            hook.fields,
            source=name,
            received_at=self._clock.now(),
            raw_ref=f"webhook:{name}:{expected[7:23]}",
        )
        self._replays[expected] = float(timestamp)
        response = self._hand_over(items)
        if response.status != 202:
            del self._replays[expected]  # not accepted: the sender's retry must get through
        return response

    async def _websub_verify(self, request: web.Request) -> web.Response:
        feed = request.match_info["feed"]
        wanted = self._spec.websub_feeds.get(feed)
        mode = request.query.get("hub.mode", "")
        topic = request.query.get("hub.topic", "")
        challenge = request.query.get("hub.challenge", "")
        if mode == "denied":
            log.warning("WebSub hub denied subscription of %s: %s", feed, request.query)
            return web.Response(text="")
        if wanted is None or mode not in ("subscribe", "unsubscribe") or not challenge:
            return self._reject(404, f"no WebSub subscription for {feed!r}", "websub_verify")
        if topic != wanted.topic and not websub.topic_expected(feed, topic):
            return self._reject(404, f"unexpected topic for {feed!r}", "websub_verify")
        return web.Response(text=challenge)

    async def _websub_push(self, request: web.Request) -> web.Response:
        feed = request.match_info["feed"]
        wanted = self._spec.websub_feeds.get(feed)
        if wanted is None or self._websub_master is None:
            return self._reject(404, f"no WebSub subscription for {feed!r}", "websub_push")
        body = await self._read(request)
        if isinstance(body, web.Response):
            return body
        secret = websub.feed_secret(self._websub_master, feed)
        if not websub.signature_valid(request.headers.get("X-Hub-Signature"), body, secret):
            # WebSub: acknowledge, but ignore content that does not carry our signature.
            self._reject(202, f"WebSub push for {feed!r} with a bad signature ignored", "forged")
            return web.Response(status=202, text="ignored")
        received = self._clock.now()
        try:
            parsed = parse_feed(
                body,
                source=feed,
                feed_url=wanted.topic,
                received_at=received,
                categories=wanted.categories,
            )
            items: list[SourceItem] = [
                i for i in parsed.items if not isinstance(i, NewsItem) or self._seen.add(i.id)
            ]
        except FeedError as exc:
            items = [dead_letter(feed, f"WebSub push: {exc}", body, received, wanted.topic)]
        return self._hand_over(items)


class WebhookSource(FixedPartitionedSource[SourceItem, WebhookState]):
    """One HTTP server, one partition; secrets are read from the environment in ``build_part``."""

    def __init__(self, spec: WebhookSpec, clock: Clock) -> None:
        self._spec = spec
        self._clock = clock

    def list_parts(self) -> list[str]:
        return [self._spec.name]

    def build_part(
        self, step_id: str, for_part: str, resume_state: WebhookState | None
    ) -> AsyncPartition[WebhookState]:
        spec = self._spec
        secrets = {
            name: secret_from_env(hook.secret_env, f"HMAC secret of webhook {name!r}")
            for name, hook in spec.hooks.items()
        }
        master = (
            secret_from_env(spec.websub_secret_env, "WebSub HMAC master secret")
            if spec.websub_secret_env and spec.websub_feeds
            else None
        )

        async def serve(state: WebhookState, emitter: Emitter[WebhookState]) -> None:
            receiver = _Receiver(spec, self._clock, secrets, master, state, emitter)
            runner = web.AppRunner(receiver.app(), access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            try:
                await web.TCPSite(runner, spec.host, spec.port).start()
                log.info("webhook %s listening on %s:%d", spec.name, spec.host, spec.port)
                await asyncio.Event().wait()  # serve until the partition is closed
            finally:
                await runner.cleanup()

        return AsyncPartition(
            spec.name,
            resume_state or WebhookState(),
            serve,
            silence_after_s=spec.silence_after_s,
        )
