"""Bounded historical input for backtests: JSONL news archives and Kafka topics by time range.

Both return raw messages in event-time order plus a description of exactly what was read (file
hashes, or topic partitions and offsets), so a run can record its inputs and be repeated.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from confluent_kafka import (
    OFFSET_END,
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    TopicPartition,
)

from connectors.kafka import source_ref
from operators.normalise import RawMessage
from records import UtcDatetime

Row = tuple[datetime, int, int, RawMessage]


class _Stamp(msgspec.Struct, forbid_unknown_fields=False):
    received_at: UtcDatetime | None = None
    published_at: UtcDatetime | None = None


_stamp = msgspec.json.Decoder(_Stamp)


@dataclass(frozen=True)
class ReplayBatch:
    messages: list[RawMessage]
    """Sorted by event time, then by where they were read (file/partition, line/offset)."""
    inputs: dict[str, object]
    """What was read, for the run manifest."""
    skipped: int = 0
    """Lines without a readable time stamp: kept out of the replay, counted here."""


def _in_range(at: datetime, start: datetime, end: datetime) -> bool:
    return start <= at < end


def read_archives(paths: Sequence[Path], start: datetime, end: datetime) -> ReplayBatch:
    """News items (one JSON per line, gzip or plain) received in ``[start, end)``, merged."""
    rows: list[Row] = []
    files: list[dict[str, object]] = []
    skipped = 0
    for file_no, path in enumerate(paths):
        raw = path.read_bytes()
        files.append({"path": str(path), "sha256": hashlib.sha256(raw).hexdigest()})
        text = gzip.decompress(raw) if path.suffix == ".gz" else raw
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                stamp = _stamp.decode(line)
            except msgspec.DecodeError:
                skipped += 1
                continue
            at = stamp.received_at or stamp.published_at
            if at is None:
                skipped += 1
                continue
            if _in_range(at, start, end):
                ref = f"file://{path.name}#{line_no}"
                rows.append((at, file_no, line_no, RawMessage(value=line, ref=ref, timestamp=at)))
    rows.sort(key=lambda r: r[:3])
    return ReplayBatch(
        messages=[r[3] for r in rows],
        inputs={
            "kind": "archive",
            "files": files,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "items": len(rows),
        },
        skipped=skipped,
    )


def read_topic(
    brokers: str, topic: str, start: datetime, end: datetime, *, timeout: float = 10.0
) -> ReplayBatch:
    """Every record of ``topic`` whose timestamp is in ``[start, end)``, all partitions merged by
    timestamp. Seeks with ``offsets_for_times`` but always filters on the record's own timestamp,
    since a broker may answer the seek with an earlier offset (Tansu answers with the earliest).
    Reads each partition to its end at the time of reading; the manifest records the offset
    range read per partition, so the same range can be read again."""
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"tradewire-backtest-{topic}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=timeout)
        if topic not in meta.topics or meta.topics[topic].error is not None:
            msg = f"topic {topic!r} not found on {brokers}"
            raise LookupError(msg)
        parts = sorted(meta.topics[topic].partitions)
        millis = int(start.timestamp() * 1000)
        seeks = consumer.offsets_for_times(
            [TopicPartition(topic, p, millis) for p in parts], timeout=timeout
        )
        first = {
            tp.partition: tp.offset if tp.offset >= 0 and tp.offset != OFFSET_END else 0
            for tp in seeks
        }
        rows, ends = _consume(
            consumer, [TopicPartition(topic, p, first[p]) for p in parts], start, end, timeout
        )
    finally:
        consumer.close()
    rows.sort(key=lambda r: r[:3])
    return ReplayBatch(
        messages=[r[3] for r in rows],
        inputs={
            "kind": "kafka",
            "topic": topic,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "partitions": {str(p): {"from": first[p], "to": ends.get(p, first[p])} for p in parts},
            "items": len(rows),
        },
    )


def _consume(
    consumer: Consumer,
    assign: list[TopicPartition],
    start: datetime,
    end: datetime,
    timeout: float,
) -> tuple[list[Row], dict[int, int]]:
    """Read every assigned partition to its end (partition EOF); returns rows and, per
    partition, the offset after the last record read."""
    rows: list[Row] = []
    ends: dict[int, int] = {}
    consumer.assign(assign)
    pending = {tp.partition for tp in assign}
    idle = 0
    while pending:
        msg = consumer.poll(timeout=1.0)
        if msg is None:
            idle += 1
            if idle > timeout:
                text = f"timed out reading partitions {sorted(pending)} to their end"
                raise TimeoutError(text)
            continue
        idle = 0
        part, offset, err = msg.partition() or 0, msg.offset() or 0, msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                pending.discard(part)
                continue
            text = f"kafka error on {msg.topic()}/{part}: {err}"
            raise RuntimeError(text)
        ends[part] = offset + 1
        kind, millis = msg.timestamp()
        if kind == TIMESTAMP_NOT_AVAILABLE:
            continue
        at = datetime.fromtimestamp(millis / 1000, tz=UTC)
        if _in_range(at, start, end):
            ref = source_ref(msg.topic() or "?", part, offset)
            raw = RawMessage(value=msg.value() or b"", key=msg.key(), ref=ref, timestamp=at)
            rows.append((at, part, offset, raw))
    return rows, ends
