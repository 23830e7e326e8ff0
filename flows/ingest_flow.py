"""The ingestion flow: the configured news sources in; ``news.raw`` and ``dlq`` out.

Every source partition (a feed, a stream, a webhook listener, ...) runs on one worker, so more
processes spread the partitions. Items are keyed ``source:id`` and stamped with their
``received_at``, as ``tradewire topics load`` writes an archive: the signal flow and replays by
time read live and archived news alike. A source's bad input is a dead letter, never a crash.

    export TRADEWIRE_KAFKA_BROKERS=kafka:9092 TRADEWIRE_SOURCES=/etc/tradewire/sources.toml
    python -m bytewax.run "flows.ingest_flow:from_env()" -r /recovery
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source

from connectors.kafka import dead_letter_message, news_message
from connectors.sources.config import load_config
from connectors.sources.registry import build_sources
from connectors.sources.runtime import SourceItem
from flows.kafka_flow import KafkaSettings
from flows.signal_flow import Output, write
from records import DeadLetter, NewsItem, SystemClock


def get_flow(
    sources: Mapping[str, Source[SourceItem]],
    items: Output[NewsItem],
    dead_letters: Output[DeadLetter],
    flow_id: str = "ingest",
) -> Dataflow:
    """All sources merged; items and dead letters split to their own outputs."""
    flow = Dataflow(flow_id)
    streams = [op.input(f"in_{name}", flow, source) for name, source in sources.items()]
    merged = op.merge("merge", *streams)
    split = op.branch("split", merged, lambda x: isinstance(x, NewsItem))
    news: Stream[NewsItem] = split.trues  # type: ignore[assignment]
    dead: Stream[DeadLetter] = split.falses  # type: ignore[assignment]
    write("items", news, items)
    write("dead_letters", dead, dead_letters)
    return flow


def build(kafka: KafkaSettings, sources: Mapping[str, Source[SourceItem]]) -> Dataflow:
    return get_flow(
        sources,
        Output(kafka.sink(kafka.topics.news_raw), news_message),
        Output(kafka.sink(kafka.topics.dlq), dead_letter_message),
        flow_id="ingest_kafka",
    )


def from_env() -> Dataflow:
    """Entry point for ``python -m bytewax.run``: sources TOML and brokers from the environment."""
    path = os.environ.get("TRADEWIRE_SOURCES", "")
    if not path:
        msg = "TRADEWIRE_SOURCES is not set (the sources TOML file, see flows/sources.example.toml)"
        raise RuntimeError(msg)
    sources = build_sources(load_config(Path(path)), SystemClock())
    if not sources:
        msg = f"{path} lists no sources"
        raise RuntimeError(msg)
    return build(KafkaSettings.from_env(), sources)
