"""``tradewire reactions``: build the price-reaction table from the labelled headlines.

Reads every labelled headline with a publication time, measures its asset's forward returns on
the bundled Binance bars (15 min where 5-minute bars exist, 1 h and 4 h) against random times in
the same month, prints the table and writes ``models/reactions/<version>.json``. Pin the
printed version in ``flows/playbooks.toml`` (``[defaults] reactions``) to size trades with it.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from flows.commands.args import utc_instant
from models.reaction_table import ReactionArtefact, ReactionRow

if TYPE_CHECKING:
    from connectors.marketdata.bars import BarSeries

BARS = {"BTC": "BTCUSDT", "ETH": "ETHUSDT"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "reactions", help="typical price reaction per event type and asset (15m / 1h / 4h)"
    )
    parser.add_argument(
        "--labelled", type=Path, default=None, help="folder of labelled *.jsonl (default: bundled)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the artefact (default models/reactions)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random control times")
    parser.add_argument(
        "--controls", type=int, default=20, help="random control instants per event (default 20)"
    )
    parser.add_argument(
        "--until",
        type=utc_instant,
        default=None,
        help="only returns complete by this UTC instant (ISO): a table a backtest starting "
        "then may use without learning from its own future",
    )
    parser.add_argument(
        "--min-samples", type=int, default=20, help="rows with fewer events are shown dimmed"
    )
    parser.set_defaults(func=run)


@functools.cache
def bundled_prices() -> tuple[dict[str, list[BarSeries]], dict[str, str]]:
    """Every bundled bar series per asset (finest first is chosen per return) and the sha256
    of each file; read once per process (parsing the 5-minute files takes seconds)."""
    from connectors.bundled import PRICES_DIR
    from connectors.marketdata.bars import BUNDLED, load_bundled

    prices: dict[str, list[BarSeries]] = {}
    inputs: dict[str, str] = {}
    for asset, symbol in BARS.items():
        prices[asset] = [load_bundled(symbol, interval) for interval in BUNDLED]
        for pattern, _ in BUNDLED.values():
            name = pattern.format(symbol=symbol)
            inputs[name] = hashlib.sha256((PRICES_DIR / name).read_bytes()).hexdigest()
    return prices, inputs


def run(args: argparse.Namespace) -> int:
    from models import dataset, reaction_table, reactions

    if args.controls < 1:
        print("error: --controls must be >= 1")
        return 2
    try:
        examples = (
            dataset.load_labelled(args.labelled) if args.labelled else dataset.load_labelled()
        )
        prices, inputs = bundled_prices()
    except (dataset.DatasetError, OSError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    events, counts = reactions.events_from(examples)
    artefact = reactions.build(
        events,
        prices,
        inputs=inputs,
        seed=args.seed,
        controls=args.controls,
        counts=counts,
        until=args.until,
    )
    path = reaction_table.write_artefact(artefact, args.out or reaction_table.REACTIONS_DIR)
    render(artefact, args.min_samples)
    print(f"wrote {path}")
    print(f'pin it in flows/playbooks.toml: [defaults] reactions = "{artefact.version}"')
    return 0


def render(artefact: ReactionArtefact, min_samples: int) -> None:
    """One line per (event type, asset): mean |1h move| after the news vs matched control
    times, the ratio at each horizon, and the 1h drift and share of rises."""
    from rich.console import Console
    from rich.table import Table

    rows: dict[tuple[str, str], dict[str, ReactionRow]] = {}
    for r in artefact.rows:
        if r.sentiment is None:
            rows.setdefault((r.event_type.value, r.asset), {})[r.horizon] = r
    table = Table(title=f"price reaction {artefact.version} (x: news |move| / control |move|)")
    for name in ("event", "asset", "n", "|1h|", "ctl |1h|", "x1h", "x4h", "n15m", "x15m"):
        table.add_column(name, justify="left" if name in ("event", "asset") else "right")
    table.add_column("mean 1h", justify="right")
    table.add_column("up 1h", justify="right")
    for (event_type, asset), by_h in rows.items():
        one = by_h.get("1h")
        four = by_h.get("4h")
        quarter = by_h.get("15m")
        table.add_row(
            event_type,
            asset,
            str(one.events.n) if one else "0",
            f"{one.events.mean_abs:.2%}" if one else "-",
            f"{one.baseline.mean_abs:.2%}" if one and one.baseline else "-",
            _ratio(one),
            _ratio(four),
            str(quarter.events.n) if quarter else "0",
            _ratio(quarter),
            f"{one.events.mean:+.2%}" if one else "-",
            f"{one.events.share_positive:.0%}" if one else "-",
            style="dim" if one is None or one.events.n < min_samples else None,
        )
    console = Console(width=max(Console().width, 100))
    console.print(table)
    base_line = ", ".join(
        f"{b.asset} {b.horizon} {b.stats.mean_abs:.2%}" for b in artefact.baselines
    )
    console.print(f"control mean |return| (all controls): {base_line}")
    console.print(f"counts: {artefact.counts}")


def _ratio(row: ReactionRow | None) -> str:
    ratio = row.ratio if row is not None else None
    return "-" if ratio is None else f"{ratio:.2f}"
