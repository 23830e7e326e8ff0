"""Federal Reserve: press-release, speech and testimony RSS feeds, and the FOMC calendar.

The feeds are plain RSS partitions. The calendar page is polled (rarely) so that scheduled
FOMC decisions are known ahead: each meeting becomes one item when first seen, and the ids of
meetings already announced live in the snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser

from bytewax.inputs import FixedPartitionedSource

from connectors.sources import metrics
from connectors.sources.config import Defaults, FedConfig
from connectors.sources.httpio import Fetched, FetchFailed, get, open_session
from connectors.sources.jsonmap import dead_letter
from connectors.sources.ratelimit import limiter_for
from connectors.sources.rss import ERROR_BACKOFF, FeedSpec
from connectors.sources.runtime import AsyncPartition, Emitter, SourceItem
from connectors.sources.seen import SeenIds
from records import Clock, NewsItem

log = logging.getLogger(__name__)

CALENDAR_PATH = "/monetarypolicy/fomccalendars.htm"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


def feed_specs(config: FedConfig, defaults: Defaults) -> list[FeedSpec]:
    base = config.base_url.rstrip("/")
    return [
        FeedSpec(
            name=f"{config.name}-{feed}",
            url=f"{base}/feeds/{feed}.xml",
            poll_interval_s=config.poll_interval_s,
            user_agent=defaults.user_agent,
            rate_per_s=defaults.rate_per_s,
            max_bytes=defaults.max_bytes,
            timeout_s=defaults.timeout_s,
            remember=defaults.remember,
            silence_after_s=defaults.silence_after_s,
        )
        for feed in config.feeds
    ]


@dataclass(frozen=True)
class Meeting:
    decision_date: date
    label: str
    """As printed, e.g. ``January 27-28`` or ``Apr/May 30-1*``."""
    projections: bool
    """``*`` on the calendar: a Summary of Economic Projections comes with the statement."""


class _CalendarParser(HTMLParser):
    """Reads the year panels ("2026 FOMC Meetings") and their month/date cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[tuple[str, str]] = []  # ("year"|"month"|"date", text)
        self._stack: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            return
        classes = (dict(attrs).get("class") or "").split()
        kind = None
        if "fomc-meeting__month" in classes:
            kind = "month"
        elif "fomc-meeting__date" in classes:
            kind = "date"
        elif tag in ("h4", "h3", "h2"):
            kind = "heading"
        self._stack.append(kind)
        if kind:
            self.cells.append((kind, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "img", "hr", "meta", "link", "input") and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if any(self._stack) and self.cells:
            kind, text = self.cells[-1]
            self.cells[-1] = (kind, text + data)


def parse_calendar(html: str) -> list[Meeting]:
    """Meetings from the fomccalendars page; raises ``ValueError`` if none can be read."""
    parser = _CalendarParser()
    parser.feed(html)
    year: int | None = None
    month_text: str | None = None
    meetings: list[Meeting] = []
    for kind, raw in parser.cells:
        text = " ".join(raw.split())
        if kind == "heading":
            found = re.match(r"(\d{4}) FOMC Meetings", text)
            year = int(found.group(1)) if found else year
        elif kind == "month":
            month_text = text
        elif kind == "date" and year is not None and month_text is not None:
            days = re.match(r"(\d{1,2})(?:-(\d{1,2}))?(\*?)", text)
            month = _MONTHS.get(month_text.split("/")[-1].strip()[:3].lower())
            if days is None or month is None:
                continue
            last = int(days.group(2) or days.group(1))
            meetings.append(
                Meeting(date(year, month, last), f"{month_text} {text}", bool(days.group(3)))
            )
            month_text = None
    if not meetings:
        raise ValueError("no FOMC meetings found on the calendar page")
    return meetings


def meeting_item(meeting: Meeting, *, source: str, url: str, clock: Clock) -> NewsItem:
    now = clock.now()
    sep = " with Summary of Economic Projections" if meeting.projections else ""
    when = meeting.decision_date.isoformat()
    return NewsItem(
        source=source,
        id=f"fomc-{when}",
        title=f"FOMC meeting {meeting.label}: decision due {when}{sep}",
        body=f"Scheduled FOMC monetary policy decision on {when} (statement 2:00 p.m. ET).",
        url=url,
        published_at=now,  # the page carries no publication time: first sighting
        received_at=now,
        raw_ref=f"{url}#{when}",
    )


@dataclass(frozen=True)
class CalendarState:
    seen: tuple[str, ...] = ()


class FomcCalendarSource(FixedPartitionedSource[SourceItem, CalendarState]):
    """The FOMC meeting calendar as one partition; new meetings become items once."""

    def __init__(
        self, config: FedConfig, defaults: Defaults, clock: Clock, *, once: bool = False
    ) -> None:
        self._config = config
        self._defaults = defaults
        self._clock = clock
        self._once = once

    @property
    def _name(self) -> str:
        return f"{self._config.name}-fomc-calendar"

    def list_parts(self) -> list[str]:
        return [self._name]

    def build_part(
        self, step_id: str, for_part: str, resume_state: CalendarState | None
    ) -> AsyncPartition[CalendarState]:
        return AsyncPartition(self._name, resume_state or CalendarState(), self._run)

    async def _run(self, state: CalendarState, emitter: Emitter[CalendarState]) -> None:
        config, defaults, name = self._config, self._defaults, self._name
        url = config.base_url.rstrip("/") + CALENDAR_PATH
        seen = SeenIds(state.seen, defaults.remember)
        limiter = limiter_for(url, defaults.rate_per_s)
        rng = random.Random()
        failures = 0
        async with open_session(
            defaults.user_agent,
            total_timeout_s=defaults.timeout_s,
            read_timeout_s=defaults.timeout_s,
        ) as session:
            while True:
                await limiter.acquire()
                result = await get(
                    session, url, max_bytes=defaults.max_bytes, now=self._clock.now()
                )
                delay = config.calendar_poll_interval_s
                if isinstance(result, Fetched):
                    failures = 0
                    await self._publish(result.body, url, seen, emitter)
                elif isinstance(result, FetchFailed):
                    metrics.ERRORS.labels(name, result.kind).inc()
                    log.warning("FOMC calendar: %s", result.message)
                    delay = result.retry_after_s or ERROR_BACKOFF.delay(failures, rng)
                    failures += 1
                if self._once:
                    return
                await asyncio.sleep(delay)

    async def _publish(
        self, body: bytes, url: str, seen: SeenIds, emitter: Emitter[CalendarState]
    ) -> None:
        try:
            meetings = parse_calendar(body.decode("utf-8", errors="replace"))
        except ValueError as exc:
            metrics.ERRORS.labels(self._name, "bad_page").inc()
            letter = dead_letter(self._name, str(exc), body, self._clock.now(), url)
            await emitter.emit([letter], CalendarState(seen.snapshot()))
            return
        items: list[SourceItem] = []
        for meeting in sorted(meetings, key=lambda m: m.decision_date):
            item = meeting_item(meeting, source=self._name, url=url, clock=self._clock)
            if seen.add(item.id):
                items.append(item)
        await emitter.emit(items, CalendarState(seen.snapshot()))
