"""The execution flow end to end: Kafka (Tansu) intents -> real pybit / python-binance adapter
-> exchange simulator -> fills booked in the real PostgreSQL and published as account events."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest
from bytewax.inputs import DynamicSource, StatelessSourcePartition
from bytewax.testing import TestingSink, run_main
from confluent_kafka import Producer

from connectors.kafka import Topics, decode_account_event, ensure_topics
from connectors.marketdata.bars import PriceBook
from connectors.portfolio_store import PortfolioStore
from connectors.venues.base import ExecutionClient
from connectors.venues.binance import BinanceExecutionClient
from connectors.venues.bybit import BybitExecutionClient
from connectors.venues.config import ConfigError
from connectors.venues.simulator.testing import LocalSimulator
from flows import execution_flow
from flows.execution_flow import ExecutionDeps, ExecutionOutputs, build, get_flow
from flows.kafka_flow import KafkaSettings
from flows.signal_flow import Output
from operators.normalise import RawMessage
from operators.proposal import client_order_id
from operators.risk import AccountFill, AccountOrderUpdate, CancelRequest
from operators.time_exit import time_exit_id
from records import (
    DeadLetter,
    Market,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    SystemClock,
    Venue,
    from_json,
    to_json,
)
from tests.conftest import POSTGRES_DSN, TANSU_PRODUCER_CONFIG, drain_topic
from tests.doubles import order_intent

pytestmark = pytest.mark.integration
START = datetime(2022, 5, 9, 12, tzinfo=UTC)


def _intent(cid: str, venue: Venue = Venue.BYBIT) -> OrderIntent:
    return order_intent(
        cid,
        signal_id="sig-1",
        news_key="wire:1",
        playbook="HACK",
        account="acct1",
        venue=venue,
        reference_price=Decimal(30000),
        created_at=START,
    )


class AdoptionWatch:
    """The new process's client, noting when the flow asked the venue for its open orders."""

    def __init__(self, inner: BybitExecutionClient) -> None:
        self.inner = inner
        self.adopted = threading.Event()

    def open_orders(self, symbol: str | None = None) -> Sequence[OrderUpdate]:
        out = self.inner.open_orders(symbol)
        self.adopted.set()
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _wait(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.parametrize("venue", [Venue.BYBIT, Venue.BINANCE])
def test_intents_become_venue_orders_fills_and_positions(
    tansu: str, pg_schema: str, venue: Venue
) -> None:
    prefix = f"x{uuid.uuid4().hex[:8]}."
    topics = Topics.with_prefix(prefix)
    ensure_topics([tansu], topics.all(), partitions=2)
    producer = Producer({"bootstrap.servers": tansu, **TANSU_PRODUCER_CONFIG})
    intent = _intent("tw-exec-test-1", venue)
    producer.produce(topics.intents, key=b"BTCUSDT", value=to_json(intent))
    producer.produce(topics.intents, key=b"BTCUSDT", value=to_json(intent))  # re-delivered
    producer.produce(topics.intents, key=b"BTCUSDT", value=b'{"not": "an intent"}')
    assert producer.flush(10) == 0

    with LocalSimulator.start(PriceBook.bundled(), START) as sim:
        adapter = BybitExecutionClient if venue is Venue.BYBIT else BinanceExecutionClient
        client = adapter(sim.config(venue), account="acct1")
        store = PortfolioStore.connect(POSTGRES_DSN, pg_schema)
        done = threading.Event()
        deps = ExecutionDeps(
            client=lambda: client,
            account="acct1",
            clock=SystemClock(),
            poll_interval=timedelta(milliseconds=100),
            stop=done.is_set,
        )
        kafka = KafkaSettings(
            brokers=(tansu,), topics=topics, tail=False, producer_config=TANSU_PRODUCER_CONFIG
        )
        flow = build(kafka, deps, POSTGRES_DSN, pg_schema)
        runner = threading.Thread(target=run_main, args=(flow,), daemon=True)
        runner.start()
        try:
            engine = sim.exchange.engine(str(venue), Market.LINEAR)
            _wait(lambda: engine.order("tw-exec-test-1") is not None)
            sim.advance(2)  # the market moves on: the order fills at the next bar open
            _wait(lambda: bool(store.fills("acct1")))
        finally:
            done.set()
            runner.join(30)
        assert not runner.is_alive()

        [booked] = store.fills("acct1")
        assert booked.client_order_id == "tw-exec-test-1" and booked.quantity == Decimal("0.010")
        [position] = store.positions("acct1")
        assert position.quantity == Decimal("0.010")
        assert len(engine.orders()) == 1, "the re-delivered intent placed no second order"
        store.close()

    now = SystemClock().now()
    events = [
        decode_account_event(RawMessage(value=m.value), now)
        for ms in drain_topic(tansu, topics.account_events, 2).values()
        for m in ms
    ]
    fills = [e for e in events if isinstance(e, AccountFill)]
    updates = [e for e in events if isinstance(e, AccountOrderUpdate)]
    assert [f.fill.fill_id for f in fills] == [booked.fill_id]
    assert {u.update.status for u in updates} >= {OrderStatus.FILLED}
    assert all(e.account == "acct1" for e in fills + updates)
    dlq = drain_topic(tansu, topics.dlq, 2)
    dead = [from_json(m.value, DeadLetter) for ms in dlq.values() for m in ms]
    assert [d.stage for d in dead] == ["execution_in"]


def test_after_a_restart_orders_still_open_at_the_venue_report_their_fills(
    tansu: str, pg_schema: str
) -> None:
    prefix = f"r{uuid.uuid4().hex[:8]}."
    topics = Topics.with_prefix(prefix)
    ensure_topics([tansu], topics.all(), partitions=1)
    with LocalSimulator.start(PriceBook.bundled(), START) as sim:
        before = BybitExecutionClient(sim.config(Venue.BYBIT), account="acct1")
        assert before.submit(_intent("tw-before-restart")).status is OrderStatus.NEW

        after = AdoptionWatch(BybitExecutionClient(sim.config(Venue.BYBIT), account="acct1"))
        store = PortfolioStore.connect(POSTGRES_DSN, pg_schema)
        done = threading.Event()
        deps = ExecutionDeps(
            client=lambda: cast(ExecutionClient, after),
            account="acct1",
            clock=SystemClock(),
            poll_interval=timedelta(milliseconds=100),
            stop=done.is_set,
        )
        kafka = KafkaSettings(
            brokers=(tansu,), topics=topics, tail=False, producer_config=TANSU_PRODUCER_CONFIG
        )
        runner = threading.Thread(
            target=run_main, args=(build(kafka, deps, POSTGRES_DSN, pg_schema),), daemon=True
        )
        runner.start()
        try:
            assert after.adopted.wait(30), "the poller adopts open orders on its first poll"
            sim.advance(2)
            _wait(lambda: bool(store.fills("acct1")))
        finally:
            done.set()
            runner.join(30)
        [booked] = store.fills("acct1")
        assert booked.client_order_id == "tw-before-restart"
        store.close()


def test_venue_keys_can_come_from_a_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execution_flow, "_clients", {})
    secrets = tmp_path / "venue.env"
    secrets.write_text("TRADEWIRE_BYBIT_API_KEY=k\nTRADEWIRE_BYBIT_API_SECRET=s\n")
    env = {
        "TRADEWIRE_EXECUTION_VENUE": "bybit",
        "TRADEWIRE_BYBIT_NETWORK": "simulator",
        "TRADEWIRE_BYBIT_ENDPOINT": "http://127.0.0.1:9",
    }
    with pytest.raises(ConfigError, match="key and secret are required"):
        execution_flow.venue_client(env, "paper")()
    client = execution_flow.venue_client(env | {"TRADEWIRE_SECRETS_FILE": str(secrets)}, "paper")()
    assert isinstance(client, BybitExecutionClient)
    assert client.config.api_key == "k"
    assert client.account == "paper"


