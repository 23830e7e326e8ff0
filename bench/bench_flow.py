"""Benchmark of the in-process signal flow: throughput and receipt-to-decision latency.

Prints medians over repeats, and ratios against a baseline run in the same process (the same
flow with a constant predictor: what the graph costs without NLP). Two modes:

* throughput: N bundled real headlines as fast as the flow takes them (items/s);
* latency: items arrive at a fixed rate (default 20/s); for each, wall time from the moment the
  source hands it to the flow to its signal and to its order intent (p50 / p99).

    .venv/bin/python bench/bench_flow.py --items 2000 --repeats 3 --rate 20 --paced 300
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.bundled import NEWS_ARCHIVE  # noqa: E402
from connectors.marketdata.bars import PriceBook  # noqa: E402
from connectors.marketdata.snapshots import BarsMarketData  # noqa: E402
from flows.runtime import model_loader  # noqa: E402
from flows.settings import FlowSettings  # noqa: E402
from flows.signal_flow import Output, SignalFlowDeps, SignalOutputs, get_flow  # noqa: E402
from operators.classify import Predictor  # noqa: E402
from operators.normalise import RawMessage  # noqa: E402
from records import EventType, NewsItem, Sentiment, SystemClock, to_json  # noqa: E402


@dataclass(frozen=True)
class ConstantPrediction:
    event_type: EventType = EventType.OTHER
    event_confidence: float = 0.5
    sentiment: Sentiment = Sentiment.NEUTRAL
    sentiment_confidence: float = 0.5
    assets: tuple[str, ...] = ()
    entities: tuple[()] = ()
    model_version: str = "constant"


class ConstantPredictor:
    """Baseline: the flow without NLP."""

    def predict_batch(self, items: Sequence[tuple[str, str]]) -> list[ConstantPrediction]:
        return [ConstantPrediction() for _ in items]


class _Paced(StatefulSourcePartition[RawMessage, int]):
    def __init__(self, items: list[bytes], rate: float, stamps: dict[int, float]) -> None:
        self._items = items
        self._gap = 1.0 / rate if rate > 0 else 0.0
        self._stamps = stamps
        self._i = 0
        self._t0 = time.perf_counter()

    def next_batch(self) -> list[RawMessage]:
        if self._i >= len(self._items):
            raise StopIteration
        now = time.perf_counter()
        due = len(self._items) if self._gap == 0 else int((now - self._t0) / self._gap) + 1
        out = []
        while self._i < min(due, len(self._items)):
            self._stamps[self._i] = time.perf_counter()
            out.append(RawMessage(value=self._items[self._i], key=str(self._i).encode()))
            self._i += 1
        return out

    def next_awake(self) -> datetime | None:
        """Sleep until the next item is due instead of polling in a busy loop."""
        due = self._t0 + self._i * self._gap - time.perf_counter()
        return datetime.now(UTC) + timedelta(seconds=max(0.0, due))

    def snapshot(self) -> int:
        return self._i


class PacedSource(FixedPartitionedSource[RawMessage, int]):
    def __init__(self, items: list[bytes], rate: float, stamps: dict[int, float]) -> None:
        self._args = (items, rate, stamps)

    def list_parts(self) -> list[str]:
        return ["0"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _Paced:
        return _Paced(*self._args)


class _Count(StatelessSinkPartition[object]):
    def write_batch(self, items: list[object]) -> None:
        return None


class NullSink(DynamicSink[object]):
    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Count:
        return _Count()


def load_items(n: int) -> list[bytes]:
    """N real headlines; ids made unique per repeat so nothing is de-duplicated across runs."""
    out: list[bytes] = []
    with gzip.open(NEWS_ARCHIVE, "rb") as fh:
        for line in fh:
            item = msgspec.json.decode(line, type=NewsItem)
            if item.title.strip():
                out.append(to_json(item))
            if len(out) >= n:
                break
    return out


def run_once(
    items: list[bytes], predictor: Predictor, rate: float
) -> tuple[float, list[float], list[float]]:
    stamps: dict[int, float] = {}
    signal_lat: list[float] = []
    intent_lat: list[float] = []
    index_of: dict[str, int] = {}
    for i, raw in enumerate(items):
        index_of[msgspec.json.decode(raw, type=NewsItem).key] = i

    def on_signal(sig: object) -> None:
        i = index_of[sig.news_key]  # type: ignore[attr-defined]
        signal_lat.append(time.perf_counter() - stamps[i])

    def on_intent(intent: object) -> None:
        i = index_of[intent.news_key]  # type: ignore[attr-defined]
        intent_lat.append(time.perf_counter() - stamps[i])

    settings = FlowSettings.load()
    outputs = SignalOutputs(
        signals=Output(NullSink(), observe=on_signal),
        intents=Output(NullSink(), observe=on_intent),
        rejections=Output(NullSink()),
        dead_letters=Output(NullSink()),
    )
    clock = SystemClock()
    deps = SignalFlowDeps(
        predictor=lambda: predictor,
        clock=clock,
        wall=clock,
        market=BarsMarketData(PriceBook.bundled()),
    )
    config = replace(settings.signal, dedup_window=timedelta(seconds=0))
    flow = get_flow(PacedSource(items, rate, stamps), outputs, deps, config, flow_id="bench")
    started = time.perf_counter()
    run_main(flow)
    return time.perf_counter() - started, signal_lat, intent_lat


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=2000, help="items per throughput run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="items/s in the latency run")
    parser.add_argument("--paced", type=int, default=300, help="items in the latency run")
    args = parser.parse_args()

    items = load_items(args.items)
    model = model_loader(None)()
    model.predict_batch([("warm up", "bench")] * 8)
    rows = []
    for name, predictor in (
        ("baseline (constant predictor)", ConstantPredictor()),
        ("full NLP", model),
    ):
        secs = [run_once(items, predictor, 0)[0] for _ in range(args.repeats)]
        rate = len(items) / statistics.median(secs)
        rows.append((name, rate))
        runs = f"{args.repeats} runs of {len(items)}"
        print(f"{name:32s} throughput: median {rate:8.1f} items/s over {runs}")
    print(f"{'full NLP / baseline':32s} throughput ratio: {rows[1][1] / rows[0][1]:.3f}")

    _, sig, intents = run_once(items[: args.paced], model, args.rate)
    print(
        f"latency at {args.rate:g} items/s over {args.paced} items, source hand-off to signal: "
        f"p50 {pct(sig, 0.5) * 1000:.1f} ms, p99 {pct(sig, 0.99) * 1000:.1f} ms"
    )
    print(
        f"  to order intent ({len(intents)} intents): "
        f"p50 {pct(intents, 0.5) * 1000:.1f} ms, p99 {pct(intents, 0.99) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
