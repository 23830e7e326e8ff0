"""The execution flow: order intents in; venue orders out; fills and order updates back.

Reads ``orders.intents``, submits each through the one execution interface (Bybit, Binance or
the simulator: the flow cannot tell them apart), polls the venue for fills and order changes,
books fills into the PostgreSQL portfolio and publishes them as account events, which the
signal flow's risk engine reads back (positions, open orders, kill switch).

    export TRADEWIRE_KAFKA_BROKERS=kafka:9092 TRADEWIRE_EXECUTION_VENUE=bybit
    export TRADEWIRE_BYBIT_API_KEY=... TRADEWIRE_BYBIT_API_SECRET=...   # testnet by default
    export TRADEWIRE_POSTGRES_DSN=postgresql://.../tradewire
    python -m bytewax.run "flows.execution_flow:from_env()"
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import bytewax.operators as op
import msgspec
from bytewax.connectors.kafka import KafkaSource
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import DynamicSource, Source, StatelessSourcePartition
from bytewax.outputs import Sink

from connectors.kafka import account_event_message, dead_letter_message, from_kafka, order_message
from connectors.portfolio_store.sink import PortfolioSink
from connectors.venues.base import ExecutionClient
from flows import metrics
from flows.kafka_flow import KafkaSettings
from flows.signal_flow import Output, write
from operators.normalise import RawMessage
from operators.risk import AccountFill, AccountOrderUpdate, CancelRequest
from operators.time_exit import TimeExitLogic, exit_key, wants_time_exit
from records import (
    Clock,
    DeadLetter,
    Fill,
    OrderIntent,
    OrderStatus,
    SystemClock,
    Venue,
    from_json,
    to_json,
)

log = logging.getLogger(__name__)
X = TypeVar("X")
AccountEvent = AccountFill | AccountOrderUpdate


@dataclass(frozen=True)
class ExecutionDeps:
    client: Callable[[], ExecutionClient]
    """The process's venue client (built on first use, shared by its workers)."""
    account: str
    clock: Clock
    poll_interval: timedelta = timedelta(seconds=2)
    stop: Callable[[], bool] | None = None
    """Ends the venue polling (tests, drained shutdowns); None: poll forever."""


@dataclass(frozen=True)
class ExecutionOutputs:
    events: Output[AccountEvent]
    fills: Sink[AccountFill]
    dead_letters: Output[DeadLetter]
    time_exits: Output[OrderIntent | CancelRequest] | None = None
    """For entries whose hold has run out: a cancel of what is still open, then the close, to
    execute like any order (on Kafka: back to ``orders.intents``); None drops them."""


