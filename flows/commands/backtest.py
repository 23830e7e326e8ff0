"""``tradewire backtest``: replay history through the live flow, fill on bars, report honestly.

Input is a JSONL news archive (default: the bundled history), a Kafka topic between two times,
or pre-computed signals (pure replay: no NLP). Outputs in ``--out``: ``manifest.json`` (inputs,
config, model version), ``orders.jsonl`` (every intent, update, fill, rejection, in order),
``trades.jsonl``, ``signals.jsonl``, ``summary.json`` and ``report.html``.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData
from connectors.replay import ReplayBatch, read_archives, read_topic
from connectors.reports import write_html, write_json
from flows.backtest import Costs, SimResult, compute_signals, simulate, walk_forward
from flows.backtest_report import benchmark, evaluate, report_input, terminal_table
from flows.commands.args import utc_instant
from flows.runtime import model_loader
from flows.settings import FlowSettings, for_replay
from records import Signal, from_json, to_json

DATA = Path(__file__).resolve().parents[2] / "data"
ARCHIVES = (
    DATA / "news" / "cryptonews_2021-10_2022-07.jsonl.gz",
    DATA / "backtest" / "events.jsonl.gz",
)
NOTES = (
    "Fills: simulator on Binance spot bars; a decision at t fills no earlier than the first bar "
    "opening at t + latency. Funding is a constant rate (no funding history is bundled).",
    "Date-only sources (DeFiHackLabs, SEC actions, labelled events, unscheduled FOMC) are "
    "stamped after the day they report (see data/backtest/README.md): trades on them are late, "
    "never early.",
    "The classifier may have been trained on headlines from this period; see the model card.",
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _load_signals(path: Path, start: datetime, end: datetime) -> list[Signal]:
    with path.open("rb") as fh:
        sigs = [from_json(line, Signal) for line in fh if line.strip()]
    return [s for s in sigs if start <= s.received_at < end]


def _costs(args: argparse.Namespace) -> Costs:
    return Costs(
        taker_fee_bps=Decimal(args.taker_fee_bps),
        maker_fee_bps=Decimal(args.maker_fee_bps),
        slippage=args.slippage,
        slippage_bps=Decimal(args.slippage_bps),
        volatility_multiple=Decimal(args.volatility_multiple),
        latency=timedelta(seconds=args.latency_seconds),
        funding_rate_8h=Decimal(args.funding_rate),
    )


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    started = time.perf_counter()
    settings = FlowSettings.load(args.config)
    trading = for_replay(settings.signal.trading, args.reactions)
    start, end = args.start, args.end
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    prices = PriceBook.bundled(interval=args.interval)
    costs = _costs(args)
    manifest: dict[str, Any] = {
        "command": "backtest",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "interval": args.interval,
        "costs": costs.manifest(),
        "config": {
            "path": str(args.config or "flows/tradewire.toml"),
            "trading_path": str(settings.trading_path),
            "trading_sha256": _sha(settings.trading_path),
        },
        "model_version_requested": settings.model_version,
        "reaction_table": args.reactions,
    }
    with _progress(console) as progress:
        if args.signals:
            signals = _load_signals(Path(args.signals), start, end)
            manifest["inputs"] = {
                "kind": "signals",
                "path": args.signals,
                "sha256": _sha(Path(args.signals)),
                "items": len(signals),
            }
        else:
            batch: ReplayBatch = (
                read_topic(args.brokers, args.topic, start, end)
                if args.topic
                else read_archives([Path(p) for p in args.news or ARCHIVES], start, end)
            )
            manifest["inputs"] = batch.inputs
            task = progress.add_task("news -> signals", total=len(batch.messages))
            predictor = model_loader(settings.model_version)
            signals, dead = compute_signals(
                batch.messages,
                predictor,
                settings.signal,
                BarsMarketData(prices),
                batch_size=args.batch_size,
                progress=lambda n: progress.advance(task, n),
            )
            manifest["dead_letters"] = len(dead)
        manifest["model_versions"] = sorted({s.model_version for s in signals})
        with (out / "signals.jsonl").open("wb") as fh:
            fh.writelines(to_json(s) + b"\n" for s in signals)
        passes = 1 + (len(args.thresholds) if args.walk_forward else 0)
        task = progress.add_task("signals -> fills", total=len(signals) * passes)
        tick = lambda n: progress.advance(task, n)  # noqa: E731
        if args.walk_forward:
            wf = walk_forward(
                signals,
                prices,
                trading.playbooks,
                trading.risk,
                costs,
                start,
                end,
                train=timedelta(days=args.train_days),
                test=timedelta(days=args.test_days),
                thresholds=args.thresholds,
                progress=tick,
            )
            result, title = wf.oos, "Backtest: walk-forward, out-of-sample only"
            manifest["walk_forward"] = {
                "train_days": args.train_days,
                "test_days": args.test_days,
                "thresholds": wf.thresholds,
                "folds": [
                    {
                        **{
                            k: v.isoformat()
                            for k, v in (
                                ("train_start", f.train_start),
                                ("train_end", f.train_end),
                                ("test_start", f.test_start),
                                ("test_end", f.test_end),
                            )
                        },
                        "chosen_min_confidence": c,
                        "in_sample_sharpe": s,
                    }
                    for f, c, s in zip(wf.folds, wf.chosen, wf.in_sample, strict=True)
                ],
            }
        else:
            result = simulate(
                signals, prices, trading.playbooks, trading.risk, costs, start, end, progress=tick
            )
            title = "Backtest"
    _write(out, manifest, result, prices, trading.playbooks.symbols.values(), title, console)
    console.print(f"done in {time.perf_counter() - started:.1f}s; outputs in {out}/")
    return 0


def _write(
    out: Path,
    manifest: dict[str, Any],
    result: SimResult,
    prices: PriceBook,
    symbols: Any,
    title: str,
    console: Console,
) -> None:
    traded = sorted(set(symbols))
    perf = evaluate(result.trades, result.curve, prices, traded)
    curve = result.curve
    bench = benchmark(prices, traded, curve[0].time, curve[-1].time, curve[0].equity)
    (out / "orders.jsonl").write_bytes(b"".join(line + b"\n" for line in result.log))
    (out / "trades.jsonl").write_bytes(b"".join(to_json(t) + b"\n" for t in result.trades))
    manifest = {
        **manifest,
        "orders_sha256": hashlib.sha256((out / "orders.jsonl").read_bytes()).hexdigest(),
        "rejections": len(result.rejections),
        "fills": result.fills,
    }
    write_json(out / "manifest.json", manifest)
    write_json(out / "summary.json", {"title": title, "performance": perf})
    write_html(
        out / "report.html", report_input(title, perf, curve, bench, result.trades, prices, NOTES)
    )
    for table in terminal_table(title, perf):
        console.print(table)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backtest", help="replay history through the flow and report performance")
    p.add_argument(
        "--start", type=utc_instant, default="2020-05-12", help="first instant (UTC, ISO)"
    )
    p.add_argument(
        "--end", type=utc_instant, default="2025-09-19", help="end instant, exclusive (UTC, ISO)"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--news", action="append", help="NewsItem JSONL[.gz] (repeatable)")
    src.add_argument("--topic", help="Kafka topic to replay by time range (needs --brokers)")
    src.add_argument("--signals", help="pre-computed signals JSONL: pure replay, no NLP")
    p.add_argument("--brokers", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    p.add_argument("--interval", choices=("1h", "5m"), default="1h", help="bundled bar interval")
    p.add_argument("--config", default=None, help="settings TOML (default flows/tradewire.toml)")
    p.add_argument("--out", default="out/backtest", help="output folder")
    p.add_argument("--batch-size", type=int, default=256, help="NLP batch size")
    p.add_argument("--latency-seconds", type=float, default=2.0)
    p.add_argument("--taker-fee-bps", default="5.5")
    p.add_argument("--maker-fee-bps", default="2")
    p.add_argument("--slippage", choices=("fixed", "volatility"), default="fixed")
    p.add_argument("--slippage-bps", default="2", help="fixed slippage per taker fill")
    p.add_argument(
        "--volatility-multiple",
        default="0.1",
        help="volatility slippage: this x mean bar range of the last 24 bars",
    )
    p.add_argument(
        "--reactions",
        default=None,
        help="price-reaction table for sizing (version or .json); build it with "
        "`tradewire reactions --until <start>` so it knows nothing of the replayed period",
    )
    p.add_argument("--funding-rate", default="0.0001", help="perpetual funding per 8 h")
    p.add_argument(
        "--walk-forward",
        action="store_true",
        help="tune min confidence per training window; report out-of-sample only",
    )
    p.add_argument("--train-days", type=int, default=365)
    p.add_argument("--test-days", type=int, default=91)
    p.add_argument(
        "--thresholds",
        type=float,
        nargs="+",
        default=[0.9, 0.8, 0.7, 0.0],
        help="candidate minimum signal confidences for walk-forward",
    )
    p.set_defaults(func=run)
