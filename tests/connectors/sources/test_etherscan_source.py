"""Etherscan source against a local API serving the recorded txlist shape."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from connectors.sources.backoff import ExponentialBackoff
from connectors.sources.config import Defaults, EtherscanConfig, WatchedAddress
from connectors.sources.etherscan import EtherscanSource, EthState
from connectors.sources.secrets import MissingSecretError
from records import DeadLetter, ManualClock, NewsItem
from tests.connectors.sources._sourcekit import ETHERSCAN, T0, LocalServer, drain, run_out

Serve = Callable[[web.Application], LocalServer]
KEY = "ETHERSCAN-TEST-KEY-9f8e7d"
WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
WEI = 10**18


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ETHERSCAN / "get_account_transactions.json").read_text())
    return data


def tx(n: int, block: int, eth: int, **extra: str) -> dict[str, Any]:
    """The recorded transaction with its hash, block and value varied."""
    base = dict(recorded()["result"][0])
    base.update(hash=f"0x{n:064x}", blockNumber=str(block), value=str(eth * WEI), **extra)
    return base


@dataclass
class Api:
    txs: list[dict[str, Any]]
    script: list[web.Response] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v2/api", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        if self.script:
            return self.script.pop(0)
        start = int(request.query["startblock"])
        result = [t for t in self.txs if int(t["blockNumber"]) >= start]
        if not result:
            return web.json_response(
                {"status": "0", "message": "No transactions found", "result": []}
            )
        return web.json_response({**recorded(), "result": result})


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_TEST_ETHERSCAN_KEY", KEY)


def source(url: str, *, once: bool = False) -> EtherscanSource:
    config = EtherscanConfig(
        base_url=url,
        api_key_env="TW_TEST_ETHERSCAN_KEY",
        addresses=[WatchedAddress(address=WALLET, label="Binance 14")],
        min_eth=Decimal(1000),
        poll_interval_s=0.02,
        rate_per_s=5,
    )
    return EtherscanSource(
        config, Defaults(), ManualClock(T0), once=once, backoff=ExponentialBackoff(0.01, 0.05)
    )


PART = "etherscan:Binance 14"


def test_large_transfers_only_and_key_never_logged(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    api = Api([tx(1, 100, 0), tx(2, 101, 2500), tx(3, 102, 5), tx(4, 103, 9000, isError="1")])
    api.script = [
        web.json_response(
            {
                "status": "0",
                "message": "NOTOK",
                "result": "Max calls per sec rate limit reached (5/sec)",
            }
        ),
        web.Response(text="<html>Cloudflare</html>", content_type="text/html"),
        web.Response(status=502),
    ]
    server = serve(api.app())
    caplog.set_level(logging.DEBUG)
    part = source(server.url("/v2/api"), once=False).build_part("s", PART, None)
    try:
        items = drain(part, lambda got: len(got) >= 1)
    finally:
        part.close()
    (item,) = items
    assert isinstance(item, NewsItem)
    assert item.title == "Large transfer: 2,500 ETH from Binance 14 to 0xe7f172…0512"
    assert item.id == f"0x{2:064x}"
    assert item.published_at.isoformat() == "2022-08-30T08:08:45+00:00"
    assert api.queries[0]["apikey"] == KEY and api.queries[0]["action"] == "txlist"
    assert KEY not in caplog.text
    assert "rate limit" in caplog.text
    assert part.snapshot().last_block == 103


def test_resume_starts_at_the_last_block_without_duplicates(serve: Serve) -> None:
    api = Api([tx(1, 200, 1500), tx(2, 201, 1200)])
    server = serve(api.app())
    src = source(server.url("/v2/api"), once=True)
    first = run_out(src.build_part("s", PART, None))
    assert [i.id for i in first] == [f"0x{1:064x}", f"0x{2:064x}"]
    part = src.build_part("s", PART, None)
    state = EthState(last_block=201, seen=(f"0x{1:064x}", f"0x{2:064x}"))
    api.txs += [tx(3, 201, 3000), tx(4, 205, 4000)]  # one more in the same block, one later
    part.close()
    resumed = run_out(src.build_part("s", PART, state))
    assert api.queries[-1]["startblock"] == "201"
    assert [i.id for i in resumed] == [f"0x{3:064x}", f"0x{4:064x}"]


def test_malformed_transfer_is_a_dead_letter(serve: Serve) -> None:
    broken = tx(5, 300, 2000)
    del broken["timeStamp"]
    api = Api([broken, tx(6, 301, 2000)])
    server = serve(api.app())
    out = run_out(source(server.url("/v2/api"), once=True).build_part("s", PART, None))
    assert [type(i) for i in out] == [DeadLetter, NewsItem]


def test_missing_api_key_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TW_TEST_ETHERSCAN_KEY")
    with pytest.raises(MissingSecretError, match="TW_TEST_ETHERSCAN_KEY"):
        source("http://127.0.0.1:9/v2/api").build_part("s", PART, None)
