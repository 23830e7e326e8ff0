"""Kafka record codecs: what each flow writes, the next flow reads back (or dead-letters)."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.kafka import (
    Topics,
    decode_account_event,
    news_message,
    order_message,
    reset_message,
)
from flows.execution_flow import decode_order
from operators.normalise import RawMessage
from operators.risk import CancelRequest, ResetCommand, TradingState
from records import DeadLetter, Venue, to_json
from tests.doubles import news, order_intent

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


def test_topics_behind_a_prefix() -> None:
    topics = Topics.with_prefix("staging.")
    assert topics.all() == tuple("staging." + name for name in Topics().all())
    assert topics.account_events == "staging.account.events"


def test_news_is_keyed_by_source_and_id_and_stamped_when_received() -> None:
    item = news("Bitcoin ETF approved", source="wire", item_id="42", at=T0)
    message = news_message(item)
    assert message.key == b"wire:42"
    assert message.timestamp == int(item.received_at.timestamp() * 1000)


def test_a_cancel_request_shares_the_intents_topic_and_decodes_as_itself() -> None:
    request = CancelRequest(
        account="paper",
        venue=Venue.BYBIT,
        symbol="BTCUSDT",
        client_order_id="tw-1",
        reason="HALTED: drawdown",
        created_at=T0,
    )
    message = order_message(request)
    assert message.key == b"BTCUSDT"
    assert decode_order(RawMessage(value=message.value), T0) == request
    bad = decode_order(RawMessage(value=b'{"symbol": "BTCUSDT"}', key=b"BTCUSDT"), T0)
    assert isinstance(bad, DeadLetter)
    assert "invalid order intent" in bad.reason


def test_a_malformed_intent_is_a_dead_letter_not_a_cancel() -> None:
    intent = order_intent("tw-1", account="paper")
    assert decode_order(RawMessage(value=to_json(intent)), T0) == intent
    broken = to_json(intent).replace(b'"BUY"', b'"SIDEWAYS"')
    dead = decode_order(RawMessage(value=broken, key=b"BTCUSDT"), T0)
    assert isinstance(dead, DeadLetter)
    assert "invalid order intent" in dead.reason and dead.payload == broken


def test_an_operator_reset_reaches_risk_through_account_events() -> None:
    reset = ResetCommand(account="paper", at=T0, reason="reviewed", to_state=TradingState.REDUCING)
    message = reset_message(reset)
    assert message.key == b"paper"
    assert decode_account_event(RawMessage(value=message.value), T0) == reset
    forged = to_json({"account": "other", "reset": reset})
    dead = decode_account_event(RawMessage(value=forged, ref="kafka://x/0@1"), T0)
    assert isinstance(dead, DeadLetter)
    assert "reset for 'paper' sent as account 'other'" in dead.reason
