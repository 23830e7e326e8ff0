"""Playbooks from the bundled TOML and ``propose_orders`` on hand-computed prices."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from operators.market import MarketSnapshot
from operators.playbook import PlaybookConfig, parse_playbook_config, propose_orders, symbols_for
from operators.proposal import client_order_id
from operators.risk import parse_risk_config
from operators.tomlconfig import ConfigError
from records import EventType, OrderType, Sentiment, Side, Signal, TimeInForce

D = Decimal
TOML = Path(__file__).resolve().parents[2] / "flows" / "playbooks.toml"
T = datetime(2024, 3, 1, 12, tzinfo=UTC)
MARKET = {
    "BTCUSDT": MarketSnapshot(D("20000"), D("200"), T - timedelta(minutes=10)),
    "ETHUSDT": MarketSnapshot(D("1500"), D("12"), T - timedelta(minutes=10)),
}


@pytest.fixture(scope="module")
def cfg() -> PlaybookConfig:
    return parse_playbook_config(TOML)


def signal(
    event: EventType, sentiment: Sentiment, assets: tuple[str, ...], conf: float = 0.9
) -> Signal:
    return Signal(
        signal_id="sig-1",
        news_key="src:1",
        story_id="story-1",
        source="src",
        title="t",
        url=None,
        event_type=event,
        sentiment=sentiment,
        assets=assets,
        model_confidence=conf,
        sentiment_confidence=0.8,
        confidence=conf,
        model_version="m1",
        published_at=T - timedelta(seconds=5),
        received_at=T,
    )


def test_bundled_config_covers_all_nine_event_types(cfg: PlaybookConfig) -> None:
    assert set(cfg.playbooks) == set(EventType)
    risk = parse_risk_config(TOML)
    assert set(risk.instruments) == set(cfg.symbols.values())


def test_missing_event_type_is_refused() -> None:
    text = TOML.read_text().replace("[playbooks.OTHER]\nenabled = false\n", "")
    with pytest.raises(ConfigError, match=r"no playbook for event type\(s\) \['OTHER'\]"):
        parse_playbook_config(text)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[defaults]\nacount = 'x'\n", "unknown field `acount`"),
        ("[nonsense]\n", "unknown section"),
        ("[playbooks.HACK\n", "cannot read"),
    ],
)
def test_bad_config_is_a_clear_error(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_playbook_config(text)


def test_negative_hack_sells_at_market_with_atr_exits(cfg: PlaybookConfig) -> None:
    (order,) = propose_orders(signal(EventType.HACK, Sentiment.NEGATIVE, ("ETH",)), cfg, MARKET)
    assert (order.symbol, order.side, order.order_type) == ("ETHUSDT", Side.SELL, OrderType.MARKET)
    # SELL at 1500, ATR 12: stop 1.5 ATR above (1518), target 3 ATR below (1464)
    assert (order.stop_loss, order.take_profit) == (D("1518.00"), D("1464.00"))
    assert order.hold_seconds == 14400
    assert (order.min_confidence, order.confidence) == (0.6, 0.9)
    assert order.created_at == T
    assert order.market_data_issue is None


def test_the_sentiment_confidence_and_its_floor_travel_with_the_order(
    cfg: PlaybookConfig,
) -> None:
    sig = msgspec.structs.replace(
        signal(EventType.HACK, Sentiment.NEGATIVE, ("ETH",)), sentiment_confidence=0.47
    )
    (order,) = propose_orders(sig, cfg, MARKET)
    assert (order.sentiment_confidence, order.min_sentiment_confidence) == (0.47, 0.6)
    assert "sentiment_conf=0.47" in order.reason


def test_a_sentiment_floor_outside_zero_one_is_refused() -> None:
    text = TOML.read_text().replace(
        "min_sentiment_confidence = 0.6", "min_sentiment_confidence = 1.5", 1
    )
    with pytest.raises(ConfigError, match="min_sentiment_confidence must be within"):
        parse_playbook_config(text)


def test_positive_hack_and_neutral_sentiment_do_not_trade(cfg: PlaybookConfig) -> None:
    assert propose_orders(signal(EventType.HACK, Sentiment.POSITIVE, ("ETH",)), cfg, MARKET) == []
    neutral = signal(EventType.REGULATION, Sentiment.NEUTRAL, ("BTC",))
    assert propose_orders(neutral, cfg, MARKET) == []


def test_disabled_playbook_proposes_nothing(cfg: PlaybookConfig) -> None:
    sig = signal(EventType.TECHNICAL, Sentiment.POSITIVE, ("BTC",))
    assert symbols_for(sig, cfg) == ()
    assert propose_orders(sig, cfg, MARKET) == []


def test_fed_speech_goes_to_the_proxy_with_a_marketable_limit(cfg: PlaybookConfig) -> None:
    sig = signal(EventType.FED_SPEECH, Sentiment.NEGATIVE, ())
    assert symbols_for(sig, cfg) == ("BTCUSDT",)
    (order,) = propose_orders(sig, cfg, MARKET)
    assert (order.side, order.order_type, order.time_in_force) == (
        Side.SELL,
        OrderType.LIMIT,
        TimeInForce.IOC,
    )
    # SELL limit 5 bps through 20000 = 19990; stop +1% = 20200; target -2% = 19600
    assert order.limit_price == D("19990.0")
    assert (order.stop_loss, order.take_profit) == (D("20200.0"), D("19600.0"))
    assert "via proxy BTCUSDT" in order.reason


def test_untradable_asset_uses_the_proxy_only_if_the_playbook_says_so(
    cfg: PlaybookConfig,
) -> None:
    regulation = signal(EventType.REGULATION, Sentiment.NEGATIVE, ("XRP", "ETH"))
    assert symbols_for(regulation, cfg) == ("BTCUSDT", "ETHUSDT")
    orders = propose_orders(regulation, cfg, MARKET)
    assert [(o.symbol, o.asset, o.leg) for o in orders] == [
        ("BTCUSDT", "BTC", 0),
        ("ETHUSDT", "ETH", 1),
    ]
    listing = signal(EventType.LISTING, Sentiment.POSITIVE, ("XRP",))
    assert propose_orders(listing, cfg, MARKET) == []


def test_asset_allowlist(cfg: PlaybookConfig) -> None:
    # FED_SPEECH may trade BTC only: an ETH mention is neither traded nor proxied
    sig = signal(EventType.FED_SPEECH, Sentiment.POSITIVE, ("ETH",))
    assert symbols_for(sig, cfg) == ()


def test_missing_market_data_is_flagged_not_dropped(cfg: PlaybookConfig) -> None:
    (order,) = propose_orders(signal(EventType.HACK, Sentiment.NEGATIVE, ("BTC",)), cfg, {})
    assert order.market_data_issue == "no market snapshot for BTCUSDT"
    assert order.reference_price is None
    no_atr = {"BTCUSDT": MarketSnapshot(D("20000"), None, T)}
    (order,) = propose_orders(signal(EventType.HACK, Sentiment.NEGATIVE, ("BTC",)), cfg, no_atr)
    assert order.market_data_issue == "no ATR for BTCUSDT: cannot place stop_loss"


def test_pct_exits_work_without_atr(cfg: PlaybookConfig) -> None:
    market = {"BTCUSDT": MarketSnapshot(D("20000"), None, T)}
    (order,) = propose_orders(signal(EventType.LISTING, Sentiment.POSITIVE, ("BTC",)), cfg, market)
    # BUY limit 10 bps through = 20020; stop -3% = 19400; target +6% = 21200
    assert (order.limit_price, order.stop_loss, order.take_profit) == (
        D("20020.0"),
        D("19400.0"),
        D("21200.0"),
    )
    assert order.market_data_issue is None


def test_client_order_id_is_deterministic_and_venue_safe() -> None:
    a = client_order_id("sig-1", "HACK", "BTCUSDT", 0)
    assert a == client_order_id("sig-1", "HACK", "BTCUSDT", 0)
    others = {
        client_order_id("sig-2", "HACK", "BTCUSDT", 0),
        client_order_id("sig-1", "LISTING", "BTCUSDT", 0),
        client_order_id("sig-1", "HACK", "ETHUSDT", 0),
        client_order_id("sig-1", "HACK", "BTCUSDT", 1),
    }
    assert a not in others and len(others) == 4
    assert len(a) <= 36 and re.fullmatch(r"[A-Za-z0-9_-]+", a)


def test_every_enabled_playbook_yields_valid_proposals(cfg: PlaybookConfig) -> None:
    for event in EventType:
        for sentiment in Sentiment:
            sig: Any = signal(event, sentiment, ("BTC", "ETH", "DOGE"))
            for order in propose_orders(sig, cfg, MARKET):
                assert order.market_data_issue is None
                assert order.playbook == event.value
                assert order.symbol in MARKET
