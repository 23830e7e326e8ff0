"""``tradewire topics load``: write a news archive into a Kafka topic with its original times.

Each record's Kafka timestamp is the item's ``received_at`` (when it was first known), its key
``source:id``, its value the item's JSON line unchanged, so a backtest can replay the topic by
time range exactly as it would replay the file.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Producer
from rich.console import Console

from connectors.kafka import Topics, ensure_topics
from connectors.replay import read_archives
from flows.commands.args import utc_instant
from flows.commands.backtest import ARCHIVES
from records import NewsItem, from_json

ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


def load_topic(
    brokers: str,
    topic: str,
    paths: Iterable[Path],
    *,
    partitions: int = 3,
    start: datetime = ALL_TIME[0],
    end: datetime = ALL_TIME[1],
) -> int:
    """Produce every archived item received in ``[start, end)`` to ``topic``; returns the count.

    Items go out in event-time order; a failed delivery raises after the flush, nothing is
    silently dropped."""
    batch = read_archives(list(paths), start, end)
    ensure_topics([brokers], [topic], partitions)
    producer = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "linger.ms": 20})
    failures: list[str] = []

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    for raw in batch.messages:
        item = from_json(raw.value, NewsItem)
        stamp = raw.timestamp or item.received_at
        producer.produce(
            topic,
            key=item.key.encode(),
            value=raw.value,
            timestamp=int(stamp.timestamp() * 1000),
            on_delivery=delivered,
        )
        producer.poll(0)
    remaining = producer.flush(30)
    if remaining or failures:
        msg = f"{remaining} undelivered, {len(failures)} failed: {failures[:3]}"
        raise RuntimeError(msg)
    return len(batch.messages)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    start = args.start or ALL_TIME[0]
    end = args.end or ALL_TIME[1]
    paths = [Path(p) for p in args.news] if args.news else list(ARCHIVES)
    n = load_topic(
        args.brokers, args.topic, paths, partitions=args.partitions, start=start, end=end
    )
    console.print(f"wrote {n} items to {args.topic} on {args.brokers}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("topics", help="Kafka topic utilities")
    actions = p.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="write a news archive into a topic, original times")
    load.add_argument("--brokers", default="127.0.0.1:9092")
    load.add_argument("--topic", default=Topics().news_raw)
    load.add_argument("--news", action="append", help="NewsItem JSONL[.gz] (default: bundled)")
    load.add_argument("--partitions", type=int, default=3, help="if the topic must be created")
    load.add_argument(
        "--start", type=utc_instant, default=None, help="only items received from (UTC, ISO)"
    )
    load.add_argument(
        "--end", type=utc_instant, default=None, help="only items received before (UTC, ISO)"
    )
    load.set_defaults(func=run)
