"""Crafted bars, a small trading config and signals for the backtest tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connectors.marketdata.bars import Bar, BarSeries, PriceBook
from operators.playbook import PlaybookConfig, parse_playbook_config
from operators.risk import RiskConfig, parse_risk_config
from records import EventType, Sentiment, Signal

T0 = datetime(2024, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)

_OFF = "\n".join(
    f"[playbooks.{e.value}]\nenabled = false\n"
    for e in EventType
    if e not in (EventType.HACK, EventType.LISTING)
)


def trading_toml(stop: str = "2", take: str = "4", hold: int = 36000) -> str:
    return f"""
[defaults]
account = "bt"
venue = "simulator"
market = "linear"
atr_period = 3

[symbols]
BTC = "BTCUSDT"

[instruments.BTCUSDT]
lot_step = "0.001"
tick_size = "0.1"
min_notional = "5"

[risk]
initial_equity = "10000"
max_order_notional = "2000"
max_position_notional = "3000"
max_gross_exposure = "6000"
max_open_orders = 6
order_rate_limit = 10
order_rate_window_seconds = 60
cooldown_seconds = 0
duplicate_window_seconds = 86400
daily_loss_limit = "5000"
max_drawdown_pct = "50"
risk_per_trade = "1000"
sizing_atr_multiple = "1"
max_price_age_seconds = 7200

[playbooks.HACK]
negative = "SELL"
positive = "NONE"
order_type = "market"
stop_loss = {{ kind = "pct", value = "{stop}" }}
take_profit = {{ kind = "pct", value = "{take}" }}
hold_seconds = {hold}

[playbooks.LISTING]
positive = "BUY"
order_type = "market"
stop_loss = {{ kind = "pct", value = "{stop}" }}
take_profit = {{ kind = "pct", value = "{take}" }}
hold_seconds = {hold}

{_OFF}
"""


def configs(**kw: object) -> tuple[PlaybookConfig, RiskConfig]:
    text = trading_toml(**kw)  # type: ignore[arg-type]
    return parse_playbook_config(text), parse_risk_config(text)


def bar(i: int, o: str, h: str, lo: str, c: str) -> Bar:
    return Bar(T0 + i * H, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), Decimal(1000))


def _bar(i: int, row: tuple[str, ...]) -> Bar:
    o, h, lo, c = row
    return bar(i, o, h, lo, c)


def book(rows: Sequence[tuple[str, ...]]) -> PriceBook:
    bars = [_bar(i, r) for i, r in enumerate(rows)]
    return PriceBook({"BTCUSDT": BarSeries("BTCUSDT", H, bars)})


FLAT = [("100", "101", "99", "100")] * 5
"""Five quiet bars: ATR(3) = 2, last close 100."""


def signal(
    at: datetime,
    *,
    event: EventType = EventType.LISTING,
    sentiment: Sentiment = Sentiment.POSITIVE,
    published: datetime | None = None,
    sid: str = "s1",
    confidence: float = 0.9,
) -> Signal:
    return Signal(
        signal_id=sid,
        news_key=f"wire:{sid}",
        story_id=sid,
        source="wire",
        title="t",
        url=None,
        event_type=event,
        sentiment=sentiment,
        assets=("BTC",),
        model_confidence=confidence,
        confidence=confidence,
        model_version="scripted-1",
        published_at=published or at,
        received_at=at,
    )
