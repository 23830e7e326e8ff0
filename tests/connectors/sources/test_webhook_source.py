"""Webhook receiver: HMAC + timestamp window, replays, size bound, ack after hand-off, WebSub."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from aiohttp import ClientSession, web

from connectors.sources.backoff import ExponentialBackoff
from connectors.sources.rss import FeedSource, FeedSpec, WebSubSettings
from connectors.sources.runtime import AsyncPartition
from connectors.sources.webhook import (
    Hook,
    WebhookSource,
    WebhookSpec,
    WebhookState,
    WebSubFeed,
    sign,
)
from records import DeadLetter, ManualClock, NewsItem
from tests.connectors.sources._sourcekit import (
    T0,
    LocalServer,
    drain,
    fed_speeches,
    free_port,
    rss_document,
    wait_for,
)

Serve = Callable[[web.Application], LocalServer]
SECRET = "s3cret-for-tests"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_TEST_HOOK_SECRET", SECRET)
    monkeypatch.setenv("TW_TEST_WEBSUB_SECRET", "websub-master")


def make_spec(port: int, **extra: object) -> WebhookSpec:
    return WebhookSpec(
        name="webhook",
        host="127.0.0.1",
        port=port,
        hooks={"newswire": Hook("TW_TEST_HOOK_SECRET")},
        max_body_bytes=4096,
        window_s=300,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def receiver(env: None) -> Iterator[tuple[AsyncPartition[WebhookState], int, ManualClock]]:
    port = free_port()
    clock = ManualClock(T0)
    part = WebhookSource(make_spec(port), clock).build_part("s", "webhook", None)
    wait_for(lambda: _healthy(port))
    yield part, port, clock
    part.close()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def signed(body: bytes, ts: int, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Tradewire-Timestamp": str(ts),
        "X-Tradewire-Signature": sign(secret, ts, body),
        "Content-Type": "application/json",
    }


ITEM = {
    "id": "wire-1",
    "title": "Federal Reserve Board announces approval of application by OceanFirst Financial",
    "url": "https://www.federalreserve.gov/newsevents/pressreleases/orders20260424a.htm",
    "published_at": "2026-04-24T20:00:00Z",
}


def test_signed_delivery_is_in_the_queue_when_acknowledged(
    receiver: tuple[AsyncPartition[WebhookState], int, ManualClock],
) -> None:
    part, port, _ = receiver
    body = json.dumps(ITEM).encode()
    assert post(port, "/hooks/newswire", body, signed(body, int(T0.timestamp()))) == 202
    (item,) = part.next_batch()  # already handed over when the 202 came back
    assert isinstance(item, NewsItem)
    assert (item.source, item.id, item.url) == ("newswire", "wire-1", ITEM["url"])
    assert item.published_at.isoformat() == "2026-04-24T20:00:00+00:00"
    assert item.received_at == T0


def test_forged_stale_oversized_and_unknown_are_refused(
    receiver: tuple[AsyncPartition[WebhookState], int, ManualClock],
) -> None:
    part, port, _ = receiver
    body = json.dumps(ITEM).encode()
    now = int(T0.timestamp())
    assert post(port, "/hooks/newswire", body, signed(body, now, "wrong-secret")) == 401
    assert post(port, "/hooks/newswire", body, signed(body, now - 301)) == 401
    assert post(port, "/hooks/newswire", body, {"X-Tradewire-Signature": "sha256=00"}) == 401
    big = json.dumps({**ITEM, "body": "x" * 5000}).encode()
    assert post(port, "/hooks/newswire", big, signed(big, now)) == 413
    assert post(port, "/hooks/other", body, signed(body, now)) == 404
    assert part.next_batch() == []


def test_replay_is_refused_even_after_a_restart(env: None) -> None:
    port = free_port()
    clock = ManualClock(T0)
    source = WebhookSource(make_spec(port), clock)
    part = source.build_part("s", "webhook", None)
    body = json.dumps(ITEM).encode()
    headers = signed(body, int(T0.timestamp()))
    try:
        wait_for(lambda: _healthy(port))
        assert post(port, "/hooks/newswire", body, headers) == 202
        assert post(port, "/hooks/newswire", body, headers) == 409
        assert len(part.next_batch()) == 1
        snapshot = part.snapshot()
    finally:
        part.close()
    clock.set(T0 + timedelta(seconds=60))
    resumed = source.build_part("s", "webhook", snapshot)
    try:
        wait_for(lambda: _healthy(port))
        assert post(port, "/hooks/newswire", body, headers) == 409
        later = int(clock.now().timestamp())
        assert post(port, "/hooks/newswire", body, signed(body, later)) == 202
    finally:
        resumed.close()


def test_bad_json_with_a_valid_signature_is_a_dead_letter(
    receiver: tuple[AsyncPartition[WebhookState], int, ManualClock],
) -> None:
    part, port, _ = receiver
    now = int(T0.timestamp())
    html = b"<html><body>502 Bad Gateway</body></html>"
    truncated = json.dumps(ITEM).encode()[:30]
    untitled = json.dumps({"id": "x"}).encode()
    for body in (html, truncated, untitled):
        assert post(port, "/hooks/newswire", body, signed(body, now)) == 202
    letters = drain(part, lambda got: len(got) >= 3)
    assert all(isinstance(x, DeadLetter) for x in letters)
    reasons = [x.reason for x in letters]
    assert reasons[0].startswith("expected JSON, got markup")
    assert reasons[1].startswith("malformed JSON")
    assert reasons[2] == "missing text field 'title'"
    assert [x.payload for x in letters[:2]] == [html, truncated]


class Hub:
    """A minimal WebSub hub: verifies the subscriber's callback, then pushes signed content."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.verified: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hub", self.subscribe)
        return app

    async def subscribe(self, request: web.Request) -> web.Response:
        form = await request.post()
        callback, topic, secret = (
            str(form[k]) for k in ("hub.callback", "hub.topic", "hub.secret")
        )
        query = urllib.parse.urlencode(
            {
                "hub.mode": "subscribe",
                "hub.topic": topic,
                "hub.challenge": "c-123",
                "hub.lease_seconds": "600",
            }
        )
        async with ClientSession() as session:
            async with session.get(f"{callback}?{query}") as verify:
                self.verified.append(await verify.text())
            signature = hmac.new(secret.encode(), self.content, hashlib.sha256).hexdigest()
            async with session.post(
                callback, data=self.content, headers={"X-Hub-Signature": f"sha256={signature}"}
            ) as push:
                assert push.status == 202
            forged = self.content.replace(b"Waller", b"Forged")
            async with session.post(
                callback, data=forged, headers={"X-Hub-Signature": "sha256=00"}
            ) as push:
                assert push.status == 202  # WebSub: acknowledge, ignore
        return web.Response(status=202)


