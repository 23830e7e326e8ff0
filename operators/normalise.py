"""Turn raw bytes from any source into a validated ``NewsItem``, or a dead letter saying why not.

This is the flow's only gate for untrusted input: everything after it may assume well-formed,
bounded, UTC-stamped items. Nothing is dropped: a refusal keeps the original bytes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import msgspec

from records import DeadLetter, NewsItem, UtcDatetime

MAX_PAYLOAD_BYTES = 256 * 1024
"""Larger payloads are refused: no headline needs this, and NLP cost grows with length."""
MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 10_000
"""Bodies are cut to this for the NLP stage; the full text stays reachable via ``raw_ref``."""

_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]{0,500}>")


@dataclass(frozen=True, slots=True)
class RawMessage:
    """Bytes as a source delivered them, with where they came from and when (if known)."""

    value: bytes
    key: bytes | None = None
    ref: str | None = None
    timestamp: datetime | None = None


class _NewsPayload(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    source: str
    id: str
    title: str
    published_at: UtcDatetime
    body: str = ""
    url: str | None = None
    author: str | None = None
    received_at: UtcDatetime | None = None
    raw_ref: str | None = None


_decoder = msgspec.json.Decoder(_NewsPayload)


def clean_text(text: str) -> str:
    """Unescape entities, strip markup, NFC-normalise and collapse whitespace."""
    text = _TAGS.sub(" ", html.unescape(text))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def normalise(raw: RawMessage, now: datetime) -> NewsItem | DeadLetter:
    """Validate and clean one raw message; ``now`` stamps refusals and fills a missing
    ``received_at`` only when the transport gave no timestamp either."""

    def refuse(reason: str) -> DeadLetter:
        key = raw.key.decode("utf-8", "replace") if raw.key is not None else raw.ref
        return DeadLetter(
            stage="normalise", reason=reason, key=key, payload=raw.value, failed_at=now
        )

    if len(raw.value) > MAX_PAYLOAD_BYTES:
        return refuse(f"payload too large: {len(raw.value)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        raw.value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return refuse(f"not UTF-8: {exc.reason} at byte {exc.start}")
    try:
        payload = _decoder.decode(raw.value)
    except msgspec.ValidationError as exc:
        return refuse(f"invalid news item: {exc}")
    except msgspec.DecodeError as exc:
        return refuse(f"malformed JSON: {exc}")

    title = clean_text(payload.title)
    source = payload.source.strip()
    item_id = payload.id.strip()
    if not title:
        return refuse("empty title")
    if not source or not item_id:
        return refuse("empty source or id")
    if len(title) > MAX_TITLE_CHARS:
        return refuse(f"title too long: {len(title)} chars > {MAX_TITLE_CHARS}")
    received = payload.received_at or raw.timestamp or now
    return NewsItem(
        source=source,
        id=item_id,
        title=title,
        body=clean_text(payload.body)[:MAX_BODY_CHARS],
        url=payload.url,
        author=payload.author,
        published_at=payload.published_at,
        received_at=received,
        raw_ref=payload.raw_ref or raw.ref,
    )
