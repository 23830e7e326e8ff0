"""Parse RSS/Atom documents safely into NewsItems (pure: no I/O, no clock).

The XML is first run through defusedxml, which refuses entity declarations (billion laughs,
quadratic blow-up) and external entities, before feedparser ever sees the bytes. Anything that
is not a well-formed feed is a ``FeedError``; one entry that cannot become an item is a dead
letter, and the rest of the feed still goes through.
"""

from __future__ import annotations

import calendar
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml
import defusedxml.ElementTree
import feedparser
import msgspec

from connectors.sources.jsonmap import dead_letter, digest
from connectors.sources.text import html_to_text
from records import DeadLetter, NewsItem


class FeedError(ValueError):
    """The document as a whole is unusable (unsafe, malformed, or not a feed)."""


@dataclass(frozen=True)
class ParsedFeed:
    items: list[NewsItem | DeadLetter]
    """Entries in publication order (oldest first), unparseable entries as dead letters."""
    hub: str | None
    """WebSub hub the feed advertises (``<link rel="hub">``), if any."""
    topic: str | None
    """The feed's own URL (``<link rel="self">``), the WebSub topic."""


def check_xml_safety(data: bytes) -> None:
    """Refuse XML bombs, external entities and malformed XML before any lenient parser runs."""
    try:
        defusedxml.ElementTree.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise FeedError(f"unsafe XML refused: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise FeedError(f"malformed XML: {exc}") from exc


def _instant(struct: time.struct_time | None) -> datetime | None:
    if struct is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(struct), UTC)


def entry_key(entry: Any) -> str | None:
    """The dedup key of an entry: its guid/id, else its link."""
    for field in ("id", "link"):
        value = entry.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _entry_body(entry: Any) -> str:
    content = entry.get("content")
    if isinstance(content, list) and content:
        value = content[0].get("value")
        if isinstance(value, str):
            return html_to_text(value)
    summary = entry.get("summary")
    return html_to_text(summary) if isinstance(summary, str) else ""


def entry_categories(entry: Any) -> set[str]:
    tags = entry.get("tags") or []
    return {t.get("term") for t in tags if isinstance(t.get("term"), str)}


def _to_item(entry: Any, *, source: str, received_at: datetime, feed_url: str) -> NewsItem:
    title = entry.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("entry has no title")
    key = entry_key(entry)
    if key is None:
        raise ValueError("entry has neither guid/id nor link")
    published = _instant(entry.get("published_parsed")) or _instant(entry.get("updated_parsed"))
    link = entry.get("link")
    author = entry.get("author")
    return NewsItem(
        source=source,
        id=key,
        title=html_to_text(title),
        body=_entry_body(entry),
        url=link if isinstance(link, str) and link else None,
        author=author if isinstance(author, str) and author else None,
        published_at=published or received_at,
        received_at=received_at,
        raw_ref=f"{feed_url}#{key}",
    )


def parse_feed(
    data: bytes,
    *,
    source: str,
    feed_url: str,
    received_at: datetime,
    categories: frozenset[str] = frozenset(),
) -> ParsedFeed:
    """Parse one feed document; raises ``FeedError`` when the whole document is unusable."""
    check_xml_safety(data)
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=True, resolve_relative_uris=True)
    if not parsed.get("version"):
        bozo = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS/Atom feed{f': {bozo}' if bozo else ''}")
    hub = topic = None
    for link in parsed.feed.get("links", []):
        if link.get("rel") == "hub" and hub is None:
            hub = link.get("href")
        elif link.get("rel") == "self" and topic is None:
            topic = link.get("href")
    items: list[NewsItem | DeadLetter] = []
    for entry in parsed.entries:
        if categories and not (entry_categories(entry) & categories):
            continue
        try:
            items.append(_to_item(entry, source=source, received_at=received_at, feed_url=feed_url))
        except ValueError as exc:
            raw = msgspec.json.encode({k: str(v) for k, v in entry.items()})
            items.append(
                dead_letter(
                    source, f"feed entry: {exc}", raw, received_at, f"{feed_url}#{digest(raw)}"
                )
            )
    items.sort(key=lambda item: item.published_at if isinstance(item, NewsItem) else received_at)
    return ParsedFeed(items=items, hub=hub, topic=topic)