class _Cancel(CancelRequest, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A cancel request and nothing more: a malformed intent must not pass for one."""


def decode_order(raw: RawMessage, now: datetime) -> OrderIntent | CancelRequest | DeadLetter:
    """An ``orders.intents`` record: an order intent, or the kill switch's cancel request."""
    try:
        return from_json(raw.value, OrderIntent)
    except msgspec.MsgspecError as exc:
        try:
            cancel = from_json(raw.value, _Cancel)
        except msgspec.MsgspecError:
            key = raw.key.decode("utf-8", "replace") if raw.key else raw.ref
            return DeadLetter(
                stage="execution_in",
                reason=f"invalid order intent: {exc}",
                key=key,
                payload=raw.value,
                failed_at=now,
            )
        return CancelRequest(**msgspec.structs.asdict(cancel))


def submit(intent: OrderIntent, deps: ExecutionDeps) -> AccountOrderUpdate:
    """The adapters never raise: a venue refusal comes back as a REJECTED update with reason."""
    update = deps.client().submit(intent)
    if update.reason:
        log.info("order %s %s: %s", intent.client_order_id, update.status, update.reason)
    return AccountOrderUpdate(account=intent.account, update=update)


def cancel(request: CancelRequest, deps: ExecutionDeps) -> AccountOrderUpdate | DeadLetter:
    """Cancel at the venue; the order's new state goes back to risk like any update.

    A cancel the venue refuses (after the adapter's retries) leaves the order as it was, so it
    is a dead letter, not an update: risk keeps the order open and the venue's own updates
    still report it. So is a client that raises.
    """
    now = deps.clock.now()
    try:
        update = deps.client().cancel(request.symbol, request.client_order_id)
    except Exception as exc:  # the flow keeps running; the request is kept in the dlq
        log.exception("cancelling %s failed", request.client_order_id)
        reason = f"cancel failed: {type(exc).__name__}: {exc}"
    else:
        if update.status is not OrderStatus.REJECTED:
            log.warning(
                "cancelled %s (%s): %s", request.client_order_id, update.status, request.reason
            )
            return AccountOrderUpdate(account=request.account, update=update)
        log.error("cancel of %s refused: %s", request.client_order_id, update.reason)
        reason = f"cancel refused: {update.reason}"
    return DeadLetter(
        stage="execution_cancel",
        reason=reason,
        key=request.client_order_id,
        payload=to_json(request),
        failed_at=now,
    )


def execute(
    order: OrderIntent | CancelRequest, deps: ExecutionDeps
) -> AccountOrderUpdate | DeadLetter:
    """One step for both, so a cancel is never carried out before the order it follows."""
    return submit(order, deps) if isinstance(order, OrderIntent) else cancel(order, deps)


class _Poller(StatelessSourcePartition[AccountEvent]):
    def __init__(self, deps: ExecutionDeps) -> None:
        self._deps = deps
        self._next = deps.clock.now()
        self._adopted = False

    def next_batch(self) -> list[AccountEvent]:
        if self._deps.stop is not None and self._deps.stop():
            raise StopIteration
        now = self._deps.clock.now()
        if now < self._next:
            return []
        self._next = now + self._deps.poll_interval
        events: list[AccountEvent] = []
        try:
            if not self._adopted:  # after a restart: follow what is still open at the venue
                log.info("following %d open orders", len(self._deps.client().open_orders()))
                self._adopted = True
            polled = self._deps.client().poll_updates()
        except Exception:  # a venue outage must not stop the flow: try again next interval
            log.exception("polling the venue failed")
            return []
        for event in polled:
            if isinstance(event, Fill):
                events.append(AccountFill(account=self._deps.account, fill=event))
            else:
                events.append(AccountOrderUpdate(account=self._deps.account, update=event))
        return events

    def next_awake(self) -> datetime | None:
        return self._next


class VenueUpdates(DynamicSource[AccountEvent]):
    """Fills and order changes from the venue; every worker drains the process's shared client,
    so each update is emitted once."""

    def __init__(self, deps: ExecutionDeps) -> None:
        self._deps = deps

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Poller:
        return _Poller(self._deps)


def get_flow(
    source: Source[X],
    outputs: ExecutionOutputs,
    deps: ExecutionDeps,
    adapt: Callable[[X], RawMessage | DeadLetter],
    flow_id: str = "execution",
) -> Dataflow:
    flow = Dataflow(flow_id)
    raw = op.map("adapt", op.input("intents", flow, source), adapt)
    decoded = op.map(
        "decode",
        raw,
        lambda r: r if isinstance(r, DeadLetter) else decode_order(r, deps.clock.now()),
    )
    split = op.branch("valid", decoded, lambda x: not isinstance(x, DeadLetter))
    valid: Stream[OrderIntent | CancelRequest] = split.trues  # type: ignore[assignment]
    bad: Stream[DeadLetter] = split.falses  # type: ignore[assignment]
    orders = op.filter("ours", valid, lambda o: _ours(o, deps.account, deps.client().venue))
    outcomes = op.map("execute", orders, lambda o: execute(o, deps))
    done = op.branch("executed", outcomes, lambda x: isinstance(x, AccountOrderUpdate))
    executed: Stream[AccountEvent] = done.trues  # type: ignore[assignment]
    failed: Stream[DeadLetter] = done.falses  # type: ignore[assignment]
    dead = op.merge("dead", bad, failed)
    polled = op.input("venue_updates", flow, VenueUpdates(deps))
    events: Stream[AccountEvent] = op.merge("events", executed, polled)
    fills = op.filter_map("fills", events, lambda e: e if isinstance(e, AccountFill) else None)
    op.output("portfolio", fills, outputs.fills)
    if outputs.time_exits is not None:
        holds = op.filter_map("holds", orders, _held)
        entries = op.key_on("by_entry", op.merge("entry_events", holds, events), exit_key)
        exits = op.key_rm(
            "unkey_exits",
            op.stateful("time_exits", entries, lambda state: TimeExitLogic(state, deps.clock)),
        )
        write("time_exits_out", exits, outputs.time_exits)
    write("events_out", events, outputs.events)
    write("dlq_out", dead, outputs.dead_letters)
    return flow


def _ours(order: OrderIntent | CancelRequest, account: str, venue: Venue) -> bool:
    """One execution flow per account and venue reads the shared topic: others' orders are
    theirs (counted, so a deployment whose playbooks name another venue shows up)."""
    if order.account == account and order.venue == venue:
        return True
    metrics.OTHER_ORDERS.labels(order.account, order.venue).inc()
    return False


def _held(order: OrderIntent | CancelRequest) -> OrderIntent | None:
    return order if isinstance(order, OrderIntent) and wants_time_exit(order) else None


_lock = threading.Lock()
_clients: dict[str, ExecutionClient] = {}


def venue_client(env: Mapping[str, str], account: str) -> Callable[[], ExecutionClient]:
    """The configured venue's client, one per process (testnet unless mainnet is confirmed).

    Keys come from the environment or from ``TRADEWIRE_SECRETS_FILE`` (``NAME=value`` lines, e.g.
    a mounted Kubernetes Secret); the environment wins where both have one."""
    venue = Venue(env.get("TRADEWIRE_EXECUTION_VENUE", "bybit"))

    def get() -> ExecutionClient:
        with _lock:
            if venue.value not in _clients:
                from connectors.venues.binance import BinanceExecutionClient
                from connectors.venues.bybit import BybitExecutionClient
                from connectors.venues.config import VenueConfig

                secrets = env.get("TRADEWIRE_SECRETS_FILE")
                config = VenueConfig.from_env(venue, env, Path(secrets) if secrets else None)
                kind: Any = BybitExecutionClient if venue is Venue.BYBIT else BinanceExecutionClient
                _clients[venue.value] = kind(config, account=account)
            return _clients[venue.value]

    return get


def build(kafka: KafkaSettings, deps: ExecutionDeps, dsn: str, schema: str) -> Dataflow:
    source = KafkaSource(
        list(kafka.brokers),
        [kafka.topics.intents],
        tail=kafka.tail,
        add_config=dict(kafka.client_config),
        raise_on_errors=False,
    )
    outputs = ExecutionOutputs(
        events=Output(kafka.sink(kafka.topics.account_events), account_event_message),
        fills=PortfolioSink(dsn, schema),
        dead_letters=Output(kafka.sink(kafka.topics.dlq), dead_letter_message),
        time_exits=Output(kafka.sink(kafka.topics.intents), order_message),
    )
    return get_flow(source, outputs, deps, lambda m: from_kafka(m, deps.clock.now()))


def from_env() -> Dataflow:
    """Entry point for ``python -m bytewax.run``: everything from the environment."""
    env = os.environ
    dsn = env.get("TRADEWIRE_POSTGRES_DSN")
    if not dsn:
        msg = "TRADEWIRE_POSTGRES_DSN is not set (the portfolio's PostgreSQL)"
        raise RuntimeError(msg)
    account = env.get("TRADEWIRE_ACCOUNT", "paper")
    deps = ExecutionDeps(client=venue_client(env, account), account=account, clock=SystemClock())
    return build(
        KafkaSettings.from_env(), deps, dsn, env.get("TRADEWIRE_POSTGRES_SCHEMA", "portfolio")
    )
