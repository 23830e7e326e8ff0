"""Async partition runtime: snapshots follow emitted items, crashes restart, silence reported."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from connectors.sources.runtime import AsyncPartition, Emitter
from records import NewsItem
from tests.connectors.sources._sourcekit import T0, drain, run_out


def item(n: int) -> NewsItem:
    return NewsItem(source="unit", id=str(n), title=f"item {n}", published_at=T0, received_at=T0)


def test_snapshot_is_the_state_after_the_last_emitted_item() -> None:
    async def worker(state: int, emitter: Emitter[int]) -> None:
        for n in range(state, 5):
            await emitter.emit([item(n)], n + 1)

    part = AsyncPartition("unit-a", 2, worker)
    assert [i.id for i in run_out(part)] == ["2", "3", "4"]
    assert part.snapshot() == 5


def test_a_crashing_worker_restarts_from_its_last_handed_over_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import connectors.sources.runtime as runtime
    from connectors.sources.backoff import ExponentialBackoff

    monkeypatch.setattr(runtime, "_RESTART", ExponentialBackoff(0.01, 0.02))
    calls: list[int] = []

    async def worker(state: int, emitter: Emitter[int]) -> None:
        calls.append(state)
        await emitter.emit([item(state)], state + 1)
        if len(calls) == 1:
            raise RuntimeError("bug in a parser")

    part = AsyncPartition("unit-b", 0, worker)
    assert [i.id for i in run_out(part)] == ["0", "1"]
    assert calls == [0, 1]


def test_silence_is_logged_and_exported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    emitter: Emitter[int] = Emitter("unit-quiet", 0)
    emitter.check_silence(0.0)
    assert REGISTRY.get_sample_value("tradewire_source_silent", {"source": "unit-quiet"}) == 1
    assert "source unit-quiet silent" in caplog.text
    emitter.offer([item(1)], 1)
    assert REGISTRY.get_sample_value("tradewire_source_silent", {"source": "unit-quiet"}) == 0
    assert REGISTRY.get_sample_value("tradewire_source_items_total", {"source": "unit-quiet"}) == 1


def test_a_silent_partition_reports_through_its_watchdog(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    caplog.set_level(logging.WARNING)

    async def worker(state: int, emitter: Emitter[int]) -> None:
        await asyncio.sleep(30)

    part = AsyncPartition("unit-silent", 0, worker, silence_after_s=0.05)
    try:
        drain(part, lambda _: "source unit-silent silent" in caplog.text)
    finally:
        part.close()