def test_websub_subscribe_verify_and_receive_push(env: None, serve: Serve) -> None:
    rows = fed_speeches()
    pushed = rss_document("FRB: Speeches", "topic", rows[:1])
    hub = Hub(pushed)
    hub_server = serve(hub.app())
    feed_server = serve(
        _feed_app(rss_document("FRB: Speeches", "topic", rows[1:3], hub=hub_server.url("/hub")))
    )
    port = free_port()
    topic_url = feed_server.url("/feed.xml")
    webhook = WebhookSource(
        make_spec(
            port,
            websub_feeds={"fed-speeches": WebSubFeed(topic_url)},
            websub_secret_env="TW_TEST_WEBSUB_SECRET",
        ),
        ManualClock(T0),
    ).build_part("s", "webhook", None)
    wait_for(lambda: _healthy(port))
    feed_spec = FeedSpec(
        name="fed-speeches",
        url=topic_url,
        poll_interval_s=60,
        user_agent="t",
        rate_per_s=100,
        websub=WebSubSettings(f"http://127.0.0.1:{port}", "TW_TEST_WEBSUB_SECRET"),
        backoff=ExponentialBackoff(0.01, 0.05),
    )
    feed = FeedSource([feed_spec], ManualClock(T0)).build_part("s", "fed-speeches", None)
    try:
        polled = drain(feed, lambda got: len(got) >= 2)
        pushed_items = drain(webhook, lambda got: len(got) >= 1)
        wait_for(lambda: bool(hub.verified))
    finally:
        feed.close()
        webhook.close()
    assert hub.verified == ["c-123"]
    assert [i.id for i in polled] == [rows[2]["link"], rows[1]["link"]]
    (item,) = pushed_items  # the forged push was ignored
    assert (
        isinstance(item, NewsItem) and item.id == rows[0]["link"] and item.source == "fed-speeches"
    )


def _feed_app(body: bytes) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", handle)
    return app
