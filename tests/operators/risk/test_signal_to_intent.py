"""Signal -> playbook -> risk on real bundled BTC bars and the bundled trading config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from connectors.marketdata.bars import load_bundled
from operators.market import snapshot_from_bars
from operators.playbook import parse_playbook_config, propose_orders, symbols_for
from operators.risk import RiskEngine, parse_risk_config
from records import EventType, OrderIntent, Sentiment, Side, Signal

TOML = Path(__file__).resolve().parents[3] / "flows" / "playbooks.toml"


def test_hack_on_btc_becomes_a_sized_sell_intent() -> None:
    playbooks = parse_playbook_config(TOML)
    engine = RiskEngine(parse_risk_config(TOML))
    received = datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)
    sig = Signal(
        signal_id="sig-e2e",
        news_key="rss:1",
        story_id="story-e2e",
        source="rss",
        title="Exchange hacked, BTC drained",
        url=None,
        event_type=EventType.HACK,
        sentiment=Sentiment.NEGATIVE,
        assets=("BTC",),
        model_confidence=0.9,
        sentiment_confidence=0.8,
        confidence=0.9,
        model_version="m1",
        published_at=received - timedelta(seconds=3),
        received_at=received,
    )
    series = load_bundled("BTCUSDT")
    period = playbooks.defaults.atr_period
    market = {}
    for symbol in symbols_for(sig, playbooks):
        snap = snapshot_from_bars(
            series.closed_before(received, period + 1), series.interval, period
        )
        assert snap is not None
        market[symbol] = snap
    (proposal,) = propose_orders(sig, playbooks, market)
    _, out = engine.step(None, proposal)
    (intent,) = out
    assert isinstance(intent, OrderIntent)
    snap = market["BTCUSDT"]
    assert snap.as_of == datetime(2024, 3, 1, 12, tzinfo=UTC)  # the 11:00 bar, closed at 12:00
    assert snap.atr is not None
    sized = min(Decimal(50) * Decimal("0.9") / (2 * snap.atr), Decimal(2000) / snap.last_price)
    assert intent.quantity == sized.quantize(Decimal("0.001"), rounding=ROUND_DOWN)
    assert intent.side is Side.SELL
    assert intent.stop_loss is not None and intent.stop_loss > snap.last_price
    assert intent.take_profit is not None and intent.take_profit < snap.last_price
    assert intent.reference_price == snap.last_price
    assert intent.client_order_id == proposal.client_order_id
