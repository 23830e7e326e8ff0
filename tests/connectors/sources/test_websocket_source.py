"""WebSocket source against a local server: subscriptions, drops + resume cursor, bad frames."""

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
from connectors.sources.websocket import WebSocketSource, WsSpec
from records import DeadLetter, ManualClock, NewsItem
from tests.connectors.sources._sourcekit import T0, LocalServer, drain, fed_testimony

Serve = Callable[[web.Application], LocalServer]
SUBSCRIBE = {"op": "subscribe", "channels": ["testimony"]}


def items() -> list[dict[str, object]]:
    return [
        {
            "seq": n,
            "id": r["link"],
            "headline": r["title"],
            "summary": r["description"],
            "link": r["link"],
            "ts": r["pub_date"],
        }
        for n, r in enumerate(fed_testimony(), start=1)
    ]


@dataclass
class WsServer:
    """Acks each subscription, then streams ``frames``; resumes after ``?since=`` on reconnect."""

    frames: list[str]
    drop_after: int = 0
    connects: list[str | None] = field(default_factory=list)
    received: list[str] = field(default_factory=list)
    refuse_first: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ws", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.connects.append(request.query.get("since"))
        if self.refuse_first:
            self.refuse_first -= 1
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.received.append((await ws.receive()).data)
        await ws.send_str(json.dumps({"type": "ack"}))
        since = int(request.query.get("since", 0))
        for sent, frame in enumerate(self.frames[since:], start=1):
            await ws.send_str(frame)
            if self.drop_after and sent == self.drop_after:
                await ws.close()
                return ws
        await asyncio.sleep(30)
        return ws


def news_frames() -> list[str]:
    return [json.dumps({"type": "news", "data": item}) for item in items()]


def spec(url: str, **overrides: object) -> WsSpec:
    base: dict[str, object] = {
        "name": "wire",
        "url": url,
        "user_agent": "t",
        "subscribe": (json.dumps(SUBSCRIBE),),
        "ping_interval_s": 5.0,
        "fields": JsonFields(
            id="id",
            title="headline",
            body="summary",
            url="link",
            published_at="ts",
            items_path="data",
        ),
        "accept_field": "type",
        "accept_values": frozenset({"news"}),
        "resume_field": "seq",
        "resume_param": "since",
        "backoff": ExponentialBackoff(0.01, 0.05),
        "once_idle_s": 0.3,
    }
    base.update(overrides)
    return WsSpec(**base)  # type: ignore[arg-type]


def test_drops_and_outage_are_survived_without_gaps(serve: Serve) -> None:
    frames = news_frames()
    server_state = WsServer(frames, drop_after=4, refuse_first=1)
    server = serve(server_state.app())
    part = WebSocketSource([spec(server.url("/ws"))], ManualClock(T0)).build_part("s", "wire", None)
    try:
        got = drain(part, lambda got: len(got) >= len(frames))
    finally:
        part.close()
    expected = [str(i["id"]) for i in items()]
    assert [i.id for i in got] == expected
    assert server_state.connects[:4] == [None, None, "4", "8"]
    assert all(json.loads(m) == SUBSCRIBE for m in server_state.received)
    first = got[0]
    assert isinstance(first, NewsItem) and first.title == fed_testimony()[0]["title"]
    assert first.published_at.isoformat() == "2026-03-25T20:30:00+00:00"
    assert part.snapshot().cursor == str(len(frames))


def test_resume_from_snapshot_continues_after_the_cursor(serve: Serve) -> None:
    frames = news_frames()
    server_state = WsServer(frames[:6])
    server = serve(server_state.app())
    source = WebSocketSource([spec(server.url("/ws"))], ManualClock(T0))
    part = source.build_part("s", "wire", None)
    try:
        before = drain(part, lambda got: len(got) >= 6)
        snapshot = part.snapshot()
    finally:
        part.close()
    server_state.frames = frames
    resumed = source.build_part("s", "wire", snapshot)
    try:
        after = drain(resumed, lambda got: len(got) >= len(frames) - 6)
    finally:
        resumed.close()
    assert server_state.connects[-1] == "6"
    assert [i.id for i in before + after] == [str(i["id"]) for i in items()]


def test_bad_frames_are_dead_letters_and_the_stream_goes_on(serve: Serve) -> None:
    good = news_frames()[:2]
    frames = [
        "<html><body>Bad Gateway</body></html>",
        good[0],
        '{"type": "news", "data": {"id"',
        good[1],
    ]
    server = serve(WsServer(frames).app())
    part = WebSocketSource(
        [spec(server.url("/ws"), resume_param=None)], ManualClock(T0)
    ).build_part("s", "wire", None)
    try:
        got = drain(part, lambda got: len(got) >= 4)
    finally:
        part.close()
    assert [type(i) for i in got] == [DeadLetter, NewsItem, DeadLetter, NewsItem]
    assert isinstance(got[0], DeadLetter) and got[0].payload == frames[0].encode()


def test_once_with_run_main(serve: Serve) -> None:
    server = serve(WsServer(news_frames()[:3]).app())
    out: list[object] = []
    flow = Dataflow("ws_once")
    stream = op_input(
        "in", flow, WebSocketSource([spec(server.url("/ws"))], ManualClock(T0), once=True)
    )
    output("out", stream, TestingSink(out))
    run_main(flow)
    assert [i.id for i in out if isinstance(i, NewsItem)] == [str(i["id"]) for i in items()[:3]]
