"""Turn markup and loosely typed timestamps from sources into plain text and UTC instants."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from html.parser import HTMLParser


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed (feed summaries carry markup)."""
    if "<" not in markup:
        return " ".join(html.unescape(markup).split())
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return " ".join("".join(collector.parts).split())


def parse_instant(value: object) -> datetime | None:
    """ISO 8601 text or Unix seconds/milliseconds to an aware UTC datetime; None if unusable.

    Naive ISO strings are refused rather than guessed: a wrong zone would corrupt the
    ingestion-delay measurement silently.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        text = value.strip()
        if text.isdigit():
            return parse_instant(int(text))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    return None
