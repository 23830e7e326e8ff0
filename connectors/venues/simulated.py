"""``SimulatedExecutionClient``: the ExecutionClient for the demo, paper trading and backtests,
in process on the matching engine (no HTTP), so a backtest is the live flow with another clock.

API::

    client = SimulatedExecutionClient.create(
        PriceBook.bundled(), clock,                 # any records.Clock; ManualClock for backtests
        balances={"USDT": Decimal(10_000)},         # starting balances of each market's account
        config=EngineConfig(...),                   # fees, slippage, latency, partial fills
        markets=(Market.SPOT, Market.LINEAR), account="paper", venue=Venue.SIMULATOR,
    )
    update = client.submit(intent)      # OrderUpdate (REJECTED with a reason, never raises)
    clock.set(later); client.sync()     # or any call: each one first walks the engines to now
    client.poll_updates()               # OrderUpdate / Fill records since the last call
    client.positions(); client.balances(); client.engines[Market.LINEAR].equity()

How an intent maps to the engine: ``limit_price`` is the limit of a LIMIT order and the trigger of
a STOP_MARKET / TAKE_PROFIT_MARKET order; ``stop_loss`` / ``take_profit`` become reduce-only exits
attached on the first fill (``<id>-sl`` / ``<id>-tp``) and ``hold_seconds`` a reduce-only market
exit ``<id>-tx`` that fills at the first bar open at least that long after the first fill.
Quantities are rounded down to the lot size and prices to the tick (buy limits down, sell
limits up) as the live adapters do. ``balances()`` sums each asset over the market accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal

from connectors.marketdata.bars import PriceBook
from connectors.venues.instruments import round_price, round_quantity
from connectors.venues.simulator.engine import (
    EngineConfig,
    MatchingEngine,
    OrderRejectedError,
    OrderRequest,
    RejectCode,
    SimFill,
)
from records import (
    Clock,
    Fill,
    Market,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Side,
    Venue,
)


class SimulatedExecutionClient:
    """ExecutionClient over one matching engine per market, driven by an injected clock."""

    def __init__(
        self,
        engines: Mapping[Market, MatchingEngine],
        clock: Clock,
        *,
        account: str = "paper",
        venue: Venue = Venue.SIMULATOR,
    ) -> None:
        if not engines:
            msg = "the simulated client needs at least one engine"
            raise ValueError(msg)
        self.engines = dict(engines)
        self.clock = clock
        self.account = account
        self.venue = venue
        self._market_of: dict[str, Market] = {}

    @classmethod
    def create(
        cls,
        prices: PriceBook,
        clock: Clock,
        *,
        balances: Mapping[str, Decimal],
        config: EngineConfig | None = None,
        markets: Iterable[Market] = (Market.SPOT, Market.LINEAR),
        account: str = "paper",
        venue: Venue = Venue.SIMULATOR,
    ) -> SimulatedExecutionClient:
        start = clock.now()
        engines = {
            m: MatchingEngine(prices, market=m, start=start, balances=balances, config=config)
            for m in markets
        }
        return cls(engines, clock, account=account, venue=venue)

    def sync(self) -> None:
        """Walk every engine to the clock's now (fills, triggers and exits happen here)."""
        now = self.clock.now()
        for engine in self.engines.values():
            if now > engine.now:
                engine.advance_to(now)

    def submit(self, intent: OrderIntent) -> OrderUpdate:
        self.sync()
        engine = self.engines.get(intent.market)
        if engine is None:
            return self._rejected(intent, f"market {intent.market} is not simulated")
        try:
            request = self._request(engine, intent)
            order = engine.submit(request)
        except OrderRejectedError as exc:
            return self._rejected(intent, exc.message, exc.code)
        self._market_of[intent.client_order_id] = intent.market
        return order.to_update(self.venue)

    def _request(self, engine: MatchingEngine, intent: OrderIntent) -> OrderRequest:
        inst = engine.instruments.get(intent.symbol)
        if inst is None:
            raise OrderRejectedError(RejectCode.UNKNOWN_SYMBOL, f"unknown symbol {intent.symbol}")
        buy = intent.side is Side.BUY

        def tick(price: Decimal | None, *, up: bool = False) -> Decimal | None:
            return None if price is None else round_price(inst, price, up=up)

        limit = intent.limit_price if intent.order_type is OrderType.LIMIT else None
        trigger = intent.limit_price if intent.order_type is not OrderType.LIMIT else None
        if intent.order_type is not OrderType.MARKET and intent.limit_price is None:
            raise OrderRejectedError(
                RejectCode.INVALID_REQUEST, f"{intent.order_type} needs limit_price"
            )
        return OrderRequest(
            client_order_id=intent.client_order_id,
            symbol=intent.symbol,
            side=intent.side,
            order_type=intent.order_type,
            quantity=round_quantity(inst, intent.quantity),
            price=tick(limit, up=not buy),
            trigger_price=tick(trigger),
            time_in_force=intent.time_in_force,
            reduce_only=intent.reduce_only,
            stop_loss=tick(intent.stop_loss),
            take_profit=tick(intent.take_profit),
            exit_after=(
                timedelta(seconds=intent.hold_seconds) if intent.hold_seconds is not None else None
            ),
        )

    def _rejected(
        self, intent: OrderIntent, reason: str, code: RejectCode | None = None
    ) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=intent.client_order_id,
            venue=self.venue,
            symbol=intent.symbol,
            status=OrderStatus.REJECTED,
            side=intent.side,
            quantity=intent.quantity,
            reason=f"{code}: {reason}" if code else reason,
            retryable=False,
            updated_at=self.clock.now(),
        )

    def _engine_for(self, client_order_id: str) -> MatchingEngine | None:
        market = self._market_of.get(client_order_id)
        if market is not None:
            return self.engines[market]
        for engine in self.engines.values():
            if engine.order(client_order_id) is not None:
                return engine
        return None

    def _unknown(self, symbol: str, client_order_id: str, reason: str) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=client_order_id,
            venue=self.venue,
            symbol=symbol,
            status=OrderStatus.REJECTED,
            reason=reason,
            updated_at=self.clock.now(),
        )

    def amend(
        self,
        symbol: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
    ) -> OrderUpdate:
        """``price`` is the limit of a limit order, the trigger of a stop/take-profit order."""
        self.sync()
        engine = self._engine_for(client_order_id)
        if engine is None:
            return self._unknown(symbol, client_order_id, "unknown order")
        current = engine.order(client_order_id)
        conditional = current is not None and current.order_type is not OrderType.LIMIT
        try:
            order = engine.amend(
                symbol,
                client_order_id,
                quantity=quantity,
                price=None if conditional else price,
                trigger_price=price if conditional else None,
            )
        except OrderRejectedError as exc:
            return self._unknown(symbol, client_order_id, f"{exc.code}: {exc.message}")
        return order.to_update(self.venue)

    def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        self.sync()
        engine = self._engine_for(client_order_id)
        if engine is None:
            return self._unknown(symbol, client_order_id, "unknown order")
        try:
            return engine.cancel(symbol, client_order_id).to_update(self.venue)
        except OrderRejectedError as exc:
            return self._unknown(symbol, client_order_id, f"{exc.code}: {exc.message}")

    def query(self, symbol: str, client_order_id: str) -> OrderUpdate:
        self.sync()
        engine = self._engine_for(client_order_id)
        order = engine.order(client_order_id) if engine else None
        if order is None or order.symbol != symbol:
            return self._unknown(symbol, client_order_id, "unknown order")
        return order.to_update(self.venue)

    def open_orders(self, symbol: str | None = None) -> Sequence[OrderUpdate]:
        self.sync()
        return [
            o.to_update(self.venue)
            for engine in self.engines.values()
            for o in engine.orders(symbol, open_only=True)
        ]

    def positions(self) -> Sequence[Position]:
        self.sync()
        return [
            p.to_record(self.account, self.venue)
            for engine in self.engines.values()
            for p in engine.positions()
        ]

    def balances(self) -> dict[str, Decimal]:
        self.sync()
        total: dict[str, Decimal] = {}
        for engine in self.engines.values():
            for asset, amount in engine.balances().items():
                total[asset] = total.get(asset, Decimal(0)) + amount
        return total

    def poll_updates(self) -> Sequence[OrderUpdate | Fill]:
        self.sync()
        out: list[OrderUpdate | Fill] = []
        for engine in self.engines.values():
            for event in engine.drain_events():
                if isinstance(event, SimFill):
                    out.append(event.to_record(self.venue))
                else:
                    out.append(event.to_update(self.venue))
        return out
