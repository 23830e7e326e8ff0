"""Server-Sent Events source: ``text/event-stream`` with ``Last-Event-ID`` resume and ``retry:``.

The snapshot holds the last event id emitted and the server's retry interval; on reconnect (or
resume after a restart) the id is sent as ``Last-Event-ID`` so the server replays what we missed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field, replace

import aiohttp
from bytewax.inputs import FixedPartitionedSource

from connectors.sources import metrics
from connectors.sources.backoff import ExponentialBackoff, retry_after_seconds
from connectors.sources.config import JsonFields, SseStream
from connectors.sources.jsonmap import dead_letter, map_message
from connectors.sources.runtime import AsyncPartition, Emitter, SourceItem
from connectors.sources.secrets import header_secrets
from connectors.sources.seen import SeenIds
from records import Clock, NewsItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: bytes
    id: str | None
    """The last-event-id in force after this event (it persists across events, per the spec)."""


@dataclass(frozen=True)
class Oversized:
    """An event bigger than the bound: its head, for the dead-letter stream."""

    head: bytes


class SseParser:
    """Incremental parser of the WHATWG event-stream format, bounded per event."""

    def __init__(self, last_id: str | None, max_event_bytes: int) -> None:
        self.last_id = last_id
        self.retry_ms: int | None = None
        self._max = max_event_bytes
        self._buffer = b""
        self._event = ""
        self._data: list[bytes] = []
        self._size = 0
        self._skipping = False

    def feed(self, chunk: bytes) -> list[SseEvent | Oversized]:
        out: list[SseEvent | Oversized] = []
        self._buffer += chunk
        while True:
            cut = min(
                (i for i in (self._buffer.find(b"\n"), self._buffer.find(b"\r")) if i >= 0),
                default=-1,
            )
            if cut < 0:
                if len(self._buffer) > self._max:
                    out.extend(self._overflow(self._buffer))
                    self._buffer = b""
                return out
            line = self._buffer[:cut]
            skip = 2 if self._buffer[cut : cut + 2] == b"\r\n" else 1
            if self._buffer[cut : cut + 1] == b"\r" and cut + 1 == len(self._buffer):
                return out  # a lone CR may be the first half of CRLF: wait for more
            self._buffer = self._buffer[cut + skip :]
            out.extend(self._line(line))

    def _overflow(self, head: bytes) -> list[SseEvent | Oversized]:
        if self._skipping:
            return []
        self._skipping = True
        collected = b"\n".join(self._data) + head
        self._data, self._size = [], 0
        return [Oversized(collected[: self._max])]

    def _line(self, line: bytes) -> list[SseEvent | Oversized]:
        if not line:
            return self._dispatch()
        if self._skipping or line.startswith(b":"):
            return []
        name, _, value = line.partition(b":")
        value = value.removeprefix(b" ")
        if name == b"data":
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self._max:
                return self._overflow(b"")
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            self.last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self.retry_ms = int(value)
        return []

    def _dispatch(self) -> list[SseEvent | Oversized]:
        data, event = self._data, self._event or "message"
        self._data, self._event, self._size = [], "", 0
        if self._skipping:
            self._skipping = False
            return []
        if not data:
            return []
        return [SseEvent(event, b"\n".join(data), self.last_id)]


@dataclass(frozen=True)
class SseSpec:
    name: str
    url: str
    user_agent: str
    events: frozenset[str] = frozenset()
    fields: JsonFields = field(default_factory=JsonFields)
    headers_env: dict[str, str] = field(default_factory=dict)
    max_event_bytes: int = 1_000_000
    read_timeout_s: float = 90.0
    backoff: ExponentialBackoff = field(default=ExponentialBackoff(1.0, 60.0))
    remember: int = 5000
    silence_after_s: float = 0.0
    once_idle_s: float = 2.0
    """With ``--once``: stop after this long without an event (or when the server ends)."""


@dataclass(frozen=True)
class SseState:
    last_event_id: str | None = None
    retry_ms: int | None = None
    seen: tuple[str, ...] = ()


def spec_from_config(
    stream: SseStream, *, user_agent: str, max_bytes: int, remember: int, silence_after_s: float
) -> SseSpec:
    return SseSpec(
        name=stream.name,
        url=stream.url,
        user_agent=user_agent,
        events=frozenset(stream.events),
        fields=stream.fields,
        headers_env=dict(stream.headers_env),
        max_event_bytes=max_bytes,
        backoff=ExponentialBackoff(stream.backoff_initial_s, stream.backoff_max_s),
        remember=remember,
        silence_after_s=silence_after_s,
    )


class _Reader:
    def __init__(self, spec: SseSpec, clock: Clock, once: bool, headers: dict[str, str]) -> None:
        self._spec = spec
        self._clock = clock
        self._once = once
        self._headers = headers
        self._rng = random.Random()

    async def run(self, state: SseState, emitter: Emitter[SseState]) -> None:
        spec = self._spec
        seen = SeenIds(state.seen, spec.remember)
        failures = 0
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=spec.read_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                headers = {
                    "Accept": "text/event-stream",
                    "User-Agent": spec.user_agent,
                    **self._headers,
                }
                if state.last_event_id is not None:
                    headers["Last-Event-ID"] = state.last_event_id
                wait: float | None = None
                try:
                    async with session.get(spec.url, headers=headers) as response:
                        if response.status == 204:
                            log.info("SSE %s: server asked us to stop (204)", spec.name)
                            return
                        content_type = response.headers.get("Content-Type", "")
                        if response.status != 200 or "text/event-stream" not in content_type:
                            metrics.ERRORS.labels(spec.name, f"http_{response.status}").inc()
                            log.warning(
                                "SSE %s: HTTP %s %s", spec.name, response.status, content_type
                            )
                            wait = retry_after_seconds(
                                response.headers.get("Retry-After"), self._clock.now()
                            )
                        else:
                            state, got = await self._consume(response, state, seen, emitter)
                            if got:
                                failures = 0
                            if self._once:
                                return
                except (aiohttp.ClientError, TimeoutError) as exc:
                    metrics.ERRORS.labels(spec.name, "network").inc()
                    log.warning("SSE %s: connection lost: %s", spec.name, type(exc).__name__)
                    state = emitter.last_state
                if self._once:
                    return  # --once: what one connection yields now, no reconnects
                metrics.RECONNECTS.labels(spec.name).inc()
                await asyncio.sleep(wait if wait is not None else self._delay(state, failures))
                failures += 1

    def _delay(self, state: SseState, failures: int) -> float:
        """``retry:`` is the floor the server asked for; repeated failures back off beyond it."""
        backoff = self._spec.backoff
        floor = state.retry_ms / 1000 if state.retry_ms is not None else backoff.initial_s
        if failures == 0:
            return floor
        return max(floor, backoff.delay(failures - 1, self._rng))

    async def _consume(
        self,
        response: aiohttp.ClientResponse,
        state: SseState,
        seen: SeenIds,
        emitter: Emitter[SseState],
    ) -> tuple[SseState, bool]:
        spec = self._spec
        parser = SseParser(state.last_event_id, spec.max_event_bytes)
        got = False
        while True:
            try:
                read = response.content.readany()
                chunk = await (asyncio.wait_for(read, spec.once_idle_s) if self._once else read)
            except TimeoutError:
                if self._once:
                    return state, got
                raise
            if not chunk:
                return state, got
            batch: list[SourceItem] = []
            for event in parser.feed(chunk):
                batch.extend(self._items(event, seen))
            if parser.retry_ms is not None and parser.retry_ms != state.retry_ms:
                state = replace(state, retry_ms=parser.retry_ms)
            if batch or parser.last_id != state.last_event_id:
                state = replace(state, last_event_id=parser.last_id, seen=seen.snapshot())
                await emitter.emit(batch, state)
                got = got or bool(batch)

    def _items(self, event: SseEvent | Oversized, seen: SeenIds) -> list[SourceItem]:
        spec = self._spec
        now = self._clock.now()
        if isinstance(event, Oversized):
            reason = f"event exceeds {spec.max_event_bytes} bytes"
            return [dead_letter(spec.name, reason, event.head, now, spec.url)]
        if spec.events and event.event not in spec.events:
            return []
        ref = f"{spec.url}#{event.id}" if event.id else spec.url
        items = map_message(
            event.data,
            spec.fields,
            source=spec.name,
            received_at=now,
            raw_ref=ref,
            fallback_id=event.id,
        )
        return [i for i in items if not isinstance(i, NewsItem) or seen.add(i.id)]


class SseSource(FixedPartitionedSource[SourceItem, SseState]):
    """SSE streams, one partition per stream URL."""

    def __init__(self, specs: list[SseSpec], clock: Clock, *, once: bool = False) -> None:
        self._specs = {spec.name: spec for spec in specs}
        self._clock = clock
        self._once = once

    def list_parts(self) -> list[str]:
        return list(self._specs)

    def build_part(
        self, step_id: str, for_part: str, resume_state: SseState | None
    ) -> AsyncPartition[SseState]:
        spec = self._specs[for_part]
        headers = header_secrets(spec.headers_env, f"SSE stream {spec.name!r}")
        reader = _Reader(spec, self._clock, self._once, headers)
        return AsyncPartition(
            spec.name,
            resume_state or SseState(),
            reader.run,
            silence_after_s=0.0 if self._once else spec.silence_after_s,
        )
