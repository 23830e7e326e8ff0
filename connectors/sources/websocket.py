"""WebSocket source for JSON news streams: subscriptions, pings, back-off, resume by cursor.

After every (re)connect the configured subscription messages are sent; where the server offers
resume, the last cursor (kept in the snapshot) goes out as a query parameter or inside a resume
message, and ids already emitted are dropped if the server replays an overlap.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
from bytewax.inputs import FixedPartitionedSource

from connectors.sources import metrics
from connectors.sources.backoff import ExponentialBackoff
from connectors.sources.config import JsonFields, WebSocketStream
from connectors.sources.jsonmap import dead_letter, decode_json, iter_items, lookup, map_message
from connectors.sources.runtime import AsyncPartition, Emitter, SourceItem
from connectors.sources.secrets import header_secrets
from connectors.sources.seen import SeenIds
from records import Clock, NewsItem

log = logging.getLogger(__name__)

LAST_ID = "$last_id"


@dataclass(frozen=True)
class WsSpec:
    name: str
    url: str
    user_agent: str
    subscribe: tuple[str, ...] = ()
    """Subscription messages, already JSON-encoded."""
    ping_interval_s: float = 20.0
    fields: JsonFields = field(default_factory=JsonFields)
    accept_field: str | None = None
    accept_values: frozenset[str] = frozenset()
    resume_field: str | None = None
    resume_param: str | None = None
    resume_message: str | None = None
    """JSON text of the resume message, with ``"$last_id"`` as placeholder."""
    headers_env: dict[str, str] = field(default_factory=dict)
    max_message_bytes: int = 1_000_000
    backoff: ExponentialBackoff = field(default=ExponentialBackoff(1.0, 60.0))
    remember: int = 5000
    silence_after_s: float = 0.0
    once_idle_s: float = 2.0


@dataclass(frozen=True)
class WsState:
    cursor: str | None = None
    seen: tuple[str, ...] = ()


def spec_from_config(
    stream: WebSocketStream,
    *,
    user_agent: str,
    max_bytes: int,
    remember: int,
    silence_after_s: float,
) -> WsSpec:
    return WsSpec(
        name=stream.name,
        url=stream.url,
        user_agent=user_agent,
        subscribe=tuple(json.dumps(m) for m in stream.subscribe),
        ping_interval_s=stream.ping_interval_s,
        fields=stream.fields,
        accept_field=stream.accept_field,
        accept_values=frozenset(stream.accept_values),
        resume_field=stream.resume_field,
        resume_param=stream.resume_param,
        resume_message=json.dumps(stream.resume_message) if stream.resume_message else None,
        headers_env=dict(stream.headers_env),
        max_message_bytes=max_bytes,
        backoff=ExponentialBackoff(stream.backoff_initial_s, stream.backoff_max_s),
        remember=remember,
        silence_after_s=silence_after_s,
    )


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _fill(template: str, cursor: str) -> str:
    def walk(node: Any) -> Any:
        if node == LAST_ID:
            return cursor
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(json.loads(template)))


class _Reader:
    def __init__(self, spec: WsSpec, clock: Clock, once: bool, headers: dict[str, str]) -> None:
        self._spec = spec
        self._clock = clock
        self._once = once
        self._headers = headers
        self._rng = random.Random()

    async def run(self, state: WsState, emitter: Emitter[WsState]) -> None:
        spec = self._spec
        seen = SeenIds(state.seen, spec.remember)
        failures = 0
        async with aiohttp.ClientSession(headers={"User-Agent": spec.user_agent}) as session:
            while True:
                url = spec.url
                if spec.resume_param and state.cursor is not None:
                    url = _with_param(url, spec.resume_param, state.cursor)
                try:
                    async with session.ws_connect(
                        url,
                        heartbeat=spec.ping_interval_s,
                        headers=self._headers,
                        max_msg_size=spec.max_message_bytes,
                    ) as ws:
                        for message in spec.subscribe:
                            await ws.send_str(message)
                        if spec.resume_message and state.cursor is not None:
                            await ws.send_str(_fill(spec.resume_message, state.cursor))
                        state, got = await self._consume(ws, state, seen, emitter)
                        if got:
                            failures = 0
                except (aiohttp.ClientError, TimeoutError) as exc:
                    metrics.ERRORS.labels(spec.name, "network").inc()
                    log.warning("websocket %s: %s: %s", spec.name, type(exc).__name__, exc)
                    state = emitter.last_state
                if self._once:
                    return
                delay = spec.backoff.delay(failures, self._rng)
                failures += 1
                metrics.RECONNECTS.labels(spec.name).inc()
                log.info("websocket %s: reconnecting in %.2f s", spec.name, delay)
                await asyncio.sleep(delay)

    async def _consume(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        state: WsState,
        seen: SeenIds,
        emitter: Emitter[WsState],
    ) -> tuple[WsState, bool]:
        spec = self._spec
        got = False
        while True:
            try:
                receive = ws.receive()
                message = await (
                    asyncio.wait_for(receive, spec.once_idle_s) if self._once else receive
                )
            except TimeoutError:
                return state, got
            if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                data = message.data if isinstance(message.data, bytes) else message.data.encode()
                items, cursor = self._items(data, seen)
                if items or cursor is not None:
                    state = WsState(cursor=cursor or state.cursor, seen=seen.snapshot())
                    await emitter.emit(items, state)
                    got = got or bool(items)
            elif message.type == aiohttp.WSMsgType.ERROR:
                error = ws.exception()
                metrics.ERRORS.labels(spec.name, "protocol").inc()
                log.warning("websocket %s: %r", spec.name, error)
                if (
                    isinstance(error, aiohttp.WebSocketError)
                    and error.code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
                ):
                    # The bound stops the read, so only the fact is kept, not the bytes.
                    reason = f"message exceeds {spec.max_message_bytes} bytes (not read)"
                    letter = dead_letter(spec.name, reason, b"", self._clock.now(), spec.url)
                    await emitter.emit([letter], state)
                return state, got
            elif message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                log.info("websocket %s: closed by server (%s)", spec.name, ws.close_code)
                return state, got

    def _items(self, data: bytes, seen: SeenIds) -> tuple[list[SourceItem], str | None]:
        spec = self._spec
        now = self._clock.now()
        try:
            message = decode_json(data)
        except ValueError as exc:
            return [dead_letter(spec.name, str(exc), data, now, spec.url)], None
        if spec.accept_field is not None:
            kind = lookup(message, spec.accept_field)
            if str(kind) not in spec.accept_values:
                return [], None  # acks, heartbeats, subscription confirmations
        cursor = None
        if spec.resume_field is not None:
            for obj in iter_items(message, spec.fields):
                value = lookup(obj, spec.resume_field)
                if isinstance(value, str | int) and not isinstance(value, bool):
                    cursor = str(value)
        items = map_message(data, spec.fields, source=spec.name, received_at=now, raw_ref=spec.url)
        fresh = [i for i in items if not isinstance(i, NewsItem) or seen.add(i.id)]
        return fresh, cursor


class WebSocketSource(FixedPartitionedSource[SourceItem, WsState]):
    """JSON WebSocket streams, one partition per stream."""

    def __init__(self, specs: list[WsSpec], clock: Clock, *, once: bool = False) -> None:
        self._specs = {spec.name: spec for spec in specs}
        self._clock = clock
        self._once = once

    def list_parts(self) -> list[str]:
        return list(self._specs)

    def build_part(
        self, step_id: str, for_part: str, resume_state: WsState | None
    ) -> AsyncPartition[WsState]:
        spec = self._specs[for_part]
        headers = header_secrets(spec.headers_env, f"websocket {spec.name!r}")
        reader = _Reader(spec, self._clock, self._once, headers)
        return AsyncPartition(
            spec.name,
            resume_state or WsState(),
            reader.run,
            silence_after_s=0.0 if self._once else spec.silence_after_s,
        )
