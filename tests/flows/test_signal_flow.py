from datetime import UTC, datetime, timedelta

import pytest
from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main

from flows.signal_flow import Output, SignalFlowConfig, SignalFlowDeps, SignalOutputs, get_flow
from operators.normalise import RawMessage
from records import DeadLetter, EventType, ManualClock, Signal
from tests.doubles import ScriptedPredictor, news_bytes

T0 = datetime(2022, 5, 9, 12, tzinfo=UTC)


def _run(
    raws: list[RawMessage], workers: int = 1, batch: int = 4
) -> tuple[list[Signal], list[DeadLetter], ScriptedPredictor]:
    predictor = ScriptedPredictor()
    signals: list[Signal] = []
    dead: list[DeadLetter] = []
    unused: list[object] = []
    outputs = SignalOutputs(
        signals=Output(TestingSink(signals)),
        intents=Output(TestingSink(unused)),
        rejections=Output(TestingSink(unused)),
        dead_letters=Output(TestingSink(dead)),
    )
    clock = ManualClock(T0)
    deps = SignalFlowDeps(predictor=lambda: predictor, clock=clock, wall=clock)
    flow = get_flow(
        TestingSource(raws, batch_size=batch),
        outputs,
        deps,
        SignalFlowConfig(source_reliability={"sec.gov": 0.99, "default": 0.8}),
    )
    if workers == 1:
        run_main(flow)
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)
    return signals, dead, predictor


def _raw(
    title: str, source: str = "wire", minutes: int = 0, item_id: str | None = None
) -> RawMessage:
    return RawMessage(
        value=news_bytes(title, source=source, item_id=item_id, at=T0 + timedelta(minutes=minutes))
    )


STREAM = [
    _raw("Ronin bridge hack drains $600M in ETH", "wire", 0, "1"),
    _raw("SEC sues exchange over bitcoin lending", "sec.gov", 1, "2"),
    RawMessage(value=b"{broken", key=b"bad-1"),
    _raw("Ronin bridge hack drains $600M in ETH", "other-wire", 2, "3"),
    _raw("Ronin bridge hack drains $600M in ETH", "wire", 3, "4"),
    RawMessage(value=b"\xc3\x28 not utf8", key=b"bad-2"),
    _raw("boom goes the model", "wire", 4, "5"),
    _raw("Binance lists PEPE", "wire", 5, "6"),
]


@pytest.mark.parametrize("workers", [1, 2])
def test_flow_classifies_dedups_and_dead_letters(workers: int) -> None:
    signals, dead, _ = _run(STREAM, workers=workers)
    by_news = {s.news_key: s for s in signals}
    assert set(by_news) == {"wire:1", "sec.gov:2", "other-wire:3", "wire:6"}
    hack, corroborated = by_news["wire:1"], by_news["other-wire:3"]
    assert hack.event_type is EventType.HACK and hack.assets == ("ETH",)
    assert (hack.corroboration, corroborated.corroboration) == (1, 2)
    assert hack.story_id == corroborated.story_id
    assert corroborated.confidence > hack.confidence
    assert by_news["sec.gov:2"].confidence == pytest.approx(0.9 * 0.99)
    assert sorted(d.stage for d in dead) == ["classify", "normalise", "normalise"]
    poisoned = next(d for d in dead if d.stage == "classify")
    assert poisoned.key == "wire:5" and "model exploded" in poisoned.reason
    assert {d.key for d in dead if d.stage == "normalise"} == {"bad-1", "bad-2"}


def test_inference_is_batched() -> None:
    raws = [_raw(f"story number {i}", "wire", i, str(i)) for i in range(12)]
    signals, _, predictor = _run(raws, batch=6)
    assert len(signals) == 12
    assert max(predictor.batch_sizes) > 1
