"""A deterministic matching engine on historical bars: the fill model for paper trading,
backtests and the HTTP exchange simulator.

Why bars and an event-time clock: live, paper and backtest must differ only in the clock, and a
fill must never use a price from the order's future. So the engine only moves when told
(``advance_to``) and sees each bar in two steps: its *open* is known at ``open_time`` and its
*range* (high/low/close) only once the bar has closed.

API (everything ``Decimal``, all instants timezone-aware UTC)::

    engine = MatchingEngine(
        PriceBook.bundled(), market=Market.LINEAR, start=datetime(2024, 1, 1, tzinfo=UTC),
        balances={"USDT": Decimal(10_000)},
        config=EngineConfig(taker_fee_bps=Decimal("5.5"), maker_fee_bps=Decimal(2),
                            slippage_bps=Decimal(1), latency=timedelta(0),
                            max_fill_fraction=None, leverage=Decimal(1)),
        instruments=None,               # None: DEFAULT_INSTRUMENTS[market]
    )
    order = engine.submit(OrderRequest(client_order_id="abc", symbol="BTCUSDT", side=Side.BUY,
                                       order_type=OrderType.MARKET, quantity=Decimal("0.01")))
    engine.advance_to(instant)          # walk bars up to ``instant`` (never backwards)
    engine.order("abc"); engine.orders(open_only=True); engine.fills()
    engine.positions(); engine.balances(); engine.available("USDT"); engine.mark_price("BTCUSDT")
    engine.amend("BTCUSDT", "abc", quantity=..., price=..., trigger_price=...)
    engine.cancel("BTCUSDT", "abc"); engine.cancel_all("BTCUSDT")
    engine.drain_events()               # SimOrder / SimFill changes since the last call

``submit``/``amend``/``cancel`` raise ``OrderRejectedError(code, message)``; ``submit`` is
idempotent on the client order id (a re-submit returns the existing order, unchanged). Rejected
orders are not stored, as on real venues.

Fill rules (the "first price available after submit" principle):
- An order submitted at ``t`` is live for bars opening at or after ``t + latency``.
  ``advance_to(T)`` processes bar closes at ``<= T`` and bar opens at ``< T``, so an order sent
  at exactly a bar's open still gets that open, and the mark at ``T`` is the last close (as
  ``PriceBook.last_price``).
- Market: taker fill at the open of its first live bar, moved by ``slippage_bps`` against the
  taker and rounded to tick against the taker.
- Limit: at its first live bar's open, if the open crosses the limit it takes liquidity (taker
  fee, slipped open but never worse than the limit); post-only is then cancelled instead,
  IOC/FOK expire whatever did not fill there. Otherwise (GTC/post-only) it rests and fills at the
  limit price, maker fee, on any later range that touches it (``low <= limit`` for a buy).
- Stop-market and take-profit-market: triggered by the open (fill at the slipped open) or by the
  range (fill at the slipped trigger price), taker fee. BUY stop / SELL take-profit trigger on
  ``high >= trigger``; SELL stop / BUY take-profit on ``low <= trigger``.
- Partial fills: with ``max_fill_fraction`` set, all orders of a symbol share at most that
  fraction of each bar's volume (in submission order); market and triggered orders carry the
  remainder to the next bar's open.
- Within a bar, orders are processed in submission order (attached stop-loss before take-profit,
  so the pessimistic exit wins when one bar touches both).
- Reduce-only: refused when there is nothing to reduce, clipped to the position at fill, and
  every open reduce-only order of a symbol is cancelled when its position goes flat.
- Attached exits (``stop_loss``, ``take_profit``, ``exit_after`` on the request): on the
  parent's first fill the engine places reduce-only children ``<id>-sl`` (stop-market),
  ``<id>-tp`` (take-profit-market) and ``<id>-tx`` (market, not before first fill +
  ``exit_after``), sized to the parent's filled quantity.

Accounting: fees are charged in the quote asset (USDT). Spot moves base and quote balances.
Linear keeps a USDT wallet that changes by realised PnL minus fees; the margin an order or a
position holds is ``notional / leverage``. Positions are tracked on both markets from fills:
signed quantity, average entry, realised PnL and fees; unrealised PnL is at the mark.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from connectors.marketdata.bars import Bar, BarSeries, PriceBook
from connectors.venues.instruments import DEFAULT_INSTRUMENTS, Instrument, on_grid, round_price
from records import (
    Fill,
    Market,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Side,
    TimeInForce,
    Venue,
)

BPS = Decimal(10_000)
ZERO = Decimal(0)

OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED})
CONDITIONAL = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})


class RejectCode(enum.StrEnum):
    """Why the engine refused a request; the HTTP layer maps each to the venue's error code."""

    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    REDUCE_ONLY = "REDUCE_ONLY"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    IMMEDIATE_TRIGGER = "IMMEDIATE_TRIGGER"
    NO_PRICE = "NO_PRICE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    INVALID_REQUEST = "INVALID_REQUEST"


