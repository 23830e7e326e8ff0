"""Test kit for source connectors: local aiohttp servers, feeds built from real snapshots."""

from __future__ import annotations

import asyncio
import csv
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web
from bytewax.inputs import StatefulSourcePartition

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SNAPSHOTS = FIXTURES / "feed_snapshots"
ETHERSCAN = FIXTURES / "etherscan_api_fixtures"
T0 = datetime(2026, 4, 28, 12, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalServer:
    """An aiohttp application served on 127.0.0.1 from its own thread and event loop."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=0.1)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._runner = runner
        self._ready.set()
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def start(self) -> LocalServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def feed_app(body: bytes) -> web.Application:
    """An application serving ``body`` as an RSS document at ``/feed.xml``."""

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.xml", handle)
    return app


BAD_GATEWAY = b"<html><body>502 Bad Gateway<br></body></html>"


def good_and_broken_feeds(good: LocalServer, broken: LocalServer) -> str:
    """A sources TOML with a working RSS feed ``fed-speeches`` and one, ``broken``, serving HTML."""
    return f"""
[defaults]
user_agent = "Tradewire-test/1 (test@example.com)"

[[rss]]
name = "fed-speeches"
url = "{good.url("/feed.xml")}"

[[rss]]
name = "broken"
url = "{broken.url("/feed.xml")}"
"""


def drain(
    part: StatefulSourcePartition[Any, Any],
    until: Callable[[list[Any]], bool],
    timeout: float = 20.0,
) -> list[Any]:
    """Call ``next_batch`` like Bytewax would until ``until(items)`` holds (timeout = failure)."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout
    while not until(items):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached; got {items!r}")
        try:
            items.extend(part.next_batch())
        except StopIteration:
            break
        time.sleep(0.005)
    return items


def run_out(part: StatefulSourcePartition[Any, Any], timeout: float = 20.0) -> list[Any]:
    """Read a finite (``--once``) partition until it raises StopIteration."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            items.extend(part.next_batch())
        except StopIteration:
            return items
        time.sleep(0.005)
    raise AssertionError(f"partition did not finish; got {items!r}")


def read_csv(name: str) -> list[dict[str, str]]:
    with (SNAPSHOTS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _rfc822(value: str) -> str:
    if value[:4].isdigit():
        return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")), usegmt=True)
    return format_datetime(parsedate_to_datetime(value).astimezone(UTC), usegmt=True)


def rss_document(
    title: str, self_url: str, items: Iterable[dict[str, str]], hub: str | None = None
) -> bytes:
    """An RSS 2.0 channel in the shape federalreserve.gov serves (title/link/guid/pubDate)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>',
        f"<title>{escape(title)}</title><link>https://www.federalreserve.gov/</link>",
        f"<description>{escape(title)}</description>",
        f'<atom:link href="{escape(self_url)}" rel="self" type="application/rss+xml" />',
    ]
    if hub:
        parts.append(f'<atom:link href="{escape(hub)}" rel="hub" />')
    for item in items:
        parts.append(
            "<item>"
            f"<title>{escape(item['title'])}</title>"
            f"<link>{escape(item['link'])}</link>"
            f'<guid isPermaLink="true">{escape(item["link"])}</guid>'
            f"<description><![CDATA[{item.get('description', '')}]]></description>"
            f"<category>{escape(item.get('category', ''))}</category>"
            f"<pubDate>{_rfc822(item['pub_date'])}</pubDate>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def fed_speeches() -> list[dict[str, str]]:
    return [
        {
            "title": r["title"],
            "link": r["link"],
            "description": r["description"],
            "category": r["category"],
            "pub_date": r["pub_date"],
        }
        for r in read_csv("fed_speeches.csv")
    ]


def fed_press() -> list[dict[str, str]]:
    return [
        {
            "title": r["title"],
            "link": r["url"],
            "category": r["category"],
            "pub_date": r["pub_date"],
        }
        for r in read_csv("fed_press.csv")
    ]


def fed_testimony() -> list[dict[str, str]]:
    return [
        {
            "title": r["title"],
            "link": r["link"],
            "description": r["summary"],
            "category": r["kind"],
            "pub_date": r["filed_utc"],
        }
        for r in read_csv("fed_testimony.csv")
    ]


def edgar_atom(rows: Iterable[dict[str, str]], self_url: str) -> bytes:
    """An EDGAR "latest filings" Atom document built from the SEC crypto 8-K snapshot."""
    parts = [
        '<?xml version="1.0" encoding="ISO-8859-1" ?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>Latest Filings - Mon, 27 Apr 2026 18:52:50 EDT</title>",
        f'<link rel="self" href="{escape(self_url)}"/>',
        "<id>https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent</id>",
        "<author><name>Webmaster</name><email>webmaster@sec.gov</email></author>",
        "<updated>2026-04-27T18:52:50-04:00</updated>",
    ]
    for row in rows:
        accession = row["accession"].split(":")[0]
        cik = row["name"].split("CIK ")[-1].rstrip(")")
        company = row["name"].split("  (")[0]
        link = (
            f"https://www.sec.gov/Archives/edgar/data/{int(cik)}/"
            f"{accession.replace('-', '')}/{accession}-index.htm"
        )
        parts.append(
            "<entry>"
            f"<title>{escape(row['form'])} - {escape(company)} ({cik}) (Filer)</title>"
            f'<link rel="alternate" type="text/html" href="{escape(link)}"/>'
            f'<summary type="html"> &lt;b&gt;Filed:&lt;/b&gt; {row["filed"]} '
            f"&lt;b&gt;AccNo:&lt;/b&gt; {accession}</summary>"
            f"<updated>{row['filed']}T16:05:12-04:00</updated>"
            f'<category scheme="https://www.sec.gov/" label="form type" term="{row["form"]}"/>'
            f"<id>urn:tag:sec.gov,2008:accession-number={accession}</id>"
            "</entry>"
        )
    parts.append("</feed>")
    return "".join(parts).encode("iso-8859-1", errors="replace")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)
