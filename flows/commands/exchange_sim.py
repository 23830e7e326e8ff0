"""``tradewire exchange-sim``: the Bybit/Binance-speaking exchange simulator on loopback.

Keys come from TRADEWIRE_SIM_API_KEY / TRADEWIRE_SIM_API_SECRET (defaults are public test
values: the simulator holds no real money). Market time either follows the wall clock from
``--start`` (``--speed 1``) or replays bars faster (``--speed 3600``: one hour of bars a second).
"""

from __future__ import annotations

import argparse
import logging
import os
from decimal import Decimal

from connectors.marketdata.bars import PriceBook
from connectors.venues.simulator.engine import EngineConfig
from connectors.venues.simulator.exchange import ExchangeSimulator, RateLimit, ReplayClock
from connectors.venues.simulator.server import LOOPBACK, serve
from flows.commands.args import utc_instant

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("exchange-sim", help="run the Bybit/Binance exchange simulator")
    p.add_argument("--host", default=LOOPBACK, help="bind address (loopback only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--bars", choices=("1h", "5m"), default="1h")
    p.add_argument(
        "--start",
        type=utc_instant,
        default="2024-01-01T00:00:00+00:00",
        help="ISO market start time",
    )
    p.add_argument("--speed", type=float, default=1.0, help="market seconds per wall second")
    p.add_argument("--balance", default="10000", help="starting USDT per account")
    p.add_argument("--taker-bps", default="5.5")
    p.add_argument("--maker-bps", default="2")
    p.add_argument("--slippage-bps", default="1")
    p.add_argument("--rate-limit", type=int, default=600, help="requests per key per minute")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.host not in (LOOPBACK, "localhost", "::1"):
        log.error("refusing to bind %s: the simulator only listens on loopback", args.host)
        return 2
    start = args.start
    key = os.environ.get("TRADEWIRE_SIM_API_KEY", "sim-key")
    secret = os.environ.get("TRADEWIRE_SIM_API_SECRET", "sim-secret")
    sim = ExchangeSimulator(
        PriceBook.bundled(("BTCUSDT", "ETHUSDT"), args.bars),
        ReplayClock(start, speed=args.speed),
        api_keys={key: secret},
        balances={"USDT": Decimal(args.balance)},
        config=EngineConfig(
            taker_fee_bps=Decimal(args.taker_bps),
            maker_fee_bps=Decimal(args.maker_bps),
            slippage_bps=Decimal(args.slippage_bps),
        ),
        rate_limit=RateLimit(capacity=args.rate_limit, per_second=args.rate_limit / 60),
    )
    log.info(
        "exchange simulator on http://%s:%d (market time from %s)", args.host, args.port, start
    )
    serve(sim, args.host, args.port)
    return 0
