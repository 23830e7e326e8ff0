"""The signal dataflow: raw news in; signals, order intents, rejections and dead letters out.

The factory takes its source, sinks and dependencies as arguments, so the demo, tests, backtests
and the Kafka deployment run the very same graph: only the edges differ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source
from bytewax.outputs import Sink

from connectors.marketdata.snapshots import MarketData
from flows import metrics
from operators.classify import Predictor, classify_batch
from operators.dedup import DedupLogic, StoryState, story_fingerprint
from operators.market import MarketSnapshot
from operators.normalise import RawMessage, normalise
from operators.playbook import PlaybookConfig, propose_orders, symbols_for
from operators.proposal import ProposedOrder
from operators.risk import CancelRequest, RiskConfig, RiskEvent
from operators.risk.flow_ops import risk_step
from records import (
    Clock,
    DeadLetter,
    NewsItem,
    OrderIntent,
    RiskRejection,
    Signal,
    StoryItem,
    to_json,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
X = TypeVar("X")


def _identity(x: Any) -> Any:
    return x


@dataclass(frozen=True)
class Output(Generic[T]):
    """A sink and how to encode records for it (identity in process, Kafka messages in prod)."""

    sink: Sink[Any]
    encode: Callable[[T], Any] = _identity
    observe: Callable[[T], None] | None = None
    """Optional side effect per record before encoding (progress displays, counters)."""


@dataclass(frozen=True)
class EventInput(Generic[T]):
    """Account events for the risk engine (fills, order updates, marks, resets) and how to
    read them from the source's items."""

    source: Source[T]
    adapt: Callable[[T], RiskEvent | DeadLetter]


@dataclass(frozen=True)
class SignalOutputs:
    signals: Output[Signal]
    intents: Output[OrderIntent] | None
    """Order intents alone (in process; replays run the kill switch in the backtest driver)."""
    rejections: Output[RiskRejection]
    dead_letters: Output[DeadLetter]
    orders: Output[OrderIntent | CancelRequest] | None = None
    """Intents and the kill switch's cancel requests through one output, in the order risk
    decided them, for an execution side that must never see a cancel before its order."""


@dataclass(frozen=True)
class TradingConfig:
    playbooks: PlaybookConfig
    risk: RiskConfig


@dataclass(frozen=True)
class SignalFlowConfig:
    trading: TradingConfig
    dedup_window: timedelta = timedelta(minutes=30)
    source_reliability: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SignalFlowDeps:
    """What the flow needs from the outside world, injected."""

    predictor: Callable[[], Predictor]
    """Returns the worker's model (loaded once per process, on first use)."""
    clock: Clock
    """Stamps refusals; event time comes from the items themselves."""
    wall: Clock
    """Only bounds memory (drops expired dedup state); never affects outputs."""
    market: MarketData
    """Prices and volatility known at each decision's time (sizing, limit and exit prices)."""


def _classify_or_dead_letter(
    stories: list[StoryItem], deps: SignalFlowDeps, config: SignalFlowConfig
) -> list[Signal | DeadLetter]:
    """Classify a batch; if it fails, retry item by item so one bad item can't sink the rest."""
    metrics.NLP_BATCH.observe(len(stories))
    try:
        return list(classify_batch(stories, deps.predictor, config.source_reliability))
    except Exception:
        log.exception("batch of %d failed in classification; retrying one by one", len(stories))
    out: list[Signal | DeadLetter] = []
    for story in stories:
        try:
            out.extend(classify_batch([story], deps.predictor, config.source_reliability))
        except Exception as exc:  # the item is kept, with the reason, in the dead-letter sink
            out.append(
                DeadLetter(
                    stage="classify",
                    reason=f"{type(exc).__name__}: {exc}",
                    key=story.item.key,
                    payload=to_json(story.item),
                    failed_at=deps.clock.now(),
                )
            )
    return out


