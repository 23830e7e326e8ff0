"""RSS polling source against a local feed server: conditional GET, outages, resume, run_main."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from bytewax.dataflow import Dataflow
from bytewax.operators import input as op_input
from bytewax.operators import output
from bytewax.testing import TestingSink, run_main

from connectors.sources.backoff import ExponentialBackoff
from connectors.sources.rss import FeedSource, FeedSpec, FeedState
from records import DeadLetter, ManualClock, NewsItem
from tests.connectors.sources._sourcekit import (
    T0,
    LocalServer,
    drain,
    fed_press,
    fed_speeches,
    rss_document,
    run_out,
)

Serve = Callable[[web.Application], LocalServer]
FAST = ExponentialBackoff(initial_s=0.01, maximum_s=0.05)


@dataclass
class FeedServer:
    """Serves an RSS document with an ETag; ``script`` holds canned responses served first."""

    rows: list[dict[str, str]]
    script: list[web.Response] = field(default_factory=list)
    honour_etag: bool = True
    requests: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feed.xml", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        if self.script:
            return self.script.pop(0)
        body = rss_document("FRB: Speeches", str(request.url), self.rows)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.honour_etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304)
        return web.Response(body=body, headers={"ETag": etag}, content_type="application/rss+xml")


def spec(url: str, **overrides: object) -> FeedSpec:
    base: dict[str, object] = {
        "name": "fed-speeches",
        "url": url,
        "poll_interval_s": 0.02,
        "user_agent": "Tradewire-test/1 (test@example.com)",
        "rate_per_s": 1000.0,
        "backoff": FAST,
    }
    base.update(overrides)
    return FeedSpec(**base)  # type: ignore[arg-type]


def news(items: Sequence[object]) -> list[NewsItem]:
    return [i for i in items if isinstance(i, NewsItem)]


def test_once_through_run_main_emits_every_item(serve: Serve) -> None:
    rows = fed_speeches()
    server = serve(FeedServer(rows).app())
    out: list[NewsItem | DeadLetter] = []
    flow = Dataflow("rss_once")
    stream = op_input(
        "in", flow, FeedSource([spec(server.url("/feed.xml"))], ManualClock(T0), once=True)
    )
    output("out", stream, TestingSink(out))
    run_main(flow)
    assert sorted(i.id for i in news(out)) == sorted(r["link"] for r in rows)
    assert all(i.received_at == T0 and i.source == "fed-speeches" for i in news(out))


def test_conditional_get_then_only_new_items(serve: Serve) -> None:
    rows = fed_speeches()
    feed = FeedServer(rows[1:])
    server = serve(feed.app())
    part = FeedSource([spec(server.url("/feed.xml"))], ManualClock(T0)).build_part(
        "s", "fed-speeches", None
    )
    try:
        first = drain(part, lambda got: len(got) >= len(rows) - 1)
        drain(part, lambda _: len(feed.requests) >= 3)  # later polls are conditional
        assert "If-None-Match" in feed.requests[-1]
        feed.rows = rows  # the newest speech is published
        second = drain(part, lambda got: len(got) >= 1)
        drain(part, lambda _: len(feed.requests) >= 6)
        assert part.next_batch() == []
    finally:
        part.close()
    assert [i.id for i in second] == [rows[0]["link"]]
    assert len({i.id for i in news(first + second)}) == len(rows)
    state = part.snapshot()
    assert state.etag is not None and len(state.seen) == len(rows)


def test_resume_from_snapshot_without_loss_or_duplicates(serve: Serve) -> None:
    rows = fed_speeches()
    feed = FeedServer(rows[5:], honour_etag=False)  # a server that ignores validators
    server = serve(feed.app())
    source = FeedSource([spec(server.url("/feed.xml"))], ManualClock(T0))
    part = source.build_part("s", "fed-speeches", None)
    try:
        before = drain(part, lambda got: len(got) >= len(rows) - 5)
        snapshot = part.snapshot()
    finally:
        part.close()
    feed.rows = rows  # five more published while the flow was down
    resumed = source.build_part("s", "fed-speeches", snapshot)
    try:
        after = drain(resumed, lambda got: len(got) >= 5)
        drain(resumed, lambda _: len(feed.requests) >= 4)
        after += resumed.next_batch()
    finally:
        resumed.close()
    ids = [i.id for i in news(before + after)]
    assert sorted(ids) == sorted(r["link"] for r in rows)  # none lost, none twice


def test_outage_and_429_are_retried_and_counted(serve: Serve) -> None:
    rows = fed_press()
    feed = FeedServer(
        rows,
        script=[
            web.Response(status=503, text="down for maintenance"),
            web.Response(status=429, headers={"Retry-After": "0"}),
            web.Response(status=500),
        ],
    )
    server = serve(feed.app())
    part = FeedSource(
        [spec(server.url("/feed.xml"), name="fed-press")], ManualClock(T0)
    ).build_part("s", "fed-press", None)
    try:
        items = drain(part, lambda got: len(got) >= len(rows))
    finally:
        part.close()
    assert len(feed.requests) >= 4
    assert sorted(i.id for i in news(items)) == sorted(r["link"] for r in rows)


def test_server_down_entirely_does_not_crash(serve: Serve) -> None:
    from tests.connectors.sources._sourcekit import free_port

    url = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    part = FeedSource([spec(url, name="down")], ManualClock(T0), once=True).build_part(
        "s", "down", None
    )
    assert run_out(part) == []
    assert part.snapshot() == FeedState()


def test_malformed_then_fixed_feed_dead_letters_once(serve: Serve) -> None:
    rows = fed_speeches()[:4]
    truncated = rss_document("t", "x", rows)[:500]
    feed = FeedServer(
        rows,
        script=[web.Response(body=truncated), web.Response(body=truncated)],
    )
    server = serve(feed.app())
    part = FeedSource([spec(server.url("/feed.xml"))], ManualClock(T0)).build_part(
        "s", "fed-speeches", None
    )
    try:
        items = drain(part, lambda got: len(news(got)) >= 4)
    finally:
        part.close()
    letters = [i for i in items if isinstance(i, DeadLetter)]
    assert len(letters) == 1  # the same broken body twice is reported once
    assert letters[0].payload == truncated and letters[0].reason.startswith("malformed XML")


def test_giant_payload_becomes_a_bounded_dead_letter(serve: Serve) -> None:
    giant = rss_document("t", "x", fed_speeches() * 50)
    feed = FeedServer([], script=[web.Response(body=giant)])
    server = serve(feed.app())
    part = FeedSource(
        [spec(server.url("/feed.xml"), max_bytes=10_000)], ManualClock(T0), once=True
    ).build_part("s", "fed-speeches", None)
    (letter,) = run_out(part)
    assert isinstance(letter, DeadLetter)
    assert "exceeds 10000 bytes" in letter.reason
    assert letter.payload == giant[:10_000]
