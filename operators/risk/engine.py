"""The risk engine: pure state transitions, one account per state, time only from events.

``RiskEngine.step(state, event) -> (state, outputs)`` is the mapper for Bytewax's
``op.stateful_flat_map`` keyed by account. Rules run in a fixed order and the first that
refuses wins, so a refusal always names one rule and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from operators.portfolio import (
    PositionState,
    apply_fill_record,
    drawdown_pct,
    equity,
    from_record,
    signed_quantity,
)
from operators.proposal import ProposedOrder
from operators.risk.config import RiskConfig
from operators.risk.events import (
    AccountFill,
    AccountOrderUpdate,
    CancelRequest,
    PriceMark,
    ResetCommand,
    RiskOutput,
    TradingState,
    TradingStateChanged,
    account_of,
)
from operators.risk.state import OpenOrder, RiskState, expire, with_item
from records import (
    DeadLetter,
    OrderIntent,
    OrderStatus,
    Position,
    RiskRejection,
    Side,
    to_json,
)

ZERO = Decimal(0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class _RefusedError(Exception):
    """Internal: a rule refused the proposal."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Sized:
    quantity: Decimal
    reduce_only: bool
    note: str


@dataclass(frozen=True, slots=True)
class RiskEngine:
    """Stateless rules over a ``RiskState``; picklable, so Bytewax can ship it to workers."""

    config: RiskConfig

    def initial_state(self, account: str) -> RiskState:
        eq = self.config.initial_equity
        return RiskState(account=account, initial_equity=eq, peak_equity=eq, day_start_equity=eq)

    def step(self, state: RiskState | None, event: object) -> tuple[RiskState, list[RiskOutput]]:
        """Apply one event; bad input becomes a ``DeadLetter`` output, never an exception."""
        if state is None:
            state = self.initial_state(account_of(event))
        try:
            return self._dispatch(state, event)
        except (ValueError, ArithmeticError, TypeError) as exc:
            return state, [self._dead_letter(state, event, str(exc))]

    def _dispatch(self, state: RiskState, event: object) -> tuple[RiskState, list[RiskOutput]]:
        out: list[RiskOutput] = []
        if isinstance(event, ProposedOrder):
            state = self._advance(state, event.created_at, out)
            return self._on_proposal(state, event, out)
        if isinstance(event, AccountFill):
            state = self._advance(state, event.fill.filled_at, out)
            state = self._on_fill(state, event)
        elif isinstance(event, AccountOrderUpdate):
            state = self._advance(state, event.update.updated_at, out)
            state = self._on_update(state, event)
        elif isinstance(event, Position):
            state = self._advance(state, event.updated_at, out)
            positions = {**state.positions, event.symbol: from_record(event)}
            state = replace(state, positions=positions)
        elif isinstance(event, PriceMark):
            if event.price <= 0:
                msg = f"price mark for {event.symbol} must be > 0, got {event.price}"
                raise ValueError(msg)
            state = self._advance(state, event.at, out)
            state = replace(state, marks={**state.marks, event.symbol: event.price})
        elif isinstance(event, ResetCommand):
            state = self._advance(state, event.at, out)
            return self._on_reset(state, event, out)
        else:
            msg = f"not a risk event: {type(event).__name__}"
            raise TypeError(msg)
        return self._check_limits(state, out)

    # -- time ---------------------------------------------------------------------------

    def _advance(self, state: RiskState, at: datetime, out: list[RiskOutput]) -> RiskState:
        """Move the watermark, expire windows, roll the UTC day (lifting a daily REDUCING)."""
        if at.tzinfo is None:
            msg = "event time must be timezone-aware"
            raise ValueError(msg)
        now = at if state.now is None or at > state.now else state.now
        cfg = self.config
        rate_cut = now - timedelta(seconds=cfg.order_rate_window_seconds)
        dup_cut = now - timedelta(seconds=cfg.duplicate_window_seconds)
        state = replace(
            state,
            now=now,
            order_times=tuple(t for t in state.order_times if t > rate_cut),
            cooldowns=expire(state.cooldowns, now),
            seen_orders=expire(state.seen_orders, dup_cut),
            seen_stories=expire(state.seen_stories, dup_cut),
            seen_fills=expire(state.seen_fills, dup_cut),
        )
        today = now.astimezone(UTC).date()
        if state.day is None or today > state.day:
            state = replace(state, day=today, day_start_equity=self._equity(state))
            if state.trading_state is TradingState.REDUCING:
                state = self._transition(state, TradingState.ACTIVE, f"new UTC day {today}", out)
        return state

    # -- proposals ----------------------------------------------------------------------

    def _on_proposal(
        self, state: RiskState, p: ProposedOrder, out: list[RiskOutput]
    ) -> tuple[RiskState, list[RiskOutput]]:
        try:
            sized = self._check(state, p)
        except _RefusedError as refused:
            out.append(
                RiskRejection(
                    signal_id=p.signal_id,
                    account=p.account,
                    symbol=p.symbol,
                    playbook=p.playbook,
                    rule=refused.rule,
                    reason=refused.reason,
                    created_at=p.created_at,
                )
            )
            return state, out
        return self._accept(state, p, sized, out)

    def _check(self, state: RiskState, p: ProposedOrder) -> _Sized:
        cfg = self.config
        now = state.now or p.created_at
        coid = p.client_order_id
        if state.trading_state is TradingState.HALTED:
            raise _RefusedError("trading_state", f"trading is HALTED ({state.state_reason})")
        if coid in state.seen_orders:
            raise _RefusedError(
                "duplicate_signal",
                f"signal {p.signal_id} leg {p.leg} on {p.symbol} already became order {coid}",
            )
        story_at = state.seen_stories.get((p.story_id, p.symbol))
        if story_at is not None:
            raise _RefusedError(
                "duplicate_story",
                f"story {p.story_id} already traded on {p.symbol} at {story_at.isoformat()}",
            )
        need = max(cfg.min_confidence, p.min_confidence)
        if p.confidence < need:
            raise _RefusedError("min_confidence", f"confidence {p.confidence:.3f} < {need:.3f}")
        floor = p.min_sentiment_confidence
        if floor > 0 and (p.sentiment_confidence is None or p.sentiment_confidence < floor):
            got = "unknown" if p.sentiment_confidence is None else f"{p.sentiment_confidence:.3f}"
            raise _RefusedError(
                "min_sentiment_confidence", f"sentiment confidence {got} < {floor:.3f}"
            )
        until = state.cooldowns.get((p.asset, p.event_type.value))
        if until is not None and now < until:
            raise _RefusedError(
                "cooldown",
                f"{p.asset}/{p.event_type.value} cools down until {until.isoformat()}",
            )
        price, atr = self._market(p)
        pos = state.positions.get(p.symbol, PositionState(p.symbol)).quantity
        reduce_only = False
        if state.trading_state is TradingState.REDUCING:
            if pos == 0 or (pos > 0) == (p.side is Side.BUY):
                raise _RefusedError(
                    "trading_state",
                    f"REDUCING ({state.state_reason}): only orders reducing a position; "
                    f"{p.symbol} position is {pos}, order is {p.side.value}",
                )
            reduce_only = True
        if len(state.open_orders) >= cfg.max_open_orders:
            raise _RefusedError(
                "max_open_orders",
                f"{len(state.open_orders)} open orders (max {cfg.max_open_orders})",
            )
        if len(state.order_times) >= cfg.order_rate_limit:
            raise _RefusedError(
                "order_rate",
                f"{len(state.order_times)} orders in the last "
                f"{cfg.order_rate_window_seconds}s (max {cfg.order_rate_limit})",
            )
        return self._size(state, p, price, atr, pos, reduce_only)

    def _market(self, p: ProposedOrder) -> tuple[Decimal, Decimal]:
        if p.market_data_issue is not None:
            raise _RefusedError("market_data", p.market_data_issue)
        if p.reference_price is None or p.reference_price <= 0:
            raise _RefusedError("market_data", f"no usable price for {p.symbol}")
        if p.quantity is None and (p.atr is None or p.atr <= 0):
            raise _RefusedError("market_data", f"no usable ATR for {p.symbol}: cannot size")
        if p.price_as_of is not None:
            age = (p.created_at - p.price_as_of).total_seconds()
            if age > self.config.max_price_age_seconds:
                raise _RefusedError(
                    "market_data",
                    f"price for {p.symbol} is {age:.0f}s old "
                    f"(max {self.config.max_price_age_seconds}s)",
                )
        if p.symbol not in self.config.instruments:
            raise _RefusedError("market_data", f"no [instruments] entry for {p.symbol}")
        return p.reference_price, p.atr or ZERO

    def _size(
        self,
        state: RiskState,
        p: ProposedOrder,
        ref: Decimal,
        atr: Decimal,
        pos: Decimal,
        reduce_only: bool,
    ) -> _Sized:
        """Volatility-scaled size, capped by every limit, floored to the lot step."""
        cfg = self.config
        instrument = cfg.instruments[p.symbol]
        price = p.limit_price if p.limit_price is not None else ref
        if p.quantity is not None:
            wanted = p.quantity
            basis = f"requested {wanted}"
        else:
            factor, why = self._reaction_factor(p)
            wanted = (
                cfg.risk_per_trade
                * Decimal(str(p.confidence))
                * factor
                / (cfg.sizing_atr_multiple * atr)
            )
            basis = (
                f"risk {cfg.risk_per_trade} x conf {p.confidence}{why} / "
                f"({cfg.sizing_atr_multiple} x ATR {atr})"
            )
        caps: list[tuple[str, Decimal]] = [("sizing", wanted)]
        if reduce_only:
            caps.append(("trading_state", abs(pos)))
        caps.append(("max_order_notional", cfg.max_order_notional / price))
        if not reduce_only:
            pending = [o for o in state.open_orders.values() if not o.reduce_only]
            exposure = pos + sum(
                (signed_quantity(o.side, o.remaining) for o in pending if o.symbol == p.symbol),
                ZERO,
            )
            room = cfg.position_limit(p.symbol) / price
            room = room - exposure if p.side is Side.BUY else room + exposure
            caps.append(("max_position", max(room, ZERO)))
            gross = sum(
                (
                    s.notional(state.marks.get(s.symbol, s.average_entry))
                    for s in state.positions.values()
                ),
                ZERO,
            ) + sum((o.remaining * o.price for o in pending), ZERO)
            caps.append(("gross_exposure", max((cfg.max_gross_exposure - gross) / price, ZERO)))
        rule, capped = min(caps, key=lambda c: c[1])
        quantity = instrument.floor_quantity(capped)
        note = f"size {quantity} = {basis}" + (
            "" if rule == "sizing" else f", capped by {rule} at {capped:.8f}"
        )
        if quantity <= 0 or quantity * price < instrument.min_notional:
            raise _RefusedError(
                rule,
                f"{note}: below lot step {instrument.lot_step} or min notional "
                f"{instrument.min_notional} at {price}",
            )
        return _Sized(quantity=quantity, reduce_only=reduce_only, note=note)

    def _reaction_factor(self, p: ProposedOrder) -> tuple[Decimal, str]:
        """``clamp(expected / usual 1h move)`` from the reaction table, and the note saying so;
        1 (and no note) without a table entry, a usual move, or enough past events."""
        cfg = self.config
        move, usual, n = p.expected_move, p.baseline_move, p.reaction_samples
        if move is None or usual is None or usual <= 0 or move < 0:
            return Decimal(1), ""
        if n < cfg.reaction_min_samples:
            return Decimal(1), f" (reaction n={n} < {cfg.reaction_min_samples}: x1)"
        ratio = Decimal(str(round(move / usual, 4)))
        factor = min(max(ratio, cfg.reaction_scale_min), cfg.reaction_scale_max)
        return factor, f" x reaction {factor} ({move:.4%} vs {usual:.4%}, n={n})"

    def _accept(
        self, state: RiskState, p: ProposedOrder, sized: _Sized, out: list[RiskOutput]
    ) -> tuple[RiskState, list[RiskOutput]]:
        cfg = self.config
        now = state.now or p.created_at
        coid = p.client_order_id
        ref = p.reference_price if p.reference_price is not None else ZERO
        price = p.limit_price if p.limit_price is not None else ref
        out.append(
            OrderIntent(
                client_order_id=coid,
                signal_id=p.signal_id,
                news_key=p.news_key,
                model_version=p.model_version,
                playbook=p.playbook,
                account=p.account,
                venue=p.venue,
                market=p.market,
                symbol=p.symbol,
                side=p.side,
                order_type=p.order_type,
                quantity=sized.quantity,
                limit_price=p.limit_price,
                stop_loss=None if sized.reduce_only else p.stop_loss,
                take_profit=None if sized.reduce_only else p.take_profit,
                time_in_force=p.time_in_force,
                reduce_only=sized.reduce_only,
                hold_seconds=None if sized.reduce_only else p.hold_seconds,
                reference_price=ref,
                reason=f"{p.reason}; {sized.note}",
                created_at=p.created_at,
            )
        )
        order = OpenOrder(
            client_order_id=coid,
            venue=p.venue,
            symbol=p.symbol,
            side=p.side,
            remaining=sized.quantity,
            price=price,
            reduce_only=sized.reduce_only,
        )
        state = replace(
            state,
            open_orders={**state.open_orders, coid: order},
            order_times=(*state.order_times, now),
            cooldowns=with_item(
                state.cooldowns,
                (p.asset, p.event_type.value),
                now + timedelta(seconds=cfg.cooldown_seconds),
            ),
            seen_orders=with_item(state.seen_orders, coid, now),
            seen_stories=with_item(state.seen_stories, (p.story_id, p.symbol), now),
            marks={**state.marks, p.symbol: ref},
        )
        return state, out

    # -- fills, updates, marks ----------------------------------------------------------

    def _on_fill(self, state: RiskState, event: AccountFill) -> RiskState:
        fill = event.fill
        if fill.fill_id in state.seen_fills:
            return state
        pos = apply_fill_record(state.positions.get(fill.symbol, PositionState(fill.symbol)), fill)
        open_orders = dict(state.open_orders)
        order = open_orders.get(fill.client_order_id)
        if order is not None:
            remaining = order.remaining - fill.quantity
            if remaining > 0:
                open_orders[order.client_order_id] = replace(order, remaining=remaining)
            else:
                del open_orders[order.client_order_id]
        return replace(
            state,
            positions={**state.positions, fill.symbol: pos},
            marks={**state.marks, fill.symbol: fill.price},
            open_orders=open_orders,
            seen_fills=with_item(state.seen_fills, fill.fill_id, state.now or fill.filled_at),
        )

    def _on_update(self, state: RiskState, event: AccountOrderUpdate) -> RiskState:
        update = event.update
        order = state.open_orders.get(update.client_order_id)
        if order is None:
            return state
        open_orders = dict(state.open_orders)
        remaining = update.quantity - update.filled_quantity
        if update.status in TERMINAL or (update.quantity > 0 and remaining <= 0):
            del open_orders[order.client_order_id]
        elif update.quantity > 0:
            open_orders[order.client_order_id] = replace(order, remaining=remaining)
        return replace(state, open_orders=open_orders)

    def _on_reset(
        self, state: RiskState, event: ResetCommand, out: list[RiskOutput]
    ) -> tuple[RiskState, list[RiskOutput]]:
        if state.last_reset_at is not None and event.at <= state.last_reset_at:
            return state, out  # a reset seen before (re-delivered): already applied
        eq = self._equity(state)
        state = replace(state, peak_equity=eq, day_start_equity=eq, last_reset_at=event.at)
        reason = f"reset: {event.reason}"
        if state.trading_state is not event.to_state:
            state = self._transition(state, event.to_state, reason, out)
        return state, out

    # -- kill switch --------------------------------------------------------------------

    def _equity(self, state: RiskState) -> Decimal:
        return equity(state.initial_equity, state.positions.values(), state.marks)

    def _check_limits(
        self, state: RiskState, out: list[RiskOutput]
    ) -> tuple[RiskState, list[RiskOutput]]:
        cfg = self.config
        eq = self._equity(state)
        state = replace(state, peak_equity=max(state.peak_equity, eq))
        dd = drawdown_pct(state.peak_equity, eq)
        loss = state.day_start_equity - eq
        if dd >= cfg.max_drawdown_pct and state.trading_state is not TradingState.HALTED:
            reason = (
                f"drawdown {dd:.2f}% from peak {state.peak_equity} >= max {cfg.max_drawdown_pct}%"
            )
            state = self._transition(state, TradingState.HALTED, reason, out)
        elif loss >= cfg.daily_loss_limit and state.trading_state is TradingState.ACTIVE:
            reason = f"daily loss {loss} >= limit {cfg.daily_loss_limit}"
            state = self._transition(state, TradingState.REDUCING, reason, out)
        return state, out

    def _transition(
        self, state: RiskState, to: TradingState, reason: str, out: list[RiskOutput]
    ) -> RiskState:
        at = state.now or EPOCH
        out.append(
            TradingStateChanged(
                account=state.account,
                previous=state.trading_state,
                current=to,
                reason=reason,
                equity=self._equity(state),
                changed_at=at,
            )
        )
        if to is TradingState.HALTED:
            out.extend(
                CancelRequest(
                    account=state.account,
                    venue=o.venue,
                    symbol=o.symbol,
                    client_order_id=o.client_order_id,
                    reason=f"HALTED: {reason}",
                    created_at=at,
                )
                for o in state.open_orders.values()
            )
        return replace(state, trading_state=to, state_reason=reason)

    def _dead_letter(self, state: RiskState, event: object, reason: str) -> DeadLetter:
        try:
            payload = to_json(event)
        except (TypeError, ValueError, msgspec.MsgspecError):
            payload = repr(event).encode()
        return DeadLetter(
            stage="risk",
            reason=reason,
            key=account_of(event) or None,
            payload=payload,
            failed_at=state.now or EPOCH,
        )
