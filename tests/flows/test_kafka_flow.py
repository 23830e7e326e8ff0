"""The signal flow on a real Kafka-protocol broker (Tansu), end to end."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from bytewax.testing import run_main
from confluent_kafka import Producer

from connectors.kafka import Topics, ensure_topics
from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData
from flows.kafka_flow import KafkaSettings, build
from flows.settings import FlowSettings
from flows.signal_flow import SignalFlowDeps
from records import DeadLetter, ManualClock, Signal, from_json
from tests.conftest import TANSU_PRODUCER_CONFIG, drain_topic
from tests.doubles import ScriptedPredictor, news_bytes

pytestmark = pytest.mark.integration
T0 = datetime(2022, 5, 9, 12, tzinfo=UTC)


def test_flow_reads_news_raw_and_writes_keyed_signals_and_dlq(tansu: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    topics = Topics.with_prefix(prefix)
    ensure_topics([tansu], topics.all(), partitions=3)

    producer = Producer(
        {"bootstrap.servers": tansu, "enable.idempotence": True, **TANSU_PRODUCER_CONFIG}
    )
    titles = [f"Bitcoin story {i} about BTC" for i in range(6)] + [
        f"Ethereum story {i} about ETH" for i in range(6)
    ]
    for i, title in enumerate(titles):
        producer.produce(
            topics.news_raw,
            key=f"k{i}".encode(),
            value=news_bytes(title, item_id=str(i), at=T0 + timedelta(minutes=i)),
        )
    producer.produce(topics.news_raw, key=b"bad", value=b"<html>not json</html>")
    producer.produce(topics.account_events, key=b"paper", value=b'{"account": "paper"}')
    assert producer.flush(10) == 0

    predictor = ScriptedPredictor()
    clock = ManualClock(T0)
    deps = SignalFlowDeps(
        predictor=lambda: predictor,
        clock=clock,
        wall=clock,
        market=BarsMarketData(PriceBook.bundled()),
    )
    flow = build(
        KafkaSettings(
            brokers=(tansu,), topics=topics, tail=False, producer_config=TANSU_PRODUCER_CONFIG
        ),
        deps,
        FlowSettings.load(),
    )
    run_main(flow)

    signal_parts = drain_topic(tansu, topics.signals, 3)
    signals = {p: [from_json(m.value, Signal) for m in ms] for p, ms in signal_parts.items()}
    assert sum(len(v) for v in signals.values()) == 12
    partitions_of = defaultdict(set)
    for p, sigs in signals.items():
        for s in sigs:
            partitions_of[s.assets[0]].add(p)
    assert {a: len(ps) for a, ps in partitions_of.items()} == {"BTC": 1, "ETH": 1}

    dlq = drain_topic(tansu, topics.dlq, 3)
    dead = [from_json(m.value, DeadLetter) for ms in dlq.values() for m in ms]
    by_stage = {d.stage: d for d in dead}
    assert sorted(by_stage) == ["account_events", "normalise"]
    assert by_stage["normalise"].payload == b"<html>not json</html>"
    assert by_stage["normalise"].key == "bad"
    assert "malformed JSON" in by_stage["normalise"].reason
    assert "neither fill, update nor reset" in by_stage["account_events"].reason
