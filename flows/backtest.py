"""The backtest: historical news through the live signal flow, playbooks, risk and simulator.

Two stages, both in event time:

1. The signal flow (``flows.signal_flow.get_flow``, the same graph as live) turns the replayed
   news into signals; its clock is moved to each item's receipt time.
2. Signals, in receipt order, go through the live playbook (``propose_orders``) and risk engine
   (``RiskEngine.step``) and the resulting intents into ``SimulatedExecutionClient`` on
   historical bars. Fills, order updates and price marks flow back into the risk engine, as the
   execution flow does live. Market data for a decision is only what had closed at ``received_at``;
   an order fills no earlier than the first bar opening at ``received_at + latency``.

Every order, update and fill is logged in processing order; a rerun gives the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from bytewax.testing import TestingSink, TestingSource, run_main

from connectors.marketdata.bars import PriceBook
from connectors.marketdata.snapshots import BarsMarketData, MarketData
from connectors.venues.simulated import SimulatedExecutionClient
from connectors.venues.simulator.engine import EngineConfig
from flows.signal_flow import Output, SignalFlowConfig, SignalFlowDeps, SignalOutputs, get_flow
from operators.analytics import EquityPoint, Fold, choose, equity_stats, folds
from operators.analytics.ledger import Ledger, TradeMeta
from operators.analytics.trades import ClosedTrade
from operators.classify import Predictor
from operators.normalise import RawMessage
from operators.playbook import PlaybookConfig, propose_orders, symbols_for
from operators.risk import (
    AccountFill,
    AccountOrderUpdate,
    CancelRequest,
    PriceMark,
    RiskConfig,
    RiskEngine,
    RiskState,
    TradingStateChanged,
)
from records import (
    DeadLetter,
    Fill,
    ManualClock,
    Market,
    OrderIntent,
    OrderType,
    RiskRejection,
    Side,
    Signal,
    to_json,
)

BPS = Decimal(10_000)
ZERO = Decimal(0)
FUNDING_HOURS = (0, 8, 16)
"""Perpetual funding is exchanged every 8 hours at these UTC hours (Binance and Bybit)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXIT_REASONS = {"-sl": "stop_loss", "-tp": "take_profit", "-tx": "time_exit"}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Costs:
    """What trading costs: fees, slippage, latency and perpetual funding."""

    taker_fee_bps: Decimal = Decimal("5.5")
    maker_fee_bps: Decimal = Decimal(2)
    slippage: Literal["fixed", "volatility"] = "fixed"
    slippage_bps: Decimal = Decimal(2)
    """Fixed model: every taker fill moves this many bps against the trader."""
    volatility_multiple: Decimal = Decimal("0.1")
    """Volatility model: slippage = this x the mean (high - low) / close of recent bars."""
    volatility_bars: int = 24
    latency: timedelta = timedelta(seconds=2)
    """From decision (signal receipt) to the order reaching the venue."""
    funding_rate_8h: Decimal = Decimal("0.0001")
    """Per 8 hours, paid by longs to shorts (perpetuals only; no history is bundled, so a
    constant typical rate is charged)."""

    def manifest(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items()}


@dataclass
class SimResult:
    trades: list[ClosedTrade]
    curve: list[EquityPoint]
    log: list[bytes]
    """One JSON line per order intent, order update, fill, rejection and state change."""
    rejections: list[RiskRejection]
    fills: int
    signals_used: int
    fees: Decimal
    funding: Decimal


def _reason(client_order_id: str) -> str:
    return EXIT_REASONS.get(client_order_id[-3:], "signal")


def _entry_id(client_order_id: str) -> str:
    return client_order_id[:-3] if client_order_id[-3:] in EXIT_REASONS else client_order_id


