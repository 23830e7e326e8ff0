"""Backtest speed: the full path (news -> NLP signal flow -> trading) and the pure replay
(pre-computed signals -> playbook, risk, simulator), on the bundled 2020-2025 history.

Run: ``python bench/bench_backtest.py [--model VERSION|--keyword-model] [--start ..] [--end ..]``.
Speed is items per second of wall time and event time covered per wall second ("x real time").
``--keyword-model`` swaps the NLP model for the keyword predictor of the tests, to measure the
trading stage when no trained model is installed; its figures are labelled as such.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData
from connectors.replay import read_archives
from flows.backtest import Costs, compute_signals, simulate
from flows.commands.backtest import ARCHIVES
from flows.runtime import model_loader
from flows.settings import FlowSettings, for_replay
from operators.classify import Predictor


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--start", default="2020-05-12")
    ap.add_argument("--end", default="2025-09-19")
    ap.add_argument("--keyword-model", action="store_true")
    args = ap.parse_args()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    end = datetime.fromisoformat(args.end).replace(tzinfo=UTC)
    settings = FlowSettings.load()
    prices = PriceBook.bundled()
    batch = read_archives(list(ARCHIVES), start, end)
    n = len(batch.messages)
    if args.keyword_model:
        from tests.doubles import ScriptedPredictor

        model = ScriptedPredictor()
        predictor: Callable[[], Predictor] = lambda: model  # noqa: E731
        label = "keyword predictor (tests.doubles), NOT the NLP model"
    else:
        predictor = model_loader(settings.model_version)
        predictor()  # load outside the timing, as a long-running flow would
        label = f"NLP model {settings.model_version or '(registry pin)'}"
    span_s = (end - start).total_seconds()

    t0 = time.perf_counter()
    signals, _ = compute_signals(batch.messages, predictor, settings.signal, BarsMarketData(prices))
    t1 = time.perf_counter()
    trading = for_replay(settings.signal.trading, None)
    result = simulate(signals, prices, trading.playbooks, trading.risk, Costs(), start, end)
    t2 = time.perf_counter()
    full = t2 - t0
    print(
        f"period {start:%Y-%m-%d}..{end:%Y-%m-%d}: {n} news items, {len(signals)} signals, "
        f"{result.fills} fills, {len(result.trades)} trades; signals by {label}"
    )
    print(
        f"full path (flow + trading): {full:.2f}s = {n / full:,.0f} items/s, "
        f"{span_s / full:,.0f}x real time  [flow {t1 - t0:.2f}s, trading {t2 - t1:.2f}s]"
    )

    t3 = time.perf_counter()
    simulate(signals, prices, trading.playbooks, trading.risk, Costs(), start, end)
    replay = time.perf_counter() - t3
    print(
        f"pure replay (pre-computed signals -> playbook, risk, simulator): {replay:.2f}s = "
        f"{n / replay:,.0f} news items/s ({len(signals) / replay:,.0f} signals/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
