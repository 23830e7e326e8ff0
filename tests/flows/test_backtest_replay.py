"""Replay inputs: a real Tansu topic read by time range, and archives through the signal flow."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData
from connectors.replay import read_archives, read_topic
from flows.backtest import compute_signals
from flows.commands.topics import load_topic
from flows.settings import FlowSettings
from records import EventType, NewsItem, to_json
from tests.doubles import ScriptedPredictor

T0 = datetime(2022, 5, 9, 12, tzinfo=UTC)
TITLES = ["Ronin bridge hack drains ETH", "SEC sues exchange over bitcoin lending",
          "Binance lists PEPE", "Ronin bridge hack drains ETH", "weather is nice"]  # fmt: skip


def _archive(tmp_path: Path) -> Path:
    items = [
        NewsItem(source=f"wire{i % 2}", id=str(i), title=t,
                 published_at=T0 + i * timedelta(hours=1),
                 received_at=T0 + i * timedelta(hours=1) + timedelta(minutes=5))
        for i, t in enumerate(TITLES)
    ]  # fmt: skip
    path = tmp_path / "news.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(to_json(i) + b"\n" for i in reversed(items))))
    return path


def test_archive_is_merged_in_event_time_and_cut_to_range(tmp_path: Path) -> None:
    path = _archive(tmp_path)
    batch = read_archives([path], T0 + timedelta(hours=1), T0 + timedelta(hours=4))
    assert [m.timestamp for m in batch.messages] == [
        T0 + timedelta(hours=h, minutes=5) for h in (1, 2, 3)
    ]
    assert batch.inputs["files"][0]["sha256"]  # type: ignore[index]


def test_signals_come_from_the_live_flow_on_event_time(tmp_path: Path) -> None:
    batch = read_archives([_archive(tmp_path)], T0, T0 + timedelta(days=1))
    settings = FlowSettings.load()
    predictor = ScriptedPredictor()
    signals, dead = compute_signals(
        batch.messages, lambda: predictor, settings.signal, BarsMarketData(PriceBook.bundled())
    )
    assert not dead
    assert [s.received_at for s in signals] == sorted(s.received_at for s in signals)
    hack = [s for s in signals if s.event_type is EventType.HACK]
    # the repeat comes 3 hours later in event time: outside the 30-minute window, a new story
    assert [h.corroboration for h in hack] == [1, 1]
    assert all(s.received_at == s.published_at + timedelta(minutes=5) for s in signals)


@pytest.mark.integration
def test_replay_from_tansu_topic_by_time_range(tansu: str, tmp_path: Path) -> None:
    topic = f"news-raw-{uuid.uuid4().hex[:8]}"
    assert load_topic(tansu, topic, [_archive(tmp_path)], partitions=3) == len(TITLES)
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=4)
    batch = read_topic(tansu, topic, start, end)
    # only records stamped in [start, end), every partition, merged in event-time order
    stamps = [m.timestamp for m in batch.messages]
    assert stamps == [T0 + timedelta(hours=h, minutes=5) for h in (1, 2, 3)]
    assert all(m.ref and m.ref.startswith(f"kafka://{topic}/") for m in batch.messages)
    parts = cast(dict[str, dict[str, int]], batch.inputs["partitions"])
    assert sum(p["to"] for p in parts.values()) == len(TITLES)  # every record was seen
    again = read_topic(tansu, topic, start, end)
    assert [m.value for m in again.messages] == [m.value for m in batch.messages]
