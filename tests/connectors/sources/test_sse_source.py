"""SSE source against a local event-stream server: Last-Event-ID, retry:, drops, resume."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from bytewax.dataflow import Dataflow
from bytewax.operators import input as op_input
from bytewax.operators import output
from bytewax.testing import TestingSink, run_main

from connectors.sources.backoff import ExponentialBackoff
from connectors.sources.config import JsonFields
from connectors.sources.sse import Oversized, SseEvent, SseParser, SseSource, SseSpec
from records import DeadLetter, ManualClock, NewsItem
from tests.connectors.sources._sourcekit import T0, LocalServer, drain, fed_press

Serve = Callable[[web.Application], LocalServer]
FIELDS = JsonFields(id="id", title="title", url="url", published_at="pub_date", body="category")


def events() -> list[bytes]:
    return [
        json.dumps(
            {
                "id": f"press-{n}",
                "title": r["title"],
                "url": r["link"],
                "pub_date": r["pub_date"],
                "category": r["category"],
            }
        ).encode()
        for n, r in enumerate(fed_press())
    ]


def test_parser_follows_the_event_stream_format() -> None:
    parser = SseParser(None, max_event_bytes=64)
    out = parser.feed(
        b': comment\r\nretry: 2500\r\nid: 7\r\nevent: news\r\ndata: {"a":\r\ndata: 1}\r\n\r'
    )
    out += parser.feed(b"\ndata: second\n\n")
    assert out == [SseEvent("news", b'{"a":\n1}', "7"), SseEvent("message", b"second", "7")]
    assert parser.retry_ms == 2500
    big = parser.feed(b"data: " + b"x" * 100 + b"\n\ndata: ok\n\n")
    assert isinstance(big[0], Oversized) and len(big[0].head) == 64
    assert big[1:] == [SseEvent("message", b"ok", "7")]


@dataclass
class StreamServer:
    """Streams ``payloads`` as events id 1..n, dropping the connection every ``drop_every``."""

    payloads: list[bytes]
    drop_every: int = 0
    script: list[web.Response] = field(default_factory=list)
    last_ids: list[str | None] = field(default_factory=list)
    hold_open: bool = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/stream", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.last_ids.append(request.headers.get("Last-Event-ID"))
        if self.script:
            return self.script.pop(0)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"retry: 10\n\n")
        start = int(request.headers.get("Last-Event-ID") or 0)
        for n, payload in enumerate(self.payloads[start:], start=start + 1):
            await response.write(b"event: news\nid: %d\ndata: %s\n\n" % (n, payload))
            if self.drop_every and n % self.drop_every == 0:
                return response  # connection closes mid-stream
        if self.hold_open:
            await asyncio.sleep(30)
        return response


def spec(url: str, **overrides: object) -> SseSpec:
    base: dict[str, object] = {
        "name": "fed-press-sse",
        "url": url,
        "user_agent": "t",
        "fields": FIELDS,
        "backoff": ExponentialBackoff(0.01, 0.05),
        "once_idle_s": 0.3,
    }
    base.update(overrides)
    return SseSpec(**base)  # type: ignore[arg-type]


def test_reconnects_with_last_event_id_and_loses_nothing(serve: Serve) -> None:
    payloads = events()
    stream = StreamServer(payloads, drop_every=7)
    server = serve(stream.app())
    part = SseSource([spec(server.url("/stream"))], ManualClock(T0)).build_part(
        "s", "fed-press-sse", None
    )
    try:
        items = drain(part, lambda got: len(got) >= len(payloads))
    finally:
        part.close()
    assert [i.id for i in items] == [f"press-{n}" for n in range(len(payloads))]
    assert stream.last_ids[:3] == [None, "7", "14"]
    assert part.snapshot().last_event_id == str(len(payloads))
    assert part.snapshot().retry_ms == 10
    first = items[0]
    assert isinstance(first, NewsItem) and first.title == fed_press()[0]["title"]
    assert first.published_at.isoformat() == "2026-04-24T20:00:00+00:00"


def test_resume_from_snapshot_sends_last_event_id(serve: Serve) -> None:
    payloads = events()
    stream = StreamServer(payloads[:8], hold_open=True)
    server = serve(stream.app())
    source = SseSource([spec(server.url("/stream"))], ManualClock(T0))
    part = source.build_part("s", "fed-press-sse", None)
    try:
        before = drain(part, lambda got: len(got) >= 8)
        snapshot = part.snapshot()
    finally:
        part.close()
    stream.payloads = payloads
    resumed = source.build_part("s", "fed-press-sse", snapshot)
    try:
        after = drain(resumed, lambda got: len(got) >= len(payloads) - 8)
    finally:
        resumed.close()
    assert stream.last_ids[-1] == "8"
    assert [i.id for i in before + after] == [f"press-{n}" for n in range(len(payloads))]


def test_429_then_bad_events_become_dead_letters(serve: Serve) -> None:
    payloads = [b"<html>oops</html>", events()[0], b'{"id": "x", "title": ']
    stream = StreamServer(
        payloads,
        script=[
            web.Response(status=429, headers={"Retry-After": "0"}),
            web.Response(status=200, text="<html/>"),
        ],
    )
    server = serve(stream.app())
    part = SseSource([spec(server.url("/stream"))], ManualClock(T0)).build_part(
        "s", "fed-press-sse", None
    )
    try:
        items = drain(part, lambda got: len(got) >= 3)
    finally:
        part.close()
    assert [type(i) for i in items] == [DeadLetter, NewsItem, DeadLetter]
    assert len(stream.last_ids) >= 3


def test_once_with_run_main_ends_when_the_stream_goes_idle(serve: Serve) -> None:
    payloads = events()[:5]
    server = serve(StreamServer(payloads, hold_open=True).app())
    out: list[object] = []
    flow = Dataflow("sse_once")
    stream = op_input(
        "in", flow, SseSource([spec(server.url("/stream"))], ManualClock(T0), once=True)
    )
    output("out", stream, TestingSink(out))
    run_main(flow)
    assert [i.id for i in out if isinstance(i, NewsItem)] == [f"press-{n}" for n in range(5)]