class _CancelOnceResting(StatelessSourcePartition[RawMessage]):
    """Sends the intent, then, once its order rests at the venue, the kill switch's requests."""

    def __init__(
        self, intent: OrderIntent, later: list[OrderIntent | CancelRequest], resting: Any
    ) -> None:
        self._script: list[list[OrderIntent | CancelRequest]] = [[intent], later]
        self._resting = resting

    def next_batch(self) -> list[RawMessage]:
        if not self._script:
            raise StopIteration
        if len(self._script) == 1 and not self._resting():
            time.sleep(0.05)
            return []
        return [RawMessage(value=to_json(record)) for record in self._script.pop(0)]


def test_kill_switch_cancel_requests_cancel_resting_orders_at_the_venue() -> None:
    cid = client_order_id("sig-rest", "HACK", "BTCUSDT", 0)  # a real id, as risk makes them
    resting = msgspec.structs.replace(
        _intent(cid), order_type=OrderType.LIMIT, limit_price=Decimal(10000)
    )
    requests = [
        CancelRequest(
            account=account,
            venue=Venue.BYBIT,
            symbol="BTCUSDT",
            client_order_id=order_id,
            reason="HALTED: drawdown",
            created_at=START,
        )
        for account, order_id in (("acct1", cid), ("someone-else", cid), ("acct1", "tw-unknown"))
    ]
    wrong_venue = msgspec.structs.replace(requests[0], venue=Venue.BINANCE)
    foreign = msgspec.structs.replace(
        _intent(client_order_id("sig-other", "HACK", "BTCUSDT", 0)), account="someone-else"
    )
    events: list[Any] = []
    fills: list[Any] = []
    dead: list[DeadLetter] = []
    with LocalSimulator.start(PriceBook.bundled(), START) as sim:
        client = BybitExecutionClient(sim.config(Venue.BYBIT), account="acct1")
        engine = sim.exchange.engine("bybit", Market.LINEAR)
        script = _CancelOnceResting(
            resting, [foreign, wrong_venue, *requests], lambda: engine.order(cid) is not None
        )
        deps = ExecutionDeps(
            client=lambda: client,
            account="acct1",
            clock=SystemClock(),
            poll_interval=timedelta(hours=1),
            stop=lambda: True,
        )
        outputs = ExecutionOutputs(
            events=Output(TestingSink(events)),
            fills=TestingSink(fills),
            dead_letters=Output(TestingSink(dead)),
        )
        run_main(get_flow(_Once(script), outputs, deps, lambda raw: raw))
        order = engine.order(cid)
        assert engine.order(foreign.client_order_id) is None  # another account's order
    assert order is not None and order.status == OrderStatus.CANCELED
    updates = [e.update for e in events if isinstance(e, AccountOrderUpdate)]
    assert [(u.client_order_id, u.status) for u in updates] == [
        (cid, OrderStatus.NEW),
        (cid, OrderStatus.CANCELED),
    ]
    assert not fills
    # another account's or venue's orders are left to its own flow; a refused cancel is dead
    [unknown] = dead
    assert unknown.stage == "execution_cancel"
    assert unknown.reason.startswith("cancel refused") and unknown.key == "tw-unknown"


