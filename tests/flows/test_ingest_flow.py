"""The ingestion flow on a real Kafka-protocol broker (Tansu): sources -> news.raw and dlq."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from bytewax.testing import cluster_main, run_main

from connectors.kafka import Topics, ensure_topics
from connectors.sources.config import parse_config
from connectors.sources.registry import build_sources
from flows.ingest_flow import build
from flows.kafka_flow import KafkaSettings
from operators.normalise import RawMessage, normalise
from records import DeadLetter, ManualClock, NewsItem, from_json
from tests.conftest import TANSU_PRODUCER_CONFIG, drain_topic
from tests.connectors.sources._sourcekit import (
    BAD_GATEWAY,
    LocalServer,
    fed_speeches,
    feed_app,
    good_and_broken_feeds,
    rss_document,
)

pytestmark = pytest.mark.integration
T0 = datetime(2026, 4, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("workers", [1, 2])
def test_feed_items_reach_news_raw_as_the_signal_flow_reads_them(tansu: str, workers: int) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    topics = Topics.with_prefix(prefix)
    ensure_topics([tansu], topics.all(), partitions=3)
    rows = fed_speeches()
    good = LocalServer(feed_app(rss_document("FRB: Speeches", "x", rows))).start()
    broken = LocalServer(feed_app(BAD_GATEWAY)).start()
    try:
        config = parse_config(good_and_broken_feeds(good, broken))
        sources = build_sources(config, ManualClock(T0), once=True)
        settings = KafkaSettings(
            brokers=(tansu,), topics=topics, producer_config=TANSU_PRODUCER_CONFIG
        )
        flow = build(settings, sources)
        if workers == 1:
            run_main(flow)
        else:
            cluster_main(flow, [], 0, worker_count_per_proc=workers)
    finally:
        good.stop()
        broken.stop()

    records = [m for ms in drain_topic(tansu, topics.news_raw, 3).values() for m in ms]
    items = [from_json(m.value, NewsItem) for m in records]
    assert sorted(i.id for i in items) == sorted(r["link"] for r in rows)
    for record, item in zip(records, items, strict=True):
        assert record.key == f"fed-speeches:{item.id}".encode()
        assert (
            record.timestamp_ms
            == int(T0.timestamp() * 1000)
            == int(item.received_at.timestamp() * 1000)
        )
        # the signal flow's first step takes the record back unchanged
        raw = RawMessage(value=record.value, key=record.key)
        assert normalise(raw, T0) == item

    dlq = drain_topic(tansu, topics.dlq, 3)
    dead = [from_json(m.value, DeadLetter) for ms in dlq.values() for m in ms]
    assert [d.stage for d in dead] == ["source.broken"]
    assert "malformed XML" in dead[0].reason
    assert dead[0].payload.startswith(b"<html>")
