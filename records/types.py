"""Frozen record types shared by every part of Tradewire.

These are the only shapes that cross a boundary (Kafka topic, JSONL file, database row, venue
adapter). They are msgspec structs so that encoding is fast, exact (``Decimal`` travels as a
string) and versioned (every record carries ``schema_version``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

SCHEMA_VERSION = 1

UtcDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timezone-aware instant: naive datetimes are refused at decode time."""


class EventType(enum.StrEnum):
    """The nine event types of the taxonomy, in rule order (earlier rules win ties)."""

    HACK = "HACK"
    FED_SPEECH = "FED_SPEECH"
    MACRO = "MACRO"
    REGULATION = "REGULATION"
    POLITICAL_POST = "POLITICAL_POST"
    LISTING = "LISTING"
    PARTNERSHIP = "PARTNERSHIP"
    TECHNICAL = "TECHNICAL"
    OTHER = "OTHER"


class Sentiment(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"


class TimeInForce(enum.StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "POST_ONLY"


class Venue(enum.StrEnum):
    BYBIT = "bybit"
    BINANCE = "binance"
    SIMULATOR = "simulator"


class Market(enum.StrEnum):
    SPOT = "spot"
    LINEAR = "linear"


class OrderStatus(enum.StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNTRIGGERED = "UNTRIGGERED"


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """Base of all boundary records: carries the schema version it was written with."""

    schema_version: int = SCHEMA_VERSION


class NewsItem(Record, frozen=True, kw_only=True):
    """One normalised piece of news from any source."""

    source: str
    id: str
    title: str
    body: str = ""
    url: str | None = None
    author: str | None = None
    published_at: UtcDatetime
    received_at: UtcDatetime
    raw_ref: str | None = None
    """Where the original payload can be found again (topic/partition/offset, file:line)."""

    @property
    def key(self) -> str:
        """Globally unique id: the source's own id is only unique within that source."""
        return f"{self.source}:{self.id}"

    @property
    def text(self) -> str:
        return f"{self.title}. {self.body}" if self.body else self.title


class Entity(Record, frozen=True, kw_only=True):
    """A mention found by NER or the gazetteer, linked to a ticker where one applies."""

    text: str
    label: str
    start: int
    end: int
    ticker: str | None = None
    canonical: str | None = None


class StoryItem(Record, frozen=True, kw_only=True):
    """A news item after de-duplication: the first sighting of a story and its corroboration."""

    item: NewsItem
    story_id: str
    corroboration: int = 1
    """How many distinct sources had reported the story when this item was emitted."""


class Signal(Record, frozen=True, kw_only=True):
    """What a news item means for which assets, and how sure we are."""

    signal_id: str
    news_key: str
    story_id: str
    source: str
    title: str
    url: str | None
    event_type: EventType
    sentiment: Sentiment
    assets: tuple[str, ...]
    entities: tuple[Entity, ...] = ()
    model_confidence: float
    """Calibrated probability of the predicted event type, from the model alone."""
    sentiment_confidence: float | None = None
    """Calibrated probability of the predicted sentiment (None: recorded before it was kept)."""
    confidence: float
    """Model confidence combined with source reliability and corroboration."""
    corroboration: int = 1
    model_version: str
    published_at: UtcDatetime
    received_at: UtcDatetime


class OrderIntent(Record, frozen=True, kw_only=True):
    """A risk-checked decision to place one order; the id is a pure function of its origin."""

    client_order_id: str
    signal_id: str
    news_key: str
    model_version: str
    playbook: str
    account: str
    venue: Venue
    market: Market
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    hold_seconds: int | None = None
    """Time-based exit: close the position this long after entry (None: no time exit)."""
    reference_price: Decimal
    """Price the size was computed from (last known at decision time)."""
    reason: str
    created_at: UtcDatetime


class RiskRejection(Record, frozen=True, kw_only=True):
    """A proposed order the risk engine refused, with the rule that refused it."""

    signal_id: str
    account: str
    symbol: str
    playbook: str
    rule: str
    reason: str
    created_at: UtcDatetime


class OrderUpdate(Record, frozen=True, kw_only=True):
    """The venue's view of an order after a submit, amend, cancel or match."""

    client_order_id: str
    venue: Venue
    symbol: str
    status: OrderStatus
    venue_order_id: str | None = None
    side: Side | None = None
    quantity: Decimal = Decimal(0)
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    reason: str | None = None
    retryable: bool = False
    updated_at: UtcDatetime


class Fill(Record, frozen=True, kw_only=True):
    """One execution against an order."""

    fill_id: str
    client_order_id: str
    venue: Venue
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    filled_at: UtcDatetime


class Position(Record, frozen=True, kw_only=True):
    """Net position in one symbol on one venue; quantity is signed (short < 0)."""

    account: str
    venue: Venue
    symbol: str
    quantity: Decimal
    average_entry: Decimal
    realised_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)
    updated_at: UtcDatetime


class DeadLetter(Record, frozen=True, kw_only=True):
    """Input that could not be processed: the reason and the original bytes, nothing lost."""

    stage: str
    reason: str
    key: str | None
    payload: bytes
    failed_at: UtcDatetime
