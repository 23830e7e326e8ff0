"""Test doubles shared by flow and operator tests (real record types, scripted behaviour)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from records import (
    Entity,
    EventType,
    Market,
    NewsItem,
    OrderIntent,
    OrderType,
    Sentiment,
    Side,
    Venue,
    to_json,
)


@dataclass(frozen=True)
class ScriptedPrediction:
    event_type: EventType
    event_confidence: float
    sentiment: Sentiment
    assets: tuple[str, ...]
    entities: tuple[Entity, ...] = ()
    model_version: str = "scripted-1"
    sentiment_confidence: float = 0.9


class ScriptedPredictor:
    """Predicts from a word in the text, and raises on the word ``boom`` (a poisoned item)."""

    RULES = (
        ("hack", EventType.HACK, Sentiment.NEGATIVE),
        ("sec", EventType.REGULATION, Sentiment.NEGATIVE),
        ("lists", EventType.LISTING, Sentiment.POSITIVE),
    )

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def predict_batch(self, items: Sequence[tuple[str, str]]) -> list[ScriptedPrediction]:
        self.batch_sizes.append(len(items))
        out = []
        for text, _source in items:
            lowered = text.lower()
            if "boom" in lowered:
                msg = "model exploded"
                raise RuntimeError(msg)
            event, sentiment = EventType.OTHER, Sentiment.NEUTRAL
            for word, ev, se in self.RULES:
                if word in lowered.split():
                    event, sentiment = ev, se
                    break
            assets = tuple(
                t
                for t in ("BTC", "ETH")
                if t.lower() in lowered or {"BTC": "bitcoin", "ETH": "ethereum"}[t] in lowered
            )
            out.append(ScriptedPrediction(event, 0.9, sentiment, assets))
        return out


def news(
    title: str,
    *,
    source: str = "wire",
    item_id: str | None = None,
    at: datetime = datetime(2022, 5, 9, 12, 0, tzinfo=UTC),
) -> NewsItem:
    return NewsItem(
        source=source,
        id=item_id or f"{source}-{abs(hash((title, at))) % 10**8}",
        title=title,
        published_at=at,
        received_at=at,
    )


def news_bytes(title: str, **kw: object) -> bytes:
    return to_json(news(title, **kw))  # type: ignore[arg-type]


def order_intent(client_order_id: str, **changes: Any) -> OrderIntent:
    """A market buy of 0.01 BTCUSDT linear on Bybit for account ``acct``; ``changes`` override."""
    fields: dict[str, Any] = {
        "client_order_id": client_order_id,
        "signal_id": "sig-1",
        "news_key": "test:1",
        "model_version": "m1",
        "playbook": "test",
        "account": "acct",
        "venue": Venue.BYBIT,
        "market": Market.LINEAR,
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "order_type": OrderType.MARKET,
        "quantity": Decimal("0.01"),
        "reference_price": Decimal(62000),
        "reason": "test",
        "created_at": datetime(2024, 1, 1, tzinfo=UTC),
    }
    return OrderIntent(**(fields | changes))
