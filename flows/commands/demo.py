"""``tradewire demo``: the whole pipeline on bundled real data, with no external services.

Replays timestamped news (default: May 2022) through the signal flow in process, paper-fills the
order intents on the exchange simulator against real Binance hourly bars, prints progress and a
summary, and writes every signal, order, rejection, fill and dead letter as JSON lines.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bytewax.testing import run_main
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.bundled import NEWS_ARCHIVE
from connectors.jsonl import JsonlSink, JsonlSource, jsonl_item, open_lines, received_between
from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData
from flows.paper import PaperResult, paper_trade
from flows.runtime import model_loader
from flows.settings import FlowSettings
from flows.signal_flow import Output, SignalFlowDeps, SignalOutputs, get_flow
from records import (
    DeadLetter,
    OrderIntent,
    RiskRejection,
    Signal,
    SystemClock,
    from_json,
    to_json,
)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _count_lines(path: Path, start: datetime, end: datetime) -> int:
    keep = received_between(start, end)
    with open_lines(path) as fh:
        return sum(1 for line in fh if line.strip() and keep(line.rstrip(b"\n")))


def _read(path: Path, kind: type) -> list:  # type: ignore[type-arg]
    if not path.exists():
        return []
    with path.open("rb") as fh:
        return [from_json(line, kind) for line in fh if line.strip()]


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    started = time.perf_counter()
    settings = FlowSettings.load(args.config)
    start, end = _utc(args.start), _utc(args.end)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total = _count_lines(args.news, start, end)
    console.print(f"[bold]Tradewire demo[/]: {total} news items {start:%Y-%m-%d} .. {end:%Y-%m-%d}")
    console.print("loading models and prices...")
    predictor = model_loader(settings.model_version)
    predictor()
    prices = PriceBook.bundled()
    counts: Counter[str] = Counter()

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
        transient=False,
    )
    task = progress.add_task("news", total=total, status="")

    def seen(kind: str, advance: int = 0) -> None:
        counts[kind] += 1
        status = (
            f"signals {counts['signal']}  orders {counts['intent']}  "
            f"rejected {counts['rejection']}  dead {counts['dead']}"
        )
        progress.update(task, advance=advance, status=status)

    def on_signal(s: Signal) -> None:
        seen("signal", 1)
        if s.event_type.value != "OTHER" and args.verbose_signals:
            progress.console.print(
                f"  {s.received_at:%m-%d %H:%M} {s.event_type.value:<14} "
                f"{s.sentiment.value:<8} {','.join(s.assets):<10} {s.title[:70]}"
            )

    def on_intent(i: OrderIntent) -> None:
        seen("intent")
        progress.console.print(
            f"  [green]order[/] {i.created_at:%m-%d %H:%M} {i.side.value} {i.quantity} {i.symbol} "
            f"({i.playbook}, {i.reason[:60]})"
        )

    outputs = SignalOutputs(
        signals=Output(JsonlSink(out / "signals.jsonl"), jsonl_item, on_signal),
        intents=Output(JsonlSink(out / "orders.jsonl"), jsonl_item, on_intent),
        rejections=Output(
            JsonlSink(out / "rejections.jsonl"), jsonl_item, lambda _r: seen("rejection")
        ),
        dead_letters=Output(
            JsonlSink(out / "dead_letters.jsonl"), jsonl_item, lambda _d: seen("dead", 1)
        ),
    )
    clock = SystemClock()
    deps = SignalFlowDeps(
        predictor=predictor, clock=clock, wall=clock, market=BarsMarketData(prices)
    )
    source = JsonlSource([args.news], batch_size=args.batch_size, keep=received_between(start, end))
    flow = get_flow(source, outputs, deps, settings.signal, flow_id="demo")
    with progress:
        run_main(flow)
    flow_seconds = time.perf_counter() - started

    signals: list[Signal] = _read(out / "signals.jsonl", Signal)
    intents: list[OrderIntent] = _read(out / "orders.jsonl", OrderIntent)
    rejections: list[RiskRejection] = _read(out / "rejections.jsonl", RiskRejection)
    dead: list[DeadLetter] = _read(out / "dead_letters.jsonl", DeadLetter)
    until = end + timedelta(days=2)
    paper = paper_trade(intents, prices, balance=Decimal(args.balance), until=until)
    with (out / "fills.jsonl").open("wb") as fh:
        fh.writelines(to_json(f) + b"\n" for f in paper.fills)
    with (out / "order_updates.jsonl").open("wb") as fh:
        fh.writelines(to_json(u) + b"\n" for u in paper.updates)
    _summary(console, total, signals, intents, rejections, dead, paper)
    console.print(
        f"flow {flow_seconds:.1f}s, total {time.perf_counter() - started:.1f}s; "
        f"outputs in {out}/ (signals, orders, rejections, order_updates, fills, dead_letters)"
    )
    return 0


def _summary(
    console: Console,
    total: int,
    signals: list[Signal],
    intents: list[OrderIntent],
    rejections: list[RiskRejection],
    dead: list[DeadLetter],
    paper: PaperResult,
) -> None:
    by_type = Counter(s.event_type.value for s in signals)
    table = Table(title="Signals by event type")
    table.add_column("event type")
    table.add_column("signals", justify="right")
    table.add_column("orders", justify="right")
    orders_by_type = Counter(i.playbook for i in intents)
    for event, n in by_type.most_common():
        table.add_row(event, str(n), str(orders_by_type.get(event, 0)))
    console.print(table)

    rules = Counter(r.rule for r in rejections)
    res = Table(title="Result")
    res.add_column("what")
    res.add_column("value", justify="right")
    res.add_row("news items read", str(total))
    res.add_row("dead-lettered", str(len(dead)))
    res.add_row("signals", str(len(signals)))
    res.add_row("order intents", str(len(intents)))
    res.add_row("risk rejections", ", ".join(f"{k} {v}" for k, v in rules.most_common()) or "0")
    res.add_row("fills", str(len(paper.fills)))
    res.add_row("fees (USDT)", f"{paper.fees:.2f}")
    for p in paper.positions:
        res.add_row(
            f"{p.symbol} realised / unrealised",
            f"{p.realised_pnl:.2f} / {p.unrealised_pnl:.2f}",
        )
    res.add_row("equity start -> end (USDT)", f"{paper.start_equity:.2f} -> {paper.end_equity:.2f}")
    res.add_row("PnL (USDT, after fees)", f"{paper.pnl:+.2f}")
    console.print(res)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="replay bundled real news through the flow, paper-trade it")
    p.add_argument(
        "--news", type=Path, default=NEWS_ARCHIVE, help="news archive (NewsItem JSONL[.gz])"
    )
    p.add_argument("--start", default="2022-05-01", help="first day (UTC, ISO)")
    p.add_argument("--end", default="2022-06-01", help="day after the last (UTC, ISO)")
    p.add_argument("--out", default="out/demo", help="output folder")
    p.add_argument("--balance", default="10000", help="starting USDT per market account")
    p.add_argument("--config", default=None, help="settings TOML (default flows/tradewire.toml)")
    p.add_argument("--batch-size", type=int, default=64, help="items per source batch")
    p.add_argument("--verbose-signals", action="store_true", help="print every non-OTHER signal")
    p.set_defaults(func=run)
