"""Paper-fill order intents on the in-process exchange simulator, in event time.

Used by the demo: the intents the flow decided are submitted, in the order and at the time they
were decided, to ``SimulatedExecutionClient`` (the same ExecutionClient interface as Bybit and
Binance), whose engine fills them on the bars that follow and runs their exits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from connectors.marketdata.bars import PriceBook
from connectors.venues.simulated import SimulatedExecutionClient
from connectors.venues.simulator.engine import EngineConfig, SimPosition
from records import Fill, ManualClock, Market, OrderIntent, OrderUpdate


@dataclass(frozen=True)
class PaperResult:
    updates: tuple[OrderUpdate, ...]
    fills: tuple[Fill, ...]
    positions: tuple[SimPosition, ...]
    start_equity: Decimal
    end_equity: Decimal
    until: datetime

    @property
    def pnl(self) -> Decimal:
        return self.end_equity - self.start_equity

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), Decimal(0))


def paper_trade(
    intents: Sequence[OrderIntent],
    prices: PriceBook,
    *,
    balance: Decimal,
    until: datetime,
    config: EngineConfig | None = None,
) -> PaperResult:
    """Submit each intent at its ``created_at``, then let the market run to ``until``."""
    ordered = sorted(intents, key=lambda i: (i.created_at, i.client_order_id))
    start = ordered[0].created_at if ordered else until
    clock = ManualClock(start)
    markets = (Market.LINEAR, Market.SPOT)
    client = SimulatedExecutionClient.create(
        prices, clock, balances={"USDT": balance}, config=config, markets=markets
    )
    updates: list[OrderUpdate] = []
    fills: list[Fill] = []

    def collect() -> None:
        for event in client.poll_updates():
            if isinstance(event, Fill):
                fills.append(event)
            else:
                updates.append(event)

    for intent in ordered:
        clock.set(max(intent.created_at, clock.now()))
        updates.append(client.submit(intent))
        collect()
    clock.set(max(until, clock.now()))
    client.sync()
    collect()
    engines = [client.engines[m] for m in markets]
    symbols = sorted({i.symbol for i in ordered})
    traded = (client.engines[m].position(s) for m in markets for s in symbols)
    positions = tuple(p for p in traded if p.fees or p.quantity)
    return PaperResult(
        updates=tuple(updates),
        fills=tuple(fills),
        positions=positions,
        start_equity=balance * len(engines),
        end_equity=sum((e.equity() for e in engines), Decimal(0)),
        until=clock.now(),
    )
