from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main

from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData
from flows.settings import FlowSettings
from flows.signal_flow import Output, SignalFlowDeps, SignalOutputs, get_flow
from operators.normalise import RawMessage
from records import DeadLetter, EventType, ManualClock, OrderIntent, RiskRejection, Side, Signal
from tests.doubles import ScriptedPredictor, news_bytes

T0 = datetime(2022, 5, 9, 12, tzinfo=UTC)
MARKET = BarsMarketData(PriceBook.bundled())
SETTINGS = FlowSettings.load()


@dataclass
class Run:
    signals: list[Signal] = field(default_factory=list)
    intents: list[OrderIntent] = field(default_factory=list)
    rejections: list[RiskRejection] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    predictor: ScriptedPredictor = field(default_factory=ScriptedPredictor)


def _run(raws: list[RawMessage], workers: int = 1, batch: int = 4) -> Run:
    run = Run()
    outputs = SignalOutputs(
        signals=Output(TestingSink(run.signals)),
        intents=Output(TestingSink(run.intents)),
        rejections=Output(TestingSink(run.rejections)),
        dead_letters=Output(TestingSink(run.dead)),
    )
    clock = ManualClock(T0)
    deps = SignalFlowDeps(predictor=lambda: run.predictor, clock=clock, wall=clock, market=MARKET)
    config = replace(SETTINGS.signal, source_reliability={"sec.gov": 0.99, "default": 0.8})
    flow = get_flow(TestingSource(raws, batch_size=batch), outputs, deps, config)
    if workers == 1:
        run_main(flow)
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)
    return run


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
    run = _run(STREAM, workers=workers)
    by_news = {s.news_key: s for s in run.signals}
    assert set(by_news) == {"wire:1", "sec.gov:2", "other-wire:3", "wire:6"}
    hack, corroborated = by_news["wire:1"], by_news["other-wire:3"]
    assert hack.event_type is EventType.HACK and hack.assets == ("ETH",)
    assert (hack.corroboration, corroborated.corroboration) == (1, 2)
    assert hack.story_id == corroborated.story_id
    assert corroborated.confidence > hack.confidence
    assert by_news["sec.gov:2"].confidence == pytest.approx(0.9 * 0.99)
    assert sorted(d.stage for d in run.dead) == ["classify", "normalise", "normalise"]
    poisoned = next(d for d in run.dead if d.stage == "classify")
    assert poisoned.key == "wire:5" and "model exploded" in poisoned.reason
    assert {d.key for d in run.dead if d.stage == "normalise"} == {"bad-1", "bad-2"}


@pytest.mark.parametrize("workers", [1, 2])
def test_signals_become_risk_checked_order_intents(workers: int) -> None:
    run = _run(STREAM, workers=workers)
    signals = {s.signal_id: s for s in run.signals}
    assert run.intents, "the hack on ETH should trade"
    for intent in run.intents:
        origin = signals[intent.signal_id]
        assert intent.news_key == origin.news_key
        assert intent.model_version == origin.model_version == "scripted-1"
        assert intent.quantity > 0
    hack_orders = [i for i in run.intents if signals[i.signal_id].event_type is EventType.HACK]
    assert {(i.symbol, i.side) for i in hack_orders} == {("ETHUSDT", Side.SELL)}
    # the corroborating copy of the same story must not trade a second time
    assert len(hack_orders) == 1
    assert all(r.reason for r in run.rejections)


def test_replay_gives_identical_intents() -> None:
    first, second = _run(STREAM), _run(STREAM)
    assert [i.client_order_id for i in first.intents] == [i.client_order_id for i in second.intents]
    assert first.intents == second.intents


def test_inference_is_batched() -> None:
    raws = [_raw(f"story number {i}", "wire", i, str(i)) for i in range(12)]
    run = _run(raws, batch=6)
    assert len(run.signals) == 12
    assert max(run.predictor.batch_sizes) > 1