class OrderRejectedError(Exception):
    """A request the engine refused; nothing changed."""

    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class EngineConfig:
    taker_fee_bps: Decimal = Decimal("5.5")
    maker_fee_bps: Decimal = Decimal(2)
    slippage_bps: Decimal = Decimal(1)
    latency: timedelta = timedelta(0)
    max_fill_fraction: Decimal | None = None
    """Share of each bar's volume all orders of a symbol may take (None: unlimited)."""
    leverage: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order. For stop/take-profit orders ``trigger_price`` is the trigger."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    exit_after: timedelta | None = None
    not_before: datetime | None = None
    """Market orders only: do not fill before this instant (time-based exits)."""


@dataclass(frozen=True, slots=True)
class SimOrder:
    """Snapshot of an order's state."""

    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reduce_only: bool
    status: OrderStatus
    filled_quantity: Decimal
    average_price: Decimal | None
    cumulative_quote: Decimal
    fees: Decimal
    reason: str | None
    created_at: datetime
    updated_at: datetime
    parent_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_update(self, venue: Venue) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=self.client_order_id,
            venue=venue,
            symbol=self.symbol,
            status=self.status,
            venue_order_id=str(self.order_id),
            side=self.side,
            quantity=self.quantity,
            filled_quantity=self.filled_quantity,
            average_price=self.average_price,
            reason=self.reason,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True, slots=True)
class SimFill:
    fill_id: str
    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    realised_pnl: Decimal
    filled_at: datetime

    def to_record(self, venue: Venue) -> Fill:
        return Fill(
            fill_id=self.fill_id,
            client_order_id=self.client_order_id,
            venue=venue,
            symbol=self.symbol,
            side=self.side,
            quantity=self.quantity,
            price=self.price,
            fee=self.fee,
            fee_asset=self.fee_asset,
            filled_at=self.filled_at,
        )


@dataclass(frozen=True, slots=True)
class SimPosition:
    symbol: str
    quantity: Decimal
    average_entry: Decimal
    realised_pnl: Decimal
    fees: Decimal
    mark_price: Decimal | None
    unrealised_pnl: Decimal
    updated_at: datetime

    def to_record(self, account: str, venue: Venue) -> Position:
        return Position(
            account=account,
            venue=venue,
            symbol=self.symbol,
            quantity=self.quantity,
            average_entry=self.average_entry,
            realised_pnl=self.realised_pnl,
            fees=self.fees,
            updated_at=self.updated_at,
        )


@dataclass(slots=True)
class _Order:
    """Mutable working state; only snapshots (``SimOrder``) leave the engine."""

    order_id: int
    request: OrderRequest
    status: OrderStatus
    created_at: datetime
    active_from: datetime
    reserve_price: Decimal
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    updated_at: datetime
    filled: Decimal = ZERO
    cumulative_quote: Decimal = ZERO
    fees: Decimal = ZERO
    reason: str | None = None
    seen_open: bool = False
    triggered: bool = False
    parent_id: str | None = None
    children: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def snapshot(self) -> SimOrder:
        r = self.request
        return SimOrder(
            order_id=self.order_id,
            client_order_id=r.client_order_id,
            symbol=r.symbol,
            side=r.side,
            order_type=r.order_type,
            time_in_force=r.time_in_force,
            quantity=self.quantity,
            price=self.price,
            trigger_price=self.trigger_price,
            reduce_only=r.reduce_only,
            status=self.status,
            filled_quantity=self.filled,
            average_price=self.cumulative_quote / self.filled if self.filled else None,
            cumulative_quote=self.cumulative_quote,
            fees=self.fees,
            reason=self.reason,
            created_at=self.created_at,
            updated_at=self.updated_at,
            parent_id=self.parent_id,
        )


