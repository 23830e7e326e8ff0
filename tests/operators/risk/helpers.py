"""Builders for risk tests: one small config with round numbers, proposals, fills, marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from operators.market import Instrument
from operators.proposal import ProposedOrder
from operators.risk import AccountFill, PriceMark, RiskConfig
from records import EventType, Fill, Market, OrderType, Side, Venue

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "acct"
D = Decimal

CONFIG = RiskConfig(
    initial_equity=D(10000),
    max_order_notional=D(1000),
    max_position_notional=D(1500),
    max_gross_exposure=D(2500),
    max_open_orders=3,
    order_rate_limit=2,
    order_rate_window_seconds=60,
    cooldown_seconds=300,
    duplicate_window_seconds=3600,
    daily_loss_limit=D(200),
    max_drawdown_pct=D(5),
    risk_per_trade=D(20),
    sizing_atr_multiple=D(2),
    max_price_age_seconds=3600,
    min_confidence=0.5,
    instruments={
        "BTCUSDT": Instrument(lot_step=D("0.001"), tick_size=D("0.1"), min_notional=D(5)),
        "ETHUSDT": Instrument(lot_step=D("0.01"), tick_size=D("0.01"), min_notional=D(5)),
    },
)


def config(**changes: Any) -> RiskConfig:
    return msgspec.structs.replace(CONFIG, **changes)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def proposal(
    signal_id: str = "sig-1",
    *,
    symbol: str = "BTCUSDT",
    asset: str = "BTC",
    side: Side = Side.BUY,
    confidence: float = 0.5,
    price: str | None = "20000",
    atr: str | None = "200",
    seconds: float = 0,
    story_id: str | None = None,
    event_type: EventType = EventType.HACK,
    **changes: Any,
) -> ProposedOrder:
    """Defaults size to 20 x 0.5 / (2 x 200) = 0.025 BTC (500 USDT): under every cap."""
    created = at(seconds)
    fields: dict[str, Any] = {
        "signal_id": signal_id,
        "news_key": f"src:{signal_id}",
        "story_id": story_id or f"story-{signal_id}",
        "model_version": "m1",
        "playbook": event_type.value,
        "event_type": event_type,
        "account": ACCOUNT,
        "venue": Venue.SIMULATOR,
        "market": Market.LINEAR,
        "symbol": symbol,
        "asset": asset,
        "leg": 0,
        "side": side,
        "order_type": OrderType.MARKET,
        "confidence": confidence,
        "reference_price": D(price) if price is not None else None,
        "atr": D(atr) if atr is not None else None,
        "price_as_of": created - timedelta(minutes=5),
        "reason": "test",
        "created_at": created,
    }
    fields.update(changes)
    return ProposedOrder(**fields)


def fill(
    fill_id: str,
    qty: str,
    price: str,
    *,
    side: Side = Side.BUY,
    symbol: str = "BTCUSDT",
    client_order_id: str = "manual",
    seconds: float = 0,
    fee: str = "0",
    fee_asset: str = "USDT",
) -> AccountFill:
    return AccountFill(
        account=ACCOUNT,
        fill=Fill(
            fill_id=fill_id,
            client_order_id=client_order_id,
            venue=Venue.SIMULATOR,
            symbol=symbol,
            side=side,
            quantity=D(qty),
            price=D(price),
            fee=D(fee),
            fee_asset=fee_asset,
            filled_at=at(seconds),
        ),
    )


def mark(price: str, *, symbol: str = "BTCUSDT", seconds: float = 0) -> PriceMark:
    return PriceMark(account=ACCOUNT, symbol=symbol, price=D(price), at=at(seconds))