class _Replay:
    """One simulation's mutable state; ``simulate`` is its only user."""

    def __init__(
        self,
        prices: PriceBook,
        playbooks: PlaybookConfig,
        risk: RiskConfig,
        costs: Costs,
        start: datetime,
    ) -> None:
        self.prices = prices
        self.market = BarsMarketData(prices, playbooks.defaults.atr_period)
        self.playbooks = playbooks
        self.costs = costs
        self.clock = ManualClock(start)
        fixed = costs.slippage_bps if costs.slippage == "fixed" else ZERO
        self.client = SimulatedExecutionClient.create(
            prices,
            self.clock,
            balances={"USDT": risk.initial_equity},
            config=EngineConfig(
                taker_fee_bps=costs.taker_fee_bps,
                maker_fee_bps=costs.maker_fee_bps,
                slippage_bps=fixed,
                latency=costs.latency,
            ),
            markets=(playbooks.defaults.market,),
            account=playbooks.defaults.account,
        )
        self.account = playbooks.defaults.account
        self.risk = RiskEngine(risk)
        self.state: RiskState | None = None
        self.ledger = Ledger(cash=risk.initial_equity)
        self.meta: dict[str, TradeMeta] = {}
        self.order_types: dict[str, OrderType] = {}
        self.log: list[bytes] = []
        self.rejections: list[RiskRejection] = []
        self.marks: dict[str, Decimal] = {}
        self.fills = 0
        self.maybe_open = False

    def _record(self, kind: str, record: Any) -> None:
        self.log.append(to_json({"kind": kind, "record": record}))

    def _risk(self, event: object) -> None:
        self.state, outputs = self.risk.step(self.state, event)
        for out in outputs:
            if isinstance(out, OrderIntent):
                self._submit(out)
            elif isinstance(out, RiskRejection):
                self.rejections.append(out)
                self._record("rejection", out)
            elif isinstance(out, CancelRequest):
                self._record("cancel", out)
                self._record("update", self.client.cancel(out.symbol, out.client_order_id))
            elif isinstance(out, TradingStateChanged):
                self._record("state", out)
            elif isinstance(out, DeadLetter):
                self._record("dead_letter", out)

    def _submit(self, intent: OrderIntent) -> None:
        self._record("intent", intent)
        self.maybe_open = True
        update = self.client.submit(intent)
        self._record("update", update)
        self._risk(AccountOrderUpdate(account=self.account, update=update))

    def _slipped(self, fill: Fill) -> Decimal:
        """Volatility slippage on taker fills (market entries and every exit)."""
        if self.costs.slippage != "volatility":
            return fill.price
        entry = self.order_types.get(fill.client_order_id)
        if entry is OrderType.LIMIT:
            return fill.price
        series = self.prices.series[fill.symbol]
        bars = series.closed_before(fill.filled_at, self.costs.volatility_bars)
        if not bars:
            return fill.price
        ranges = sum(((b.high - b.low) / b.close for b in bars), ZERO) / len(bars)
        move = fill.price * ranges * self.costs.volatility_multiple
        return fill.price + move if fill.side is Side.BUY else fill.price - move

    def drain(self) -> None:
        for event in self.client.poll_updates():
            if isinstance(event, Fill):
                self.fills += 1
                price = self._slipped(event)
                self._record("fill", event)
                self.ledger.fill(
                    order_id=_entry_id(event.client_order_id),
                    symbol=event.symbol,
                    side=event.side,
                    quantity=event.quantity,
                    price=price,
                    fee=event.fee,
                    at=event.filled_at,
                    meta=self.meta.get(event.client_order_id),
                    reason=_reason(event.client_order_id),
                )
                self._risk(AccountFill(account=self.account, fill=event))
            else:
                self._record("update", event)
                self._risk(AccountOrderUpdate(account=self.account, update=event))

    def _busy(self) -> bool:
        """Anything open (position or order)? While flat, bars cannot change the account."""
        if self.ledger.positions:
            return True
        if self.maybe_open:
            self.maybe_open = any(e.orders(open_only=True) for e in self.client.engines.values())
        return self.maybe_open

    def _marks(self, at: datetime) -> None:
        """Tell risk the latest known prices that changed (the execution flow does so live)."""
        for symbol in self.prices.symbols():
            price = self.prices.last_price(symbol, at)
            if price is not None and self.marks.get(symbol) != price:
                self.marks[symbol] = price
                self._risk(PriceMark(account=self.account, symbol=symbol, price=price, at=at))

    def tick(self, at: datetime, funding: bool) -> EquityPoint | None:
        """A bar close: fills, marks and funding while anything is open. Flat, bars cannot
        change the account: only UTC midnights are marked (for daily and monthly figures)."""
        if not self._busy():
            midnight = at.hour == 0 and at.minute == 0 and at.second == 0
            return EquityPoint(at, self.ledger.cash) if midnight else None
        self.clock.set(at)
        self.drain()
        self._marks(at)
        if funding and self.costs.funding_rate_8h and self.ledger.positions:
            self.ledger.charge_funding(self.marks, self.costs.funding_rate_8h)
        return EquityPoint(at, self.ledger.equity(self.marks))

    def signal(self, sig: Signal) -> None:
        at = sig.received_at
        self.clock.set(at)
        if self._busy():
            self.drain()
        snaps = {}
        for symbol in symbols_for(sig, self.playbooks):
            snap = self.market.snapshot(symbol, at)
            if snap is not None:
                snaps[symbol] = snap
        proposals = propose_orders(sig, self.playbooks, snaps)
        if proposals:
            self._marks(at)
        for proposal in proposals:
            self.meta[proposal.client_order_id] = TradeMeta(
                symbol=proposal.symbol,
                asset=proposal.asset,
                event_type=sig.event_type.value,
                source=sig.source,
                playbook=proposal.playbook,
                signal_id=sig.signal_id,
                decided_at=at,
            )
            self.order_types[proposal.client_order_id] = proposal.order_type
            self._risk(proposal)

    def close_all(self, at: datetime) -> EquityPoint:
        """Flatten what is still open at the end, at the last mark, paying taker costs."""
        self.clock.set(at)
        self.drain()
        for symbol in self.ledger.open_symbols():
            qty = self.ledger.positions[symbol]
            mark = self.marks[symbol]
            side = Side.SELL if qty > 0 else Side.BUY
            slip = mark * self.costs.slippage_bps / BPS if self.costs.slippage == "fixed" else ZERO
            price = mark - slip if side is Side.SELL else mark + slip
            fee = abs(qty) * price * self.costs.taker_fee_bps / BPS
            self.ledger.fill(
                order_id=f"end-{symbol}",
                symbol=symbol,
                side=side,
                quantity=abs(qty),
                price=price,
                fee=fee,
                at=at,
                meta=None,
                reason="end",
            )
            self._record("end_close", {"symbol": symbol, "quantity": qty, "price": price})
        return EquityPoint(at, self.ledger.equity(self.marks))