class _Once(DynamicSource[RawMessage]):
    def __init__(self, part: StatelessSourcePartition[RawMessage]) -> None:
        self._part = part

    def build(
        self, step_id: str, worker_index: int, worker_count: int
    ) -> StatelessSourcePartition[RawMessage]:
        return self._part


class _SubmitThenAdvance(StatelessSourcePartition[RawMessage]):
    """Sends the intent; once its order is at the venue, moves the market on and ends."""

    def __init__(self, intent: OrderIntent, sim: LocalSimulator, cid: str) -> None:
        self._intent: OrderIntent | None = intent
        self._sim = sim
        self._cid = cid

    def next_batch(self) -> list[RawMessage]:
        if self._intent is not None:
            intent, self._intent = self._intent, None
            return [RawMessage(value=to_json(intent))]
        if self._sim.exchange.engine("bybit", Market.LINEAR).order(self._cid) is None:
            time.sleep(0.05)
            return []
        self._sim.advance(2)  # the order fills at the next bar open
        raise StopIteration


def test_an_entry_with_a_hold_is_closed_once_the_hold_has_run_out() -> None:
    cid = client_order_id("sig-hold", "HACK", "BTCUSDT", 0)
    entry = msgspec.structs.replace(_intent(cid), hold_seconds=3600)
    exits: list[OrderIntent | CancelRequest] = []
    events: list[Any] = []
    deadline = time.monotonic() + 30
    with LocalSimulator.start(PriceBook.bundled(), START) as sim:
        client = BybitExecutionClient(sim.config(Venue.BYBIT), account="acct1")
        deps = ExecutionDeps(
            client=lambda: client,
            account="acct1",
            clock=SystemClock(),
            poll_interval=timedelta(milliseconds=100),
            stop=lambda: bool(exits) or time.monotonic() > deadline,
        )
        outputs = ExecutionOutputs(
            events=Output(TestingSink(events)),
            fills=TestingSink([]),
            dead_letters=Output(TestingSink([])),
            time_exits=Output(TestingSink(exits)),
        )
        source = _Once(_SubmitThenAdvance(entry, sim, cid))
        run_main(get_flow(source, outputs, deps, lambda raw: raw))
    [fill] = [e.fill for e in events if isinstance(e, AccountFill)]
    assert fill.client_order_id == cid  # the venue reports under the intent's own id
    *cancels, close = exits  # a cancel of the rest comes first unless FILLED was seen already
    assert all(isinstance(c, CancelRequest) and c.client_order_id == cid for c in cancels)
    assert isinstance(close, OrderIntent)
    assert close.client_order_id == time_exit_id(cid, "BTCUSDT")
    assert (close.side, close.order_type, close.reduce_only) == (Side.SELL, OrderType.MARKET, True)
    assert close.quantity == fill.quantity == Decimal("0.010")
    assert close.created_at == fill.filled_at + timedelta(hours=1)
    assert close.hold_seconds is None and close.stop_loss is None
