"""Bytewax wiring for the risk engine: key by account, run the engine, split its outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Stream, operator

from operators.risk.config import RiskConfig
from operators.risk.engine import RiskEngine
from operators.risk.events import (
    CancelRequest,
    RiskEvent,
    RiskOutput,
    TradingStateChanged,
    account_of,
)
from records import DeadLetter, OrderIntent, RiskRejection


@dataclass(frozen=True)
class RiskOut:
    """Streams out of ``risk_step``; all but ``intents`` may be left unconnected."""

    intents: Stream[OrderIntent]
    rejections: Stream[RiskRejection]
    cancels: Stream[CancelRequest]
    orders: Stream[OrderIntent | CancelRequest]
    """Intents and cancel requests together, in the order the engine decided them: a cancel
    never overtakes the intent it cancels."""
    state_changes: Stream[TradingStateChanged]
    errors: Stream[DeadLetter]


def _is(kind: type[Any]) -> Any:
    return lambda item: isinstance(item, kind)


def _order(item: RiskOutput) -> OrderIntent | CancelRequest | None:
    return item if isinstance(item, OrderIntent | CancelRequest) else None


@operator
def risk_step(step_id: str, up: Stream[RiskEvent], config: RiskConfig) -> RiskOut:
    """Run ``RiskEngine`` over proposed orders, fills, order updates, positions, marks, resets.

    State is keyed by account, so one account's events must arrive in order (they do when the
    upstream keeps each account in one partition); accounts run in parallel across workers.
    """
    engine = RiskEngine(config)
    keyed = op.key_on("by_account", up, account_of)
    outputs: Stream[RiskOutput] = op.key_rm(
        "unkey", op.stateful_flat_map("engine", keyed, engine.step)
    )
    intents = op.branch("intents", outputs, _is(OrderIntent))
    rejections = op.branch("rejections", intents.falses, _is(RiskRejection))
    cancels = op.branch("cancels", rejections.falses, _is(CancelRequest))
    changes = op.branch("state_changes", cancels.falses, _is(TradingStateChanged))
    return RiskOut(
        intents=intents.trues,
        rejections=rejections.trues,
        cancels=cancels.trues,
        orders=op.filter_map("orders", outputs, _order),
        state_changes=changes.trues,
        errors=changes.falses,
    )
