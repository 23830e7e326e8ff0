"""X filtered stream against a local API: rules sync, keep-alives, 429/5xx/drops, bad lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from connectors.sources.backoff import ExponentialBackoff, LinearBackoff
from connectors.sources.config import Defaults, XRule, XStreamConfig
from connectors.sources.x_stream import XBackoff, XStreamSource, desired_rules
from records import DeadLetter, ManualClock, NewsItem
from tests.connectors.sources._sourcekit import T0, LocalServer, drain, read_csv

Serve = Callable[[web.Application], LocalServer]
TOKEN = "x-test-bearer-token"
FAST = XBackoff(
    LinearBackoff(0.01, 0.05), ExponentialBackoff(0.01, 0.05), ExponentialBackoff(0.01, 0.05)
)


def posts() -> list[dict[str, Any]]:
    """Real headlines (SEC press snapshot) as posts from a watched account."""
    return [
        {
            "data": {
                "id": str(1900000000000000000 + n),
                "text": r["title"],
                "author_id": "44196397",
                "created_at": f"{r['date']}T14:00:00.000Z",
            },
            "includes": {"users": [{"id": "44196397", "username": "SECGov", "name": "U.S. SEC"}]},
            "matching_rules": [{"id": "r2", "tag": "regulators"}],
        }
        for n, r in enumerate(read_csv("sec_press.csv")[:6])
    ]


@dataclass
class XApi:
    lines: list[bytes]
    rules: list[dict[str, str]] = field(
        default_factory=lambda: [{"id": "r1", "value": "from:oldaccount", "tag": "stale"}]
    )
    rule_posts: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    connects: int = 0
    drop_after: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2/tweets/search/stream/rules", self.get_rules)
        app.router.add_post("/2/tweets/search/stream/rules", self.post_rules)
        app.router.add_get("/2/tweets/search/stream", self.stream)
        return app

    async def get_rules(self, request: web.Request) -> web.Response:
        self.auth.append(request.headers["Authorization"])
        return web.json_response({"data": self.rules, "meta": {"result_count": len(self.rules)}})

    async def post_rules(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.rule_posts.append(body)
        return web.json_response({"meta": {}}, status=200)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        self.connects += 1
        if self.script:
            return web.Response(status=self.script.pop(0))
        response = web.StreamResponse()
        await response.prepare(request)
        start = 0 if self.connects <= 3 else self.drop_after
        for n, line in enumerate(self.lines[start:], start=1):
            await response.write(b"\r\n")  # keep-alive
            await response.write(line + b"\r\n")
            if self.drop_after and n == self.drop_after and start == 0:
                return response
        await asyncio.sleep(30)
        return response


def config(url: str) -> XStreamConfig:
    return XStreamConfig(
        base_url=url,
        bearer_token_env="TW_TEST_X_TOKEN",
        accounts={"regulators": ["SECGov", "@CFTC"]},
        rules=[XRule(value="bitcoin ETF -is:retweet", tag="etf")],
    )


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_TEST_X_TOKEN", TOKEN)


def test_account_rules_are_split_to_fit() -> None:
    handles = [f"account{n:03d}" for n in range(60)]
    rules = desired_rules(XStreamConfig(accounts={"political": handles}))
    assert all(len(value) <= 512 and tag == "political" for value, tag in rules)
    assert (
        sorted(h for value, _ in rules for h in value.replace("from:", "").split(" OR ")) == handles
    )


def test_rules_synced_then_posts_streamed_through_errors(serve: Serve) -> None:
    lines = [json.dumps(p).encode() for p in posts()]
    lines.insert(2, b"<html>Service Unavailable</html>")
    api = XApi(lines, script=[503, 429], drop_after=3)
    server = serve(api.app())
    part = XStreamSource(
        config(server.url("")), Defaults(), ManualClock(T0), policy=FAST
    ).build_part("s", "x", None)
    try:
        got = drain(part, lambda got: len(got) >= len(lines))
    finally:
        part.close()
    assert api.auth[0] == f"Bearer {TOKEN}"
    assert api.rule_posts == [
        {"delete": {"ids": ["r1"]}},
        {
            "add": [
                {"value": "bitcoin ETF -is:retweet", "tag": "etf"},
                {"value": "from:SECGov OR from:CFTC", "tag": "regulators"},
            ]
        },
    ]
    assert api.connects >= 4  # 503, 429, dropped after 3 lines, then resumed
    letters = [i for i in got if isinstance(i, DeadLetter)]
    items = [i for i in got if isinstance(i, NewsItem)]
    assert len(letters) == 1 and letters[0].payload == b"<html>Service Unavailable</html>"
    assert [i.id for i in items] == [p["data"]["id"] for p in posts()]  # none lost, none twice
    first = items[0]
    assert first.author == "@SECGov" and first.url == f"https://x.com/SECGov/status/{first.id}"
    assert first.raw_ref == f"x:{first.id}:rules=regulators"
    assert first.published_at.isoformat() == "2026-04-20T14:00:00+00:00"
    assert TOKEN not in repr(part.snapshot())
