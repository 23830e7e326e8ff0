"""The pre-risk order: what a playbook wants to do about a signal, before sizing and limits."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from records import EventType, Market, OrderType, Side, TimeInForce, UtcDatetime, Venue
from records.types import Record

CLIENT_ORDER_ID_PREFIX = "tw-"


def client_order_id(signal_id: str, playbook: str, symbol: str, leg: int) -> str:
    """Deterministic id (33 chars, ``[a-z0-9-]``): a re-delivered signal maps to the same order.

    Venues cap client ids at 36 characters and the adapters keep 3 for the exits they attach
    (``-sl``, ``-tp``), so the origin is hashed into 33: the id the venue reports fills and
    updates under is then the intent's own (``venue_client_id`` leaves it as it is).
    """
    origin = f"{signal_id}\x1f{playbook}\x1f{symbol}\x1f{leg}".encode()
    return CLIENT_ORDER_ID_PREFIX + hashlib.sha256(origin).hexdigest()[:30]


class ProposedOrder(Record, frozen=True, kw_only=True):
    """One leg a playbook proposes for a signal; the risk engine sizes it or rejects it.

    Prices are ``None`` when the market data was missing: the proposal still reaches the risk
    engine so that the refusal is recorded with its reason instead of vanishing.
    """

    signal_id: str
    news_key: str
    story_id: str
    model_version: str
    playbook: str
    event_type: EventType
    account: str
    venue: Venue
    market: Market
    symbol: str
    asset: str
    """Base asset of ``symbol`` (cooldowns are per asset and event type)."""
    leg: int
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce = TimeInForce.GTC
    limit_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    hold_seconds: int | None = None
    confidence: float
    min_confidence: float = 0.0
    """The playbook's own threshold; the engine applies the stricter of it and its own."""
    sentiment_confidence: float | None = None
    """The model's calibrated probability of the sentiment that chose the side."""
    min_sentiment_confidence: float = 0.0
    """The playbook's floor on ``sentiment_confidence`` (a None confidence fails a floor > 0)."""
    reference_price: Decimal | None
    atr: Decimal | None
    price_as_of: UtcDatetime | None
    market_data_issue: str | None = None
    """Why the order could not be priced (no snapshot, no ATR for an ATR exit); risk refuses it."""
    quantity: Decimal | None = None
    """Explicit quantity (e.g. a manual close); None lets the engine size the order."""
    expected_move: float | None = None
    """Mean absolute 1 h return after this event type on this asset in history (the reaction
    table); None when no table is loaded or the pair was never measured."""
    baseline_move: float | None = None
    """The same at matched ordinary times: the engine scales size by expected / baseline."""
    reaction_samples: int = 0
    """Events behind ``expected_move``; the engine ignores tables with too few."""
    reason: str
    created_at: UtcDatetime
    """Event time of the decision (the signal's receipt time)."""

    @property
    def client_order_id(self) -> str:
        return client_order_id(self.signal_id, self.playbook, self.symbol, self.leg)
