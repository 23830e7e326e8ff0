"""Map JSON messages from push/stream sources onto ``NewsItem`` using configured field paths."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from connectors.sources.config import JsonFields
from connectors.sources.text import html_to_text, parse_instant
from records import DeadLetter, NewsItem

_decoder = msgspec.json.Decoder()


class MappingError(ValueError):
    """A message is valid JSON but lacks what a NewsItem needs."""


def lookup(obj: Any, path: str) -> Any:
    """Follow a dotted path through nested objects; None when any step is missing."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def decode_json(payload: bytes) -> Any:
    """Decode a JSON payload; raises ``ValueError`` with a readable reason (HTML, truncation...)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"payload is not UTF-8: {exc}") from exc
    if text.lstrip().startswith("<"):
        raise ValueError("expected JSON, got markup (HTML/XML error page?)")
    try:
        return _decoder.decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(f"malformed JSON: {exc}") from exc


def iter_items(message: Any, fields: JsonFields) -> Iterator[Any]:
    """The item objects inside one message (``items_path`` may point at one object or a list)."""
    found = message if fields.items_path is None else lookup(message, fields.items_path)
    if isinstance(found, list):
        yield from found
    elif found is not None:
        yield found


def to_news_item(
    obj: Any,
    fields: JsonFields,
    *,
    source: str,
    received_at: datetime,
    raw_ref: str | None,
    fallback_id: str | None = None,
) -> NewsItem:
    """One JSON object to a NewsItem; raises ``MappingError`` naming the missing field."""
    if not isinstance(obj, dict):
        raise MappingError(f"item is a {type(obj).__name__}, expected an object")
    title = lookup(obj, fields.title)
    if not isinstance(title, str) or not title.strip():
        raise MappingError(f"missing text field {fields.title!r}")
    raw_id = lookup(obj, fields.id)
    if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) and str(raw_id):
        item_id = str(raw_id)
    else:
        item_id = fallback_id or digest(msgspec.json.encode(obj))
    raw_published = lookup(obj, fields.published_at)
    published = parse_instant(raw_published)
    if raw_published is not None and published is None:
        raise MappingError(f"unusable timestamp in {fields.published_at!r}: {raw_published!r}")
    body = lookup(obj, fields.body)
    url = lookup(obj, fields.url)
    author = lookup(obj, fields.author)
    return NewsItem(
        source=source,
        id=item_id,
        title=html_to_text(title),
        body=html_to_text(body) if isinstance(body, str) else "",
        url=url if isinstance(url, str) and url else None,
        author=author if isinstance(author, str) and author else None,
        published_at=published or received_at,
        received_at=received_at,
        raw_ref=raw_ref,
    )


def dead_letter(
    source: str, reason: str, payload: bytes, at: datetime, key: str | None = None
) -> DeadLetter:
    return DeadLetter(
        stage=f"source.{source}", reason=reason, key=key, payload=payload, failed_at=at
    )


def digest(payload: bytes) -> str:
    """Stable content id for items whose source gives none (same bytes, same id)."""
    return hashlib.sha256(payload).hexdigest()[:32]


def map_message(
    payload: bytes,
    fields: JsonFields,
    *,
    source: str,
    received_at: datetime,
    raw_ref: str | None,
    fallback_id: str | None = None,
) -> list[NewsItem | DeadLetter]:
    """Every item in one raw message, unparseable ones as dead letters with the reason."""
    try:
        message = decode_json(payload)
    except ValueError as exc:
        return [dead_letter(source, str(exc), payload, received_at, raw_ref)]
    out: list[NewsItem | DeadLetter] = []
    for obj in iter_items(message, fields):
        try:
            out.append(
                to_news_item(
                    obj,
                    fields,
                    source=source,
                    received_at=received_at,
                    raw_ref=raw_ref,
                    fallback_id=fallback_id,
                )
            )
        except MappingError as exc:
            out.append(
                dead_letter(source, str(exc), msgspec.json.encode(obj), received_at, raw_ref)
            )
    if not out:
        out.append(dead_letter(source, "message holds no item", payload, received_at, raw_ref))
    return out
