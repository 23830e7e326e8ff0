"""Risk engine: sizes proposed orders and refuses the unsafe ones, per account, in event time."""

from operators.risk.config import RiskConfig, parse_risk_config
from operators.risk.engine import RiskEngine
from operators.risk.events import (
    AccountFill,
    AccountOrderUpdate,
    CancelRequest,
    PriceMark,
    ResetCommand,
    RiskEvent,
    RiskOutput,
    TradingState,
    TradingStateChanged,
    account_of,
)
from operators.risk.state import OpenOrder, RiskState

__all__ = [
    "AccountFill",
    "AccountOrderUpdate",
    "CancelRequest",
    "OpenOrder",
    "PriceMark",
    "ResetCommand",
    "RiskConfig",
    "RiskEngine",
    "RiskEvent",
    "RiskOutput",
    "RiskState",
    "TradingState",
    "TradingStateChanged",
    "account_of",
    "parse_risk_config",
]