@dataclass(slots=True)
class _Position:
    quantity: Decimal = ZERO
    average_entry: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    updated_at: datetime | None = None

    def apply(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Book a fill; returns the PnL it realised."""
        q = self.quantity
        if q == 0 or (q > 0) == (signed_qty > 0):
            total = abs(q) + abs(signed_qty)
            self.average_entry = (abs(q) * self.average_entry + abs(signed_qty) * price) / total
            self.quantity = q + signed_qty
            return ZERO
        closed = min(abs(signed_qty), abs(q))
        realised = closed * (price - self.average_entry) * (1 if q > 0 else -1)
        self.realised_pnl += realised
        self.quantity = q + signed_qty
        if self.quantity == 0:
            self.average_entry = ZERO
        elif (self.quantity > 0) != (q > 0):
            self.average_entry = price
        return realised


class MatchingEngine:
    """One account on one market (spot or linear), matched against bars. Not thread-safe."""

    def __init__(
        self,
        prices: PriceBook,
        *,
        market: Market,
        start: datetime,
        balances: Mapping[str, Decimal],
        config: EngineConfig | None = None,
        instruments: Mapping[str, Instrument] | None = None,
    ) -> None:
        if start.tzinfo is None:
            msg = "the engine needs a timezone-aware start"
            raise ValueError(msg)
        self.market = market
        self.config = config or EngineConfig()
        self.instruments = dict(
            instruments if instruments is not None else DEFAULT_INSTRUMENTS[market]
        )
        self._series: dict[str, BarSeries] = {
            s: prices.series[s] for s in self.instruments if s in prices.series
        }
        self._now = start
        self._balances: dict[str, Decimal] = {k: Decimal(v) for k, v in balances.items()}
        self._orders: dict[str, _Order] = {}
        self._by_id: dict[int, _Order] = {}
        self._open: dict[str, _Order] = {}
        self._positions: dict[str, _Position] = {}
        self._fills: list[SimFill] = []
        self._events: list[SimOrder | SimFill] = []
        self._seq = 0
        self._last_price: dict[str, Decimal] = {}
        self._liquidity: dict[str, Decimal | None] = {}
        self._bar: dict[str, Bar] = {}
        self._open_idx: dict[str, int] = {}
        self._close_idx: dict[str, int] = {}
        for symbol, series in self._series.items():
            bars = series.bars
            self._open_idx[symbol] = bisect.bisect_left(bars, start, key=lambda b: b.open_time)
            self._close_idx[symbol] = bisect.bisect_right(
                bars, start, key=lambda b: b.open_time + series.interval
            )
            last = series.last_closed_before(start)
            if last is not None:
                self._last_price[symbol] = last.close

    # ----------------------------------------------------------------- clock and bars

    @property
    def now(self) -> datetime:
        return self._now

    def advance_to(self, instant: datetime) -> None:
        """Process every bar event up to ``instant`` in time order (closes before opens)."""
        if instant < self._now:
            msg = f"cannot move back in time from {self._now} to {instant}"
            raise ValueError(msg)
        if not self._open:
            self._skip_idle(instant)
        while True:
            best: tuple[datetime, int, str] | None = None
            for symbol, series in self._series.items():
                ci = self._close_idx[symbol]
                if ci < len(series.bars):
                    end = series.bars[ci].open_time + series.interval
                    if end <= instant and (best is None or (end, 0, symbol) < best):
                        best = (end, 0, symbol)
                oi = self._open_idx[symbol]
                if oi < len(series.bars):
                    opened = series.bars[oi].open_time
                    if opened < instant and (best is None or (opened, 1, symbol) < best):
                        best = (opened, 1, symbol)
            if best is None:
                break
            at, kind, symbol = best
            self._now = max(self._now, at)
            if kind == 0:
                bar = self._series[symbol].bars[self._close_idx[symbol]]
                self._close_idx[symbol] += 1
                self._on_close(symbol, bar, at)
            else:
                bar = self._series[symbol].bars[self._open_idx[symbol]]
                self._open_idx[symbol] += 1
                self._on_open(symbol, bar)
        self._now = instant

    def _skip_idle(self, instant: datetime) -> None:
        """With no open order a bar can only move the marks: jump to ``instant`` by bisection
        instead of visiting every bar (long backtests are mostly idle), same end state."""
        for symbol, series in self._series.items():
            opened, closed = series.opened_before(instant), series.closed_by(instant)
            last_open = last_close = None
            if opened > self._open_idx[symbol]:
                bar = series.bars[opened - 1]
                self._bar[symbol] = bar
                fraction = self.config.max_fill_fraction
                self._liquidity[symbol] = None if fraction is None else bar.volume * fraction
                last_open = bar
                self._open_idx[symbol] = opened
            if closed > self._close_idx[symbol]:
                last_close = series.bars[closed - 1]
                self._close_idx[symbol] = closed
            if last_open is not None and (
                last_close is None or last_open.open_time >= last_close.open_time + series.interval
            ):
                self._last_price[symbol] = last_open.open
            elif last_close is not None:
                self._last_price[symbol] = last_close.close

    def mark_price(self, symbol: str) -> Decimal | None:
        """The latest price known now: last close, or the open of a bar that has opened."""
        return self._last_price.get(symbol)

    def _open_orders(self, symbol: str, bar: Bar) -> list[_Order]:
        return [
            o
            for o in list(self._open.values())
            if o.request.symbol == symbol and o.active_from <= bar.open_time
        ]

    def _on_open(self, symbol: str, bar: Bar) -> None:
        self._bar[symbol] = bar
        self._last_price[symbol] = bar.open
        fraction = self.config.max_fill_fraction
        self._liquidity[symbol] = None if fraction is None else bar.volume * fraction
        at = bar.open_time
        for o in self._open_orders(symbol, bar):
            if not o.is_open:
                continue
            r = o.request
            if r.order_type is OrderType.MARKET or (r.order_type in CONDITIONAL and o.triggered):
                if r.not_before is None or r.not_before <= at:
                    self._fill(o, o.remaining, self._slipped(symbol, r.side, bar.open), False, at)
            elif r.order_type is OrderType.LIMIT and not o.seen_open:
                self._first_open(o, bar)
            elif r.order_type in CONDITIONAL and self._open_triggers(o, bar.open):
                o.triggered = True
                o.status = OrderStatus.NEW
                self._fill(o, o.remaining, self._slipped(symbol, r.side, bar.open), False, at)

    def _first_open(self, o: _Order, bar: Bar) -> None:
        r = o.request
        assert o.price is not None
        o.seen_open = True
        at = bar.open_time
        crosses = bar.open <= o.price if r.side is Side.BUY else bar.open >= o.price
        tif = r.time_in_force
        if crosses and tif is TimeInForce.POST_ONLY:
            self._close(o, OrderStatus.CANCELED, "post-only order would take liquidity", at)
            return
        if crosses:
            slipped = self._slipped(r.symbol, r.side, bar.open)
            price = min(slipped, o.price) if r.side is Side.BUY else max(slipped, o.price)
            if tif is TimeInForce.FOK and self._fillable(o, o.remaining) < o.remaining:
                self._close(o, OrderStatus.EXPIRED, "fill-or-kill could not fill in full", at)
                return
            self._fill(o, o.remaining, price, False, at)
        if tif in (TimeInForce.IOC, TimeInForce.FOK) and o.is_open:
            self._close(o, OrderStatus.EXPIRED, f"{tif} remainder expired", at)

    def _on_close(self, symbol: str, bar: Bar, at: datetime) -> None:
        self._last_price[symbol] = bar.close
        if self._bar.get(symbol) is not bar:
            return  # opened before the engine started: no order was live in it
        for o in self._open_orders(symbol, bar):
            if not o.is_open:
                continue
            r = o.request
            if r.order_type is OrderType.LIMIT and o.seen_open:
                assert o.price is not None
                touched = bar.low <= o.price if r.side is Side.BUY else bar.high >= o.price
                if touched:
                    self._fill(o, o.remaining, o.price, True, at)
            elif r.order_type in CONDITIONAL and not o.triggered and self._range_triggers(o, bar):
                assert o.trigger_price is not None
                o.triggered = True
                o.status = OrderStatus.NEW
                self._fill(
                    o, o.remaining, self._slipped(symbol, r.side, o.trigger_price), False, at
                )

    def _rising(self, o: _Order) -> bool:
        """BUY stops and SELL take-profits fire when the price rises to the trigger."""
        return (o.request.order_type is OrderType.STOP_MARKET) == (o.request.side is Side.BUY)

    def _open_triggers(self, o: _Order, price: Decimal) -> bool:
        assert o.trigger_price is not None
        return price >= o.trigger_price if self._rising(o) else price <= o.trigger_price

    def _range_triggers(self, o: _Order, bar: Bar) -> bool:
        assert o.trigger_price is not None
        return bar.high >= o.trigger_price if self._rising(o) else bar.low <= o.trigger_price

    def _slipped(self, symbol: str, side: Side, price: Decimal) -> Decimal:
        inst = self.instruments[symbol]
        move = self.config.slippage_bps / BPS
        if side is Side.BUY:
            return round_price(inst, price * (1 + move), up=True)
        return round_price(inst, price * (1 - move))

    # ----------------------------------------------------------------- fills and accounting

    def _fillable(self, o: _Order, wanted: Decimal) -> Decimal:
        """How much of ``wanted`` this bar's remaining liquidity (and reduce-only) allows."""
        symbol = o.request.symbol
        qty = min(wanted, o.remaining)
        left = self._liquidity.get(symbol)
        if left is not None:
            lot = self.instruments[symbol].lot_size
            qty = min(qty, (left / lot).to_integral_value(rounding="ROUND_FLOOR") * lot)
        if o.request.reduce_only:
            qty = min(qty, self._reducible(o))
        return max(qty, ZERO)

    def _reducible(self, o: _Order) -> Decimal:
        """How much of the position a reduce-only order may still close."""
        pos = self._positions.get(o.request.symbol, _Position()).quantity
        reducing = (pos > 0) if o.request.side is Side.SELL else (pos < 0)
        return abs(pos) if reducing else ZERO

    def _fill(self, o: _Order, wanted: Decimal, price: Decimal, maker: bool, at: datetime) -> None:
        r = o.request
        if r.reduce_only and self._reducible(o) == 0:
            self._close(o, OrderStatus.CANCELED, "reduce-only order has no position to reduce", at)
            return
        qty = self._fillable(o, wanted)
        if qty <= 0:
            return
        inst = self.instruments[r.symbol]
        fee = (
            qty * price * (self.config.maker_fee_bps if maker else self.config.taker_fee_bps) / BPS
        )
        signed = qty if r.side is Side.BUY else -qty
        if self.market is Market.SPOT:
            if r.side is Side.BUY and self._balances.get(inst.quote, ZERO) < qty * price + fee:
                self._close(o, OrderStatus.CANCELED, "insufficient balance at fill", at)
                return
            if r.side is Side.SELL and self._balances.get(inst.base, ZERO) < qty:
                self._close(o, OrderStatus.CANCELED, "insufficient balance at fill", at)
                return
        pos = self._positions.setdefault(r.symbol, _Position())
        realised = pos.apply(signed, price)
        pos.fees += fee
        pos.updated_at = at
        if self.market is Market.SPOT:
            self._credit(inst.base, signed)
            self._credit(inst.quote, -signed * price - fee)
        else:
            self._credit(inst.quote, realised - fee)
        left = self._liquidity.get(r.symbol)
        if left is not None:
            self._liquidity[r.symbol] = left - qty
        o.filled += qty
        o.cumulative_quote += qty * price
        o.fees += fee
        o.updated_at = at
        o.status = OrderStatus.FILLED if o.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        fill = SimFill(
            fill_id=f"{o.order_id}-{len(self._fills) + 1}",
            order_id=o.order_id,
            client_order_id=r.client_order_id,
            symbol=r.symbol,
            side=r.side,
            quantity=qty,
            price=price,
            fee=fee,
            fee_asset=inst.quote,
            is_maker=maker,
            realised_pnl=realised,
            filled_at=at,
        )
        self._fills.append(fill)
        self._events.append(fill)
        if o.status is OrderStatus.FILLED:
            self._open.pop(r.client_order_id, None)
        self._events.append(o.snapshot())
        self._sync_children(o, at)
        if pos.quantity == 0:
            for other in list(self._open.values()):
                if other.request.symbol == r.symbol and other.request.reduce_only:
                    self._close(other, OrderStatus.CANCELED, "position closed", at)

    def _credit(self, asset: str, amount: Decimal) -> None:
        self._balances[asset] = self._balances.get(asset, ZERO) + amount

    def _close(self, o: _Order, status: OrderStatus, reason: str, at: datetime) -> None:
        o.status = status
        o.reason = reason
        o.updated_at = at
        self._open.pop(o.request.client_order_id, None)
        self._events.append(o.snapshot())

    def _sync_children(self, parent: _Order, at: datetime) -> None:
        """Place or resize the attached exits so they cover what the parent has filled."""
        r = parent.request
        if r.stop_loss is None and r.take_profit is None and r.exit_after is None:
            return
        if parent.children:
            for cid in parent.children:
                child = self._orders[cid]
                if child.is_open:
                    child.quantity = parent.filled
                    child.updated_at = at
            return
        exit_side = Side.SELL if r.side is Side.BUY else Side.BUY
        specs: list[tuple[str, OrderType, Decimal | None, datetime | None]] = []
        if r.stop_loss is not None:
            specs.append(("sl", OrderType.STOP_MARKET, r.stop_loss, None))
        if r.take_profit is not None:
            specs.append(("tp", OrderType.TAKE_PROFIT_MARKET, r.take_profit, None))
        if r.exit_after is not None:
            specs.append(("tx", OrderType.MARKET, None, at + r.exit_after))
        for suffix, kind, trigger, not_before in specs:
            child_request = OrderRequest(
                client_order_id=f"{r.client_order_id}-{suffix}",
                symbol=r.symbol,
                side=exit_side,
                order_type=kind,
                quantity=parent.filled,
                trigger_price=trigger,
                reduce_only=True,
                not_before=not_before,
            )
            child = self._place(child_request, at, reserve_price=trigger or parent.reserve_price)
            child.parent_id = r.client_order_id
            parent.children.append(child_request.client_order_id)
            self._events.append(child.snapshot())

    # ----------------------------------------------------------------- requests

    def _place(self, request: OrderRequest, at: datetime, reserve_price: Decimal) -> _Order:
        self._seq += 1
        status = OrderStatus.UNTRIGGERED if request.order_type in CONDITIONAL else OrderStatus.NEW
        o = _Order(
            order_id=self._seq,
            request=request,
            status=status,
            created_at=at,
            active_from=at + self.config.latency,
            reserve_price=reserve_price,
            quantity=request.quantity,
            price=request.price,
            trigger_price=request.trigger_price,
            updated_at=at,
        )
        self._orders[request.client_order_id] = o
        self._by_id[o.order_id] = o
        self._open[request.client_order_id] = o
        return o

    def submit(self, request: OrderRequest) -> SimOrder:
        """Validate and accept an order (or return the existing one with this client id)."""
        existing = self._orders.get(request.client_order_id)
        if existing is not None:
            return existing.snapshot()
        inst = self._instrument(request.symbol)
        self._check_quantity(inst, request.quantity)
        mark = self.mark_price(request.symbol)
        if mark is None:
            raise OrderRejectedError(RejectCode.NO_PRICE, f"no price for {request.symbol} yet")
        reference = self._validate_prices(inst, request, mark)
        if not request.reduce_only and request.quantity * reference < inst.min_notional:
            raise OrderRejectedError(
                RejectCode.MIN_NOTIONAL,
                f"notional {request.quantity * reference} below minimum {inst.min_notional}",
            )
        if request.reduce_only:
            pos = self._positions.get(request.symbol, _Position()).quantity
            if pos == 0 or (pos > 0) == (request.side is Side.BUY):
                raise OrderRejectedError(
                    RejectCode.REDUCE_ONLY, "reduce-only order would increase position"
                )
        need_asset, need = self._requirement(inst, request.side, request.quantity, reference)
        if not request.reduce_only and need > self.available(need_asset):
            raise OrderRejectedError(
                RejectCode.INSUFFICIENT_BALANCE,
                f"needs {need} {need_asset}, available {self.available(need_asset)}",
            )
        o = self._place(request, self._now, reference)
        snap = o.snapshot()
        self._events.append(snap)
        return snap

    def _instrument(self, symbol: str) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            raise OrderRejectedError(RejectCode.UNKNOWN_SYMBOL, f"unknown symbol {symbol}")
        return inst

    @staticmethod
    def _check_quantity(inst: Instrument, qty: Decimal) -> None:
        if qty <= 0 or not on_grid(qty, inst.lot_size):
            raise OrderRejectedError(
                RejectCode.INVALID_QUANTITY, f"quantity {qty} not a multiple of {inst.lot_size}"
            )
        if not inst.min_qty <= qty <= inst.max_qty:
            raise OrderRejectedError(
                RejectCode.INVALID_QUANTITY,
                f"quantity {qty} outside [{inst.min_qty}, {inst.max_qty}]",
            )

    @staticmethod
    def _check_price(inst: Instrument, name: str, price: Decimal | None) -> Decimal:
        if price is None:
            raise OrderRejectedError(RejectCode.INVALID_REQUEST, f"{name} is required")
        if price <= 0 or not on_grid(price, inst.tick_size):
            raise OrderRejectedError(
                RejectCode.INVALID_PRICE, f"{name} {price} not a multiple of {inst.tick_size}"
            )
        return price

    def _validate_prices(self, inst: Instrument, r: OrderRequest, mark: Decimal) -> Decimal:
        """Check prices against filters and the mark; returns the price funds are reserved at."""
        buy = r.side is Side.BUY
        if r.order_type is OrderType.MARKET:
            reference = self._slipped(r.symbol, r.side, mark)
        elif r.order_type is OrderType.LIMIT:
            reference = self._check_price(inst, "price", r.price)
            crosses = reference >= mark if buy else reference <= mark
            if r.time_in_force is TimeInForce.POST_ONLY and crosses:
                raise OrderRejectedError(
                    RejectCode.POST_ONLY_WOULD_TAKE, "post-only order would immediately match"
                )
        else:
            reference = self._check_price(inst, "trigger price", r.trigger_price)
            rising = (r.order_type is OrderType.STOP_MARKET) == buy
            if (reference <= mark) if rising else (reference >= mark):
                raise OrderRejectedError(
                    RejectCode.IMMEDIATE_TRIGGER, f"trigger {reference} would trigger at {mark}"
                )
        for name, level, below in (
            ("stop loss", r.stop_loss, buy),
            ("take profit", r.take_profit, not buy),
        ):
            if level is None:
                continue
            self._check_price(inst, name, level)
            if (level >= reference) if below else (level <= reference):
                raise OrderRejectedError(
                    RejectCode.INVALID_PRICE, f"{name} {level} on the wrong side of {reference}"
                )
        return reference

    def _requirement(
        self, inst: Instrument, side: Side, qty: Decimal, price: Decimal
    ) -> tuple[str, Decimal]:
        """Asset and amount an order of this size locks while open."""
        taker = 1 + self.config.taker_fee_bps / BPS
        if self.market is Market.SPOT:
            return (inst.quote, qty * price * taker) if side is Side.BUY else (inst.base, qty)
        return inst.quote, qty * price * (
            1 / self.config.leverage + self.config.taker_fee_bps / BPS
        )

    def amend(
        self,
        symbol: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> SimOrder:
        """Change an open order's total quantity, limit price or trigger price in place."""
        o = self._find(symbol, client_order_id)
        if not o.is_open:
            raise OrderRejectedError(RejectCode.ORDER_NOT_OPEN, f"order is {o.status}")
        inst = self.instruments[symbol]
        r = o.request
        if quantity is not None:
            self._check_quantity(inst, quantity)
            if quantity <= o.filled:
                raise OrderRejectedError(
                    RejectCode.INVALID_QUANTITY, f"quantity {quantity} not above filled {o.filled}"
                )
        if price is not None:
            if r.order_type is not OrderType.LIMIT:
                raise OrderRejectedError(
                    RejectCode.INVALID_REQUEST, "only limit orders have a price"
                )
            self._check_price(inst, "price", price)
        if trigger_price is not None:
            if r.order_type not in CONDITIONAL:
                raise OrderRejectedError(
                    RejectCode.INVALID_REQUEST, "only stop orders have a trigger"
                )
            self._check_price(inst, "trigger price", trigger_price)
        new_qty = quantity if quantity is not None else o.quantity
        new_ref = price or trigger_price or o.reserve_price
        if not r.reduce_only:
            asset, need = self._requirement(inst, r.side, new_qty - o.filled, new_ref)
            _, held = self._requirement(inst, r.side, o.remaining, o.reserve_price)
            if need - held > self.available(asset):
                raise OrderRejectedError(
                    RejectCode.INSUFFICIENT_BALANCE, f"amend needs {need} {asset}"
                )
        o.quantity = new_qty
        o.price = price if price is not None else o.price
        o.trigger_price = trigger_price if trigger_price is not None else o.trigger_price
        o.reserve_price = new_ref
        o.updated_at = self._now
        snap = o.snapshot()
        self._events.append(snap)
        return snap

    def cancel(self, symbol: str, client_order_id: str) -> SimOrder:
        o = self._find(symbol, client_order_id)
        if not o.is_open:
            raise OrderRejectedError(RejectCode.ORDER_NOT_OPEN, f"order is {o.status}")
        self._close(o, OrderStatus.CANCELED, "canceled by user", self._now)
        return o.snapshot()

    def cancel_all(self, symbol: str | None = None) -> list[SimOrder]:
        return [
            self.cancel(o.request.symbol, o.request.client_order_id)
            for o in list(self._open.values())
            if symbol is None or o.request.symbol == symbol
        ]

    def _find(self, symbol: str, client_order_id: str) -> _Order:
        o = self._orders.get(client_order_id)
        if o is None or o.request.symbol != symbol:
            raise OrderRejectedError(RejectCode.UNKNOWN_ORDER, f"unknown order {client_order_id}")
        return o

    # ----------------------------------------------------------------- reads

    def order(self, client_order_id: str) -> SimOrder | None:
        o = self._orders.get(client_order_id)
        return o.snapshot() if o else None

    def order_by_id(self, order_id: int) -> SimOrder | None:
        o = self._by_id.get(order_id)
        return o.snapshot() if o else None

    def orders(self, symbol: str | None = None, *, open_only: bool = False) -> list[SimOrder]:
        source = self._open if open_only else self._orders
        return [
            o.snapshot() for o in source.values() if symbol is None or o.request.symbol == symbol
        ]

    def fills(self, symbol: str | None = None) -> list[SimFill]:
        return [f for f in self._fills if symbol is None or f.symbol == symbol]

    def drain_events(self) -> list[SimOrder | SimFill]:
        events, self._events = self._events, []
        return events

    def position(self, symbol: str) -> SimPosition:
        p = self._positions.get(symbol, _Position())
        mark = self.mark_price(symbol)
        unrealised = (
            p.quantity * (mark - p.average_entry) if mark is not None and p.quantity else ZERO
        )
        return SimPosition(
            symbol=symbol,
            quantity=p.quantity,
            average_entry=p.average_entry,
            realised_pnl=p.realised_pnl,
            fees=p.fees,
            mark_price=mark,
            unrealised_pnl=unrealised,
            updated_at=p.updated_at or self._now,
        )

    def positions(self) -> list[SimPosition]:
        """Every symbol ever traded (flat ones too: they carry realised PnL and fees)."""
        return [self.position(s) for s in sorted(self._positions)]

    def balances(self) -> dict[str, Decimal]:
        """Wallet balances (linear: realised PnL and fees included, unrealised not)."""
        return dict(self._balances)

    def unrealised_pnl(self) -> Decimal:
        return sum((self.position(s).unrealised_pnl for s in self._positions), ZERO)

    def equity(self, asset: str = "USDT") -> Decimal:
        """Linear: wallet plus unrealised PnL; spot: the quote plus base holdings at mark."""
        if self.market is Market.LINEAR:
            return self._balances.get(asset, ZERO) + self.unrealised_pnl()
        total = self._balances.get(asset, ZERO)
        for inst in self.instruments.values():
            mark = self.mark_price(inst.symbol)
            if mark is not None:
                total += self._balances.get(inst.base, ZERO) * mark
        return total

    def locked(self, asset: str) -> Decimal:
        """What open orders (and, on linear, positions' margin) hold of ``asset``."""
        total = ZERO
        for o in self._open.values():
            r = o.request
            if r.reduce_only:
                continue
            need_asset, need = self._requirement(
                self.instruments[r.symbol], r.side, o.remaining, o.reserve_price
            )
            if need_asset == asset:
                total += need
        if self.market is Market.LINEAR:
            for symbol, p in self._positions.items():
                if self.instruments[symbol].quote == asset:
                    total += abs(p.quantity) * p.average_entry / self.config.leverage
        return total

    def available(self, asset: str) -> Decimal:
        free = self._balances.get(asset, ZERO) - self.locked(asset)
        if self.market is Market.LINEAR and asset == "USDT":
            free += min(self.unrealised_pnl(), ZERO)
        return free


__all__ = [
    "EngineConfig",
    "MatchingEngine",
    "OrderRejectedError",
    "OrderRequest",
    "RejectCode",
    "SimFill",
    "SimOrder",
    "SimPosition",
]
