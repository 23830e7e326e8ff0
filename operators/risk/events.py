"""What flows into and out of the risk engine, besides the shared records.

Inputs all carry the account so the flow can key the engine by account; venue fills and order
updates do not, hence the thin ``Account*`` wrappers.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from operators.proposal import ProposedOrder
from records import (
    DeadLetter,
    Fill,
    OrderIntent,
    OrderUpdate,
    Position,
    RiskRejection,
    UtcDatetime,
    Venue,
)
from records.types import Record


class TradingState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    """Only orders that reduce an existing position (sent reduce-only)."""
    HALTED = "HALTED"
    """No new orders; open ones are cancelled. Only a reset leaves this state."""


class PriceMark(Record, frozen=True, kw_only=True):
    """Latest price of a symbol, for unrealised PnL, exposure and the kill switch."""

    account: str
    symbol: str
    price: Decimal
    at: UtcDatetime


class AccountFill(Record, frozen=True, kw_only=True):
    account: str
    fill: Fill


class AccountOrderUpdate(Record, frozen=True, kw_only=True):
    account: str
    update: OrderUpdate


class ResetCommand(Record, frozen=True, kw_only=True):
    """An operator's decision to resume trading: restarts peak and day-start equity from now."""

    account: str
    at: UtcDatetime
    reason: str
    to_state: TradingState = TradingState.ACTIVE


class CancelRequest(Record, frozen=True, kw_only=True):
    """Ask the execution flow to cancel an open order (sent when trading is HALTED)."""

    account: str
    venue: Venue
    symbol: str
    client_order_id: str
    reason: str
    created_at: UtcDatetime


class TradingStateChanged(Record, frozen=True, kw_only=True):
    account: str
    previous: TradingState
    current: TradingState
    reason: str
    equity: Decimal
    changed_at: UtcDatetime


RiskEvent = ProposedOrder | AccountFill | AccountOrderUpdate | Position | PriceMark | ResetCommand
RiskOutput = OrderIntent | RiskRejection | CancelRequest | TradingStateChanged | DeadLetter


def account_of(event: object) -> str:
    """Key for ``op.key_on``: never raises, so a malformed item reaches the engine's DLQ."""
    account = getattr(event, "account", None)
    return account if isinstance(account, str) else ""