def bar_closes(prices: PriceBook, start: datetime, end: datetime) -> list[datetime]:
    """Every bar close in ``(start, end]`` at the finest interval of the book: the equity marks
    (a missing bar just repeats the last price)."""
    step = min(series.interval for series in prices.series.values())
    first = datetime.fromtimestamp(
        -(-start.timestamp() // step.total_seconds()) * step.total_seconds(), tz=UTC
    )
    if first == start:
        first += step
    count = int((end - first) / step) + 1 if end >= first else 0
    return [first + i * step for i in range(count)]


def simulate(
    signals: Sequence[Signal],
    prices: PriceBook,
    playbooks: PlaybookConfig,
    risk: RiskConfig,
    costs: Costs,
    start: datetime,
    end: datetime,
    gate: Callable[[Signal], bool] | None = None,
    progress: Progress | None = None,
) -> SimResult:
    """Trade ``signals`` received in ``[start, end)``; ``gate`` may veto a signal (tuning)."""
    replay = _Replay(prices, playbooks, risk, costs, start)
    todo = sorted(
        (s for s in signals if start <= s.received_at < end),
        key=lambda s: (s.received_at, s.news_key, s.signal_id),
    )
    curve = [EquityPoint(start, risk.initial_equity)]
    used = 0
    i = 0
    for at in bar_closes(prices, start, end):
        while i < len(todo) and todo[i].received_at < at:
            if gate is None or gate(todo[i]):
                replay.signal(todo[i])
                used += 1
            i += 1
            if progress is not None:
                progress(1)
        funding = at.minute == 0 and at.second == 0 and at.hour in FUNDING_HOURS
        point = replay.tick(at, funding and playbooks.defaults.market is Market.LINEAR)
        if point is not None:
            curve.append(point)
    for sig in todo[i:]:
        if gate is None or gate(sig):
            replay.signal(sig)
            used += 1
        if progress is not None:
            progress(1)
    last = replay.close_all(end)
    if last.time > curve[-1].time:
        curve.append(last)
    else:
        curve[-1] = EquityPoint(curve[-1].time, last.equity)
    return SimResult(
        trades=replay.ledger.trades,
        curve=curve,
        log=replay.log,
        rejections=replay.rejections,
        fills=replay.fills,
        signals_used=used,
        fees=replay.ledger.fees,
        funding=replay.ledger.funding,
    )


# -- stage 1: news -> signals through the live signal flow ------------------------------------


def compute_signals(
    messages: Sequence[RawMessage],
    predictor: Callable[[], Predictor],
    config: SignalFlowConfig,
    market: MarketData,
    *,
    batch_size: int = 256,
    progress: Progress | None = None,
) -> tuple[list[Signal], list[DeadLetter]]:
    """Run the signal flow over the replayed messages on an event-time clock.

    The flow's own intents are discarded: its risk step sees no fills here, so stage 2 re-runs
    the same playbook and risk code with the simulator's fills fed back in event time."""
    first = next((m.timestamp for m in messages if m.timestamp is not None), EPOCH)
    clock = ManualClock(first)
    signals: list[Signal] = []
    dead: list[DeadLetter] = []
    discard: list[Any] = []

    def adapt(raw: RawMessage) -> RawMessage:
        if raw.timestamp is not None and raw.timestamp > clock.now():
            clock.set(raw.timestamp)
        if progress is not None:
            progress(1)
        return raw

    outputs = SignalOutputs(
        signals=Output(TestingSink(signals)),
        intents=Output(TestingSink(discard)),
        rejections=Output(TestingSink(discard)),
        dead_letters=Output(TestingSink(dead)),
    )
    deps = SignalFlowDeps(predictor=predictor, clock=clock, wall=clock, market=market)
    source = TestingSource(list(messages), batch_size=batch_size)
    run_main(get_flow(source, outputs, deps, config, adapt=adapt, flow_id="backtest"))
    signals.sort(key=lambda s: (s.received_at, s.news_key, s.signal_id))
    return signals, dead


# -- walk-forward -----------------------------------------------------------------------------


@dataclass
class WalkForward:
    folds: list[Fold]
    thresholds: list[float]
    chosen: list[float]
    in_sample: list[dict[str, float | None]]
    """Per fold: candidate threshold -> in-sample Sharpe."""
    oos: SimResult
    oos_start: datetime
    candidates: dict[float, SimResult] = field(default_factory=dict)


def _at_least(threshold: float) -> Callable[[Signal], bool]:
    return lambda s: s.confidence >= threshold


def _window(curve: Sequence[EquityPoint], start: datetime, end: datetime) -> list[EquityPoint]:
    return [p for p in curve if start <= p.time <= end]


def walk_forward(
    signals: Sequence[Signal],
    prices: PriceBook,
    playbooks: PlaybookConfig,
    risk: RiskConfig,
    costs: Costs,
    start: datetime,
    end: datetime,
    *,
    train: timedelta,
    test: timedelta,
    thresholds: Sequence[float],
    progress: Progress | None = None,
) -> WalkForward:
    """Tune the minimum signal confidence on each training window (best in-sample Sharpe),
    trade the following test window with it. Candidates run once over the whole period and are
    scored on the training slice only; the out-of-sample run switches threshold at each fold's
    test start, so positions carry over as they would live."""
    fold_list = folds(start, end, train, test)
    if not fold_list:
        msg = f"period {start}..{end} is too short for train={train} test={test}"
        raise ValueError(msg)
    order = sorted(thresholds, reverse=True)
    runs = {
        th: simulate(
            signals,
            prices,
            playbooks,
            risk,
            costs,
            start,
            end,
            gate=_at_least(th),
            progress=progress,
        )
        for th in order
    }
    chosen: list[float] = []
    scores: list[dict[str, float | None]] = []
    for fold in fold_list:
        fold_scores: dict[float, float | None] = {}
        for th, run in runs.items():
            window = _window(run.curve, fold.train_start, fold.train_end)
            fold_scores[th] = equity_stats(window).sharpe if len(window) > 2 else None
        chosen.append(choose(fold_scores, order))
        scores.append({str(k): v for k, v in fold_scores.items()})
    starts = [f.test_start for f in fold_list]

    def gate(sig: Signal) -> bool:
        k = max(i for i, s in enumerate(starts) if s <= sig.received_at)
        return sig.confidence >= chosen[k]

    oos = simulate(
        signals, prices, playbooks, risk, costs, starts[0], end, gate=gate, progress=progress
    )
    return WalkForward(
        folds=fold_list,
        thresholds=order,
        chosen=chosen,
        in_sample=scores,
        oos=oos,
        oos_start=starts[0],
        candidates=runs,
    )


# -- run records ------------------------------------------------------------------------------


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_versions(signals: Iterable[Signal]) -> list[str]:
    return sorted({s.model_version for s in signals})


__all__ = [
    "Costs",
    "SimResult",
    "WalkForward",
    "compute_signals",
    "simulate",
    "walk_forward",
]
