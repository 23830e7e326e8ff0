"""Safe RSS/Atom parsing: real Fed feed shapes, XML bombs, truncation, wrong encodings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.sources.feeds import FeedError, parse_feed
from records import DeadLetter, NewsItem
from tests.connectors.sources._sourcekit import T0, fed_speeches, rss_document

URL = "https://www.federalreserve.gov/feeds/speeches.xml"


def parse(data: bytes, **kwargs: object) -> list[NewsItem | DeadLetter]:
    return parse_feed(data, source="fed-speeches", feed_url=URL, received_at=T0, **kwargs).items  # type: ignore[arg-type]


def test_fed_speeches_become_items_oldest_first() -> None:
    rows = fed_speeches()
    items = parse(rss_document("FRB: Speeches", URL, rows))
    assert len(items) == len(rows)
    assert all(isinstance(i, NewsItem) for i in items)
    news = [i for i in items if isinstance(i, NewsItem)]
    assert [i.published_at for i in news] == sorted(i.published_at for i in news)
    newest = news[-1]
    assert newest.title == "Waller, Modernizing Federal Reserve Operations in the 21st Century"
    assert (
        newest.id
        == newest.url
        == "https://www.federalreserve.gov/newsevents/speech/waller20260421a.htm"
    )
    assert newest.published_at == datetime(2026, 4, 21, 18, 30, tzinfo=UTC)
    assert newest.received_at == T0
    assert newest.body.startswith("Speech At The Brookings Institution")


def test_websub_hub_and_self_link_are_found() -> None:
    parsed = parse_feed(
        rss_document("t", URL, fed_speeches()[:1], hub="https://hub.example/"),
        source="s",
        feed_url=URL,
        received_at=T0,
    )
    assert (parsed.hub, parsed.topic) == ("https://hub.example/", URL)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title></channel></rss>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (BOMB, "unsafe XML"),
        (EXTERNAL, "unsafe XML"),
        (rss_document("t", URL, fed_speeches())[:700], "malformed XML"),
        (b"<html><body><p>502 Bad Gateway<br></body></html>", "malformed XML"),
        (b"<html><body><p>Maintenance</p></body></html>", "not an RSS/Atom feed"),
        (b'{"status": "ok"}', "malformed XML"),
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>'
            "Banque de France: déclaration</title></channel></rss>".encode("latin-1"),
            "malformed XML",
        ),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "truncated",
        "html",
        "xhtml",
        "json",
        "latin1-as-utf8",
    ],
)
def test_unusable_documents_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse(payload)


def test_an_entry_without_title_is_a_dead_letter_and_the_rest_survive() -> None:
    rows = fed_speeches()[:3]
    rows[1] = {**rows[1], "title": ""}
    items = parse(rss_document("t", URL, rows))
    assert sum(isinstance(i, NewsItem) for i in items) == 2
    (letter,) = [i for i in items if isinstance(i, DeadLetter)]
    assert letter.reason == "feed entry: entry has no title"
    assert rows[1]["link"].encode() in letter.payload
    assert letter.stage == "source.fed-speeches"


def test_category_filter_keeps_matching_entries_only() -> None:
    rows = fed_speeches()[:4]
    rows[0] = {**rows[0], "category": "Testimony"}
    items = parse(rss_document("t", URL, rows), categories=frozenset({"Testimony"}))
    assert [i.id for i in items if isinstance(i, NewsItem)] == [rows[0]["link"]]
