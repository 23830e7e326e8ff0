"""``risk_step`` inside real Bytewax dataflows: one worker and a two-worker cluster."""

from __future__ import annotations

from typing import Any

import bytewax.operators as op
import msgspec
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main

from operators.risk import CancelRequest, TradingStateChanged
from operators.risk.flow_ops import risk_step
from records import DeadLetter, OrderIntent, RiskRejection
from tests.operators.risk.helpers import CONFIG, D, config, fill, mark, proposal


def build(events: list[Any], cfg: Any = CONFIG) -> tuple[Dataflow, dict[str, list[Any]]]:
    sinks: dict[str, list[Any]] = {
        k: [] for k in ("intents", "rejections", "cancels", "orders", "state_changes", "errors")
    }
    flow = Dataflow("risk_test")
    up = op.input("in", flow, TestingSource(events))
    out = risk_step("risk", up, cfg)
    for name, items in sinks.items():
        op.output(f"out_{name}", getattr(out, name), TestingSink(items))
    return flow, sinks


def test_single_worker_routes_every_output_kind() -> None:
    cfg = config(daily_loss_limit=D(10000))
    events: list[Any] = [
        fill("f1", "0.05", "20000"),
        proposal("a", symbol="ETHUSDT", asset="ETH", price="1500", atr="10", seconds=1),
        proposal("a", symbol="ETHUSDT", asset="ETH", price="1500", atr="10", seconds=2),
        mark("10000", seconds=3),
        "garbage",
    ]
    flow, sinks = build(events, cfg)
    run_main(flow)
    (intent,) = sinks["intents"]
    assert isinstance(intent, OrderIntent)
    (rej,) = sinks["rejections"]
    assert isinstance(rej, RiskRejection)
    assert rej.rule == "duplicate_signal"
    (cancel,) = sinks["cancels"]
    assert isinstance(cancel, CancelRequest)
    assert cancel.client_order_id == intent.client_order_id
    assert sinks["orders"] == [intent, cancel]  # one stream, in the engine's order
    (change,) = sinks["state_changes"]
    assert isinstance(change, TradingStateChanged)
    (dead,) = sinks["errors"]
    assert isinstance(dead, DeadLetter)


def test_two_workers_keep_accounts_apart() -> None:
    """Each account has its own state wherever its key lands: one intent and one duplicate each."""
    accounts = ("alice", "bob", "carol", "dave")
    events = [
        msgspec.structs.replace(proposal("same", seconds=n), account=a)
        for a in accounts
        for n in (0, 1)
    ]
    flow, sinks = build(events)
    cluster_main(flow, [], 0, worker_count_per_proc=2)
    assert sorted(i.account for i in sinks["intents"]) == sorted(accounts)
    assert sorted(r.account for r in sinks["rejections"]) == sorted(accounts)
    assert {r.rule for r in sinks["rejections"]} == {"duplicate_signal"}
    assert not sinks["errors"]