def build_signals(
    flow: Dataflow,
    raw: Stream[RawMessage | DeadLetter],
    deps: SignalFlowDeps,
    config: SignalFlowConfig,
) -> tuple[Stream[Signal], Stream[DeadLetter]]:
    """normalise -> dedup window -> NER, classification, confidence (batched) -> signals."""
    parsed = op.map(
        "normalise",
        raw,
        lambda r: r if isinstance(r, DeadLetter) else normalise(r, deps.clock.now()),
    )
    checked = op.branch("valid", parsed, lambda x: isinstance(x, NewsItem))
    items: Stream[NewsItem] = checked.trues  # type: ignore[assignment]
    bad: Stream[DeadLetter] = checked.falses  # type: ignore[assignment]

    keyed = op.key_on("story_key", items, lambda item: story_fingerprint(item.title))

    def dedup_builder(state: StoryState | None) -> DedupLogic:
        return DedupLogic(state, config.dedup_window, deps.wall)

    stories = op.key_rm("unkey", op.stateful("dedup", keyed, dedup_builder))
    classified = op.flat_map_batch(
        "nlp", stories, lambda batch: _classify_or_dead_letter(batch, deps, config)
    )
    split = op.branch("classified", classified, lambda x: isinstance(x, Signal))
    signals: Stream[Signal] = split.trues  # type: ignore[assignment]
    nlp_bad: Stream[DeadLetter] = split.falses  # type: ignore[assignment]
    op.inspect("count_valid", items, lambda _s, _i: metrics.NEWS_IN.labels("valid").inc())
    op.inspect("count_invalid", bad, lambda _s, _i: metrics.NEWS_IN.labels("invalid").inc())
    op.inspect(
        "count_signals", signals, lambda _s, sig: metrics.SIGNALS.labels(sig.event_type).inc()
    )
    dead = op.merge("dead_letters", bad, nlp_bad)
    op.inspect("count_dead", dead, lambda _s, d: metrics.DEAD_LETTERS.labels(d.stage).inc())
    return signals, dead


def propose(signal: Signal, deps: SignalFlowDeps, playbooks: PlaybookConfig) -> list[ProposedOrder]:
    """Playbook step: fetch what the market looked like when the signal was received."""
    market: dict[str, MarketSnapshot] = {}
    for symbol in symbols_for(signal, playbooks):
        snap = deps.market.snapshot(symbol, signal.received_at)
        if snap is not None:
            market[symbol] = snap
    return propose_orders(signal, playbooks, market)


@dataclass(frozen=True)
class Decisions:
    intents: Stream[OrderIntent]
    rejections: Stream[RiskRejection]
    orders: Stream[OrderIntent | CancelRequest]
    errors: Stream[DeadLetter]


def build_decisions(
    signals: Stream[Signal],
    deps: SignalFlowDeps,
    trading: TradingConfig,
    account_events: Stream[RiskEvent] | None = None,
) -> Decisions:
    """playbook per event type -> risk (stateful per account) -> order intents."""
    proposals: Stream[RiskEvent] = op.flat_map(
        "playbook", signals, lambda s: propose(s, deps, trading.playbooks)
    )
    if account_events is not None:
        proposals = op.merge("risk_events", proposals, account_events)
    risk = risk_step("risk", proposals, trading.risk)
    op.inspect("count_intents", risk.intents, lambda _s, i: metrics.INTENTS.labels(i.symbol).inc())
    op.inspect(
        "count_rejections", risk.rejections, lambda _s, r: metrics.REJECTIONS.labels(r.rule).inc()
    )
    return Decisions(risk.intents, risk.rejections, risk.orders, risk.errors)


def write(step_id: str, up: Stream[T], out: Output[T]) -> None:
    if out.observe is not None:
        observe = out.observe
        op.inspect(f"{step_id}_observe", up, lambda _s, x: observe(x))
    op.output(step_id, op.map(f"{step_id}_encode", up, out.encode), out.sink)


def get_flow(
    source: Source[X],
    outputs: SignalOutputs,
    deps: SignalFlowDeps,
    config: SignalFlowConfig,
    adapt: Callable[[X], RawMessage | DeadLetter] = _identity,
    flow_id: str = "signals",
    account_events: EventInput[Any] | None = None,
) -> Dataflow:
    """The whole signal flow. ``account_events`` (fills, order updates, marks, resets from the
    execution side) feed the risk engine's positions and kill switch when given."""
    flow = Dataflow(flow_id)
    raw = op.map("adapt", op.input("news", flow, source), adapt)
    signals, dead = build_signals(flow, raw, deps, config)
    events: Stream[RiskEvent] | None = None
    if account_events is not None:
        adapt_event = account_events.adapt
        decoded = op.map(
            "decode_events", op.input("account_events", flow, account_events.source), adapt_event
        )
        split = op.branch("valid_events", decoded, lambda e: not isinstance(e, DeadLetter))
        events = split.trues  # type: ignore[assignment]
        dead = op.merge("events_dead", dead, split.falses)
    decisions = build_decisions(signals, deps, config.trading, events)
    write("signals_out", signals, outputs.signals)
    if outputs.intents is not None:
        write("intents_out", decisions.intents, outputs.intents)
    if outputs.orders is not None:
        write("orders_out", decisions.orders, outputs.orders)
    write("rejections_out", decisions.rejections, outputs.rejections)
    write("dlq_out", op.merge("all_dead", dead, decisions.errors), outputs.dead_letters)
    return flow


__all__: Sequence[str] = (
    "Output",
    "SignalFlowConfig",
    "SignalFlowDeps",
    "SignalOutputs",
    "get_flow",
)
