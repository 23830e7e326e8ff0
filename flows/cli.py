"""The ``tradewire`` command line: one sub-command per module in ``flows.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

COMMANDS = (
    "flows.commands.demo",
    "flows.commands.classify",
    "flows.commands.exchange_sim",
    "flows.commands.ingest",
    "flows.commands.backtest",
    "flows.commands.topics",
    "flows.commands.train",
    "flows.commands.evaluate",
    "flows.commands.reactions",
    "flows.commands.risk",
)
"""Modules that each expose ``register(subparsers)``; their parser sets ``func``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewire", description="Crypto news to risk-checked orders."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
