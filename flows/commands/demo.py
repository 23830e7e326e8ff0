"""``tradewire demo``: the whole pipeline on bundled real data, with no external services.

Replays a month of real, timestamped news (default: May 2022, the Terra/LUNA collapse) through
the signal dataflow in process, then trades the signals in event time through the playbooks,
the risk engine and the exchange simulator on real Binance hourly bars, with the simulator's
fills fed back into risk (as the execution flow does live). Prints progress and a summary, and
writes every signal, order event, trade and dead letter as JSON lines.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.bundled import NEWS_ARCHIVE
from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData
from connectors.replay import read_archives
from flows.backtest import Costs, SimResult, compute_signals, simulate
from flows.commands.args import utc_instant
from flows.runtime import model_loader
from flows.settings import FlowSettings, for_replay
from records import DeadLetter, Signal, to_json


def _write(path: Path, records: list[Any]) -> None:
    path.write_bytes(b"".join(to_json(r) + b"\n" for r in records))


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    started = time.perf_counter()
    settings = FlowSettings.load(args.config)
    trading = for_replay(settings.signal.trading, None)  # the table was learnt on this period
    start, end = args.start, args.end
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    batch = read_archives([args.news], start, end)
    console.print(
        f"[bold]Tradewire demo[/]: {len(batch.messages)} real news items, "
        f"{start:%Y-%m-%d} .. {end:%Y-%m-%d}; loading models and prices..."
    )
    predictor = model_loader(settings.model_version)
    predictor()
    prices = PriceBook.bundled()
    progress = Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("news -> signals", total=len(batch.messages))
        signals, dead = compute_signals(
            batch.messages,
            predictor,
            settings.signal,
            BarsMarketData(prices),
            batch_size=args.batch_size,
            progress=lambda n: progress.advance(task, n),
        )
        task = progress.add_task("signals -> fills", total=len(signals))
        result = simulate(
            signals,
            prices,
            trading.playbooks,
            trading.risk,
            Costs(),
            start,
            end + timedelta(days=args.settle_days),
            progress=lambda n: progress.advance(task, n),
        )
    _write(out / "signals.jsonl", signals)
    _write(out / "dead_letters.jsonl", dead)
    _write(out / "trades.jsonl", result.trades)
    (out / "orders.jsonl").write_bytes(b"".join(line + b"\n" for line in result.log))
    _orders_table(console, result)
    _summary(console, len(batch.messages), signals, dead, result, trading.risk.initial_equity)
    console.print(
        f"done in {time.perf_counter() - started:.1f}s; outputs in {out}/: signals, orders "
        "(intents, updates, fills, rejections in order), trades, dead_letters"
    )
    return 0


def _events(result: SimResult, kind: str) -> list[dict[str, Any]]:
    rows = (msgspec.json.decode(line) for line in result.log)
    return [r["record"] for r in rows if r["kind"] == kind]


def _orders_table(console: Console, result: SimResult) -> None:
    table = Table(title="Orders decided (first 25)")
    for col, width in (("decided", 11), ("playbook", 14), ("order", 18)):
        table.add_column(col, no_wrap=True, min_width=width)
    table.add_column("why", no_wrap=True, overflow="ellipsis", max_width=24)
    for intent in _events(result, "intent")[:25]:
        table.add_row(
            intent["created_at"][5:16].replace("T", " "),
            intent["playbook"],
            f"{intent['side']} {intent['quantity']} {intent['symbol']}",
            intent["reason"],
        )
    console.print(table)


def _summary(
    console: Console,
    items: int,
    signals: list[Signal],
    dead: list[DeadLetter],
    result: SimResult,
    initial: Decimal,
) -> None:
    by_type = Counter(s.event_type.value for s in signals)
    intents = _events(result, "intent")
    entries = Counter(i["playbook"] for i in intents if not i["reduce_only"])
    table = Table(title="Signals by event type")
    for col, just in (("event type", "left"), ("signals", "right"), ("orders", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for event, n in by_type.most_common():
        table.add_row(event, str(n), str(entries.get(event, 0)))
    console.print(table)

    final = result.curve[-1].equity if result.curve else initial
    wins = [t for t in result.trades if t.net_pnl > 0]
    rules = Counter(r.rule for r in result.rejections)
    res = Table(title="Result (paper, exchange simulator on Binance 1h bars)")
    res.add_column("what")
    res.add_column("value", justify="right")
    res.add_row("news items read", str(items))
    res.add_row("dead-lettered (with reason)", str(len(dead)))
    res.add_row("signals", str(len(signals)))
    res.add_row("order intents", str(len(intents)))
    res.add_row("risk rejections", ", ".join(f"{k} {v}" for k, v in rules.most_common()) or "0")
    res.add_row("fills", str(result.fills))
    res.add_row("round-trip trades (won)", f"{len(result.trades)} ({len(wins)})")
    res.add_row("fees + funding (USDT)", f"{result.fees:.2f} + {result.funding:.2f}")
    res.add_row("equity start -> end (USDT)", f"{initial:.2f} -> {final:.2f}")
    res.add_row("PnL after costs (USDT)", f"{final - initial:+.2f}")
    console.print(res)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="replay bundled real news through the flow, paper-trade it")
    p.add_argument("--news", type=Path, default=NEWS_ARCHIVE, help="NewsItem JSONL[.gz]")
    p.add_argument("--start", type=utc_instant, default="2022-05-01", help="first day (UTC, ISO)")
    p.add_argument(
        "--end", type=utc_instant, default="2022-06-01", help="day after the last (UTC, ISO)"
    )
    p.add_argument("--settle-days", type=int, default=2, help="days to let exits play out")
    p.add_argument("--out", default="out/demo", help="output folder")
    p.add_argument("--config", default=None, help="settings TOML (default flows/tradewire.toml)")
    p.add_argument("--batch-size", type=int, default=64, help="NLP batch size")
    p.set_defaults(func=run)
