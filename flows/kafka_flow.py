"""The signal flow deployed on Kafka: ``news.raw`` in; ``signals``, ``orders.*`` and ``dlq`` out.

Run it with bytewax, scaling with processes over the topic's partitions::

    export TRADEWIRE_KAFKA_BROKERS=kafka:9092
    python -m bytewax.run "flows.kafka_flow:from_env()" -i 0 -a "host0:2101;host1:2101"

Consumer offsets live in bytewax's recovery snapshots (``-r DIR``), not in consumer groups.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bytewax.connectors.kafka import KafkaSink, KafkaSource
from bytewax.dataflow import Dataflow

from connectors.kafka import (
    Topics,
    dead_letter_message,
    decode_account_event,
    from_kafka,
    order_message,
    rejection_message,
    signal_message,
)
from flows.runtime import default_deps, live_market_data
from flows.settings import FlowSettings
from flows.signal_flow import EventInput, Output, SignalFlowDeps, SignalOutputs, get_flow
from operators.risk import RiskEvent
from records import DeadLetter


@dataclass(frozen=True)
class KafkaSettings:
    brokers: tuple[str, ...]
    topics: Topics = field(default_factory=Topics)
    tail: bool = True
    """Keep reading for new records (live); False stops at the end (replays, tests)."""
    client_config: Mapping[str, str] = field(default_factory=dict)
    """librdkafka settings for every client (security, timeouts)."""
    producer_config: Mapping[str, str] = field(default_factory=dict)
    """Extra librdkafka settings for the sinks' producers only."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> KafkaSettings:
        brokers = env.get("TRADEWIRE_KAFKA_BROKERS", "")
        if not brokers:
            msg = "TRADEWIRE_KAFKA_BROKERS is not set (comma-separated host:port list)"
            raise RuntimeError(msg)
        topics = Topics.with_prefix(env.get("TRADEWIRE_TOPIC_PREFIX", ""))
        return cls(brokers=tuple(b.strip() for b in brokers.split(",")), topics=topics)

    def sink(self, topic: str) -> KafkaSink:
        """An idempotent producer to ``topic``: a retried send is never written twice."""
        extra = {"enable.idempotence": "true", **self.producer_config}
        return KafkaSink(list(self.brokers), topic, add_config=dict(self.client_config) | extra)


def build(kafka: KafkaSettings, deps: SignalFlowDeps, settings: FlowSettings) -> Dataflow:
    brokers = list(kafka.brokers)
    conf = dict(kafka.client_config)
    sink = kafka.sink
    source = KafkaSource(
        brokers, [kafka.topics.news_raw], tail=kafka.tail, add_config=conf, raise_on_errors=False
    )
    outputs = SignalOutputs(
        signals=Output(sink(kafka.topics.signals), signal_message),
        intents=None,
        orders=Output(sink(kafka.topics.intents), order_message),
        rejections=Output(sink(kafka.topics.rejections), rejection_message),
        dead_letters=Output(sink(kafka.topics.dlq), dead_letter_message),
    )

    def adapt_event(msg: Any) -> RiskEvent | DeadLetter:
        raw = from_kafka(msg, deps.clock.now())
        return raw if isinstance(raw, DeadLetter) else decode_account_event(raw, deps.clock.now())

    events = KafkaSource(
        brokers,
        [kafka.topics.account_events],
        tail=kafka.tail,
        add_config=conf,
        raise_on_errors=False,
    )
    return get_flow(
        source,
        outputs,
        deps,
        settings.signal,
        adapt=lambda msg: from_kafka(msg, deps.clock.now()),
        flow_id="signals_kafka",
        account_events=EventInput(events, adapt_event),
    )


def from_env() -> Dataflow:
    """Entry point for ``python -m bytewax.run``: everything from the environment."""
    settings = FlowSettings.load(os.environ.get("TRADEWIRE_CONFIG"))
    return build(KafkaSettings.from_env(), default_deps(settings, live_market_data()), settings)
