"""EDGAR and Federal Reserve sources, built from a TOML config, against local servers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

import pytest
from aiohttp import web
from bytewax.dataflow import Dataflow
from bytewax.operators import input as op_input
from bytewax.operators import merge, output
from bytewax.testing import TestingSink, run_main

from connectors.sources.config import ConfigError, parse_config
from connectors.sources.fed import parse_calendar
from connectors.sources.registry import build_sources
from records import DeadLetter, ManualClock, NewsItem
from tests.connectors.sources._sourcekit import (
    T0,
    LocalServer,
    edgar_atom,
    fed_press,
    fed_speeches,
    fed_testimony,
    read_csv,
    rss_document,
)

Serve = Callable[[web.Application], LocalServer]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def calendar_page() -> str:
    """The fomccalendars.htm structure (year panels, month/date cells) from the snapshot CSV."""
    by_year: dict[int, list[str]] = defaultdict(list)
    for row in read_csv("fomc_calendar.csv"):
        day = date.fromisoformat(row["meeting_date"])
        days = f"{day.day - 1}-{day.day}" if day.day > 1 else f"{day.day}"
        by_year[day.year].append(
            '<div class="row fomc-meeting">'
            '<div class="fomc-meeting__month col-xs-5 col-sm-3 col-md-2">'
            f"<strong>{MONTHS[day.month - 1]}</strong></div>"
            '<div class="fomc-meeting__date col-xs-4 col-sm-9 col-md-10 col-lg-1">'
            f"{days}{'*' if row['has_press_conf'] == '1' else ''}</div>"
            "</div>"
        )
    panels = "".join(
        '<div class="panel panel-default"><div class="panel-heading">'
        f'<h4><a id="{y}">{y} FOMC Meetings</a></h4></div>{"".join(rows)}</div>'
        for y, rows in sorted(by_year.items())
    )
    head = "<!DOCTYPE html><html><head><title>FOMC</title></head>"
    return f"{head}<body><h3>Meeting calendars</h3>{panels}</body></html>"


def run_once(config_text: str) -> list[NewsItem | DeadLetter]:
    sources = build_sources(parse_config(config_text), ManualClock(T0), once=True)
    flow = Dataflow("family")
    streams = [op_input(f"in_{n}", flow, s) for n, s in sources.items()]
    out: list[NewsItem | DeadLetter] = []
    output("out", merge("merge", *streams), TestingSink(out))
    run_main(flow)
    return out


def test_fed_feeds_and_fomc_calendar(serve: Serve) -> None:
    docs = {
        "/feeds/speeches.xml": rss_document("FRB: Speeches", "s", fed_speeches()),
        "/feeds/press_all.xml": rss_document("FRB: Press", "p", fed_press()),
        "/feeds/testimony.xml": rss_document("FRB: Testimony", "t", fed_testimony()),
        "/monetarypolicy/fomccalendars.htm": calendar_page().encode(),
    }

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=docs[request.path])

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = serve(app)
    out = run_once(f'[fed]\nbase_url = "{server.url("")}"\n')
    by_source: dict[str, list[NewsItem]] = defaultdict(list)
    for item in out:
        assert isinstance(item, NewsItem), item
        by_source[item.source].append(item)
    assert len(by_source["fed-speeches"]) == len(fed_speeches())
    assert len(by_source["fed-press_all"]) == len(fed_press())
    assert len(by_source["fed-testimony"]) == len(fed_testimony())
    meetings = by_source["fed-fomc-calendar"]
    assert [m.id for m in meetings] == [
        f"fomc-{r['meeting_date']}" for r in read_csv("fomc_calendar.csv")
    ]
    assert (
        meetings[0].title == "FOMC meeting January 26-27*: decision due 2021-01-27"
        " with Summary of Economic Projections"
    )


def test_calendar_page_without_meetings_is_refused() -> None:
    with pytest.raises(ValueError, match="no FOMC meetings"):
        parse_calendar("<html><body>Service unavailable</body></html>")


def test_edgar_sends_declared_user_agent_and_filters_forms(serve: Serve) -> None:
    rows = read_csv("sec_crypto.csv")
    agents: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        agents.append(request.headers["User-Agent"])
        assert request.query["output"] == "atom"
        return web.Response(
            body=edgar_atom(rows, str(request.url)), content_type="application/atom+xml"
        )

    app = web.Application()
    app.router.add_get("/cgi-bin/browse-edgar", handle)
    server = serve(app)
    out = run_once(
        f"""
[edgar]
base_url = "{server.url("")}"
user_agent = "Tradewire Research ops@tradewire.example"
forms = ["8-K"]
companies = ["0001743745"]
"""
    )
    assert set(agents) == {"Tradewire Research ops@tradewire.example"}
    assert len(agents) == 2  # latest 8-K filings + one company feed
    expected = {r["accession"].split(":")[0] for r in rows if r["form"] == "8-K"}
    items = [i for i in out if isinstance(i, NewsItem)]
    assert {i.source for i in items} == {"sec-edgar"}
    assert {i.id.rsplit("=", 1)[1] for i in items} == expected
    assert all(i.title.startswith("8-K - ") for i in items)


def test_edgar_config_requires_a_contact_and_the_sec_rate() -> None:
    with pytest.raises(ConfigError, match="contact e-mail"):
        parse_config('[edgar]\nuser_agent = "python-requests"\n')
    with pytest.raises(ConfigError, match="10 requests/s"):
        parse_config('[edgar]\nuser_agent = "a b@c.d"\nrate_per_s = 20\n')
