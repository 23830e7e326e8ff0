"""Risk limits, frozen, read from the playbooks TOML (its ``[risk]`` and ``[instruments]``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec

from operators.market import Instrument
from operators.tomlconfig import convert, read_trading_toml


class RiskConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Money is in quote currency (USDT); windows are seconds of event time."""

    initial_equity: Decimal
    """Account equity the engine starts from (before any PnL it observes)."""
    max_order_notional: Decimal
    max_position_notional: Decimal
    max_gross_exposure: Decimal
    """Sum over symbols of |position| x mark plus the notional of open orders."""
    max_open_orders: int
    order_rate_limit: int
    order_rate_window_seconds: int
    cooldown_seconds: int
    """After an order for (asset, event type), further ones wait this long."""
    duplicate_window_seconds: int
    """How long signal, story and fill ids are remembered for duplicate suppression."""
    daily_loss_limit: Decimal
    """Loss since the UTC day's start that switches ACTIVE to REDUCING (until the next day)."""
    max_drawdown_pct: Decimal
    """Fall from peak equity, in percent, that HALTS trading until a reset."""
    risk_per_trade: Decimal
    """Quote lost by a full-confidence order if price moves ``sizing_atr_multiple`` ATRs."""
    sizing_atr_multiple: Decimal
    max_price_age_seconds: int
    min_confidence: float = 0.0
    reaction_scale_min: Decimal = Decimal("0.5")
    reaction_scale_max: Decimal = Decimal("1.5")
    """The ATR size is scaled by the proposal's expected / usual 1 h move (from the reaction
    table), clamped to [min, max]: news that has moved prices more than usual trades larger."""
    reaction_min_samples: int = 20
    """Fewer past events than this behind the expectation: no scaling (factor 1)."""
    max_position_notional_by_symbol: dict[str, Decimal] = msgspec.field(default_factory=dict)
    instruments: dict[str, Instrument] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        positive: dict[str, Decimal | int] = {
            "initial_equity": self.initial_equity,
            "max_order_notional": self.max_order_notional,
            "max_position_notional": self.max_position_notional,
            "max_gross_exposure": self.max_gross_exposure,
            "max_open_orders": self.max_open_orders,
            "order_rate_limit": self.order_rate_limit,
            "order_rate_window_seconds": self.order_rate_window_seconds,
            "duplicate_window_seconds": self.duplicate_window_seconds,
            "daily_loss_limit": self.daily_loss_limit,
            "max_drawdown_pct": self.max_drawdown_pct,
            "risk_per_trade": self.risk_per_trade,
            "sizing_atr_multiple": self.sizing_atr_multiple,
            "max_price_age_seconds": self.max_price_age_seconds,
            **{
                f"max_position_notional_by_symbol.{k}": v
                for k, v in self.max_position_notional_by_symbol.items()
            },
        }
        bad = sorted(k for k, v in positive.items() if v <= 0)
        if bad:
            msg = f"must be > 0: {bad}"
            raise ValueError(msg)
        if self.cooldown_seconds < 0:
            msg = "cooldown_seconds must be >= 0"
            raise ValueError(msg)
        if not 0.0 <= self.min_confidence <= 1.0:
            msg = "min_confidence must be within [0, 1]"
            raise ValueError(msg)
        if not 0 < self.reaction_scale_min <= self.reaction_scale_max:
            msg = "need 0 < reaction_scale_min <= reaction_scale_max"
            raise ValueError(msg)
        if self.reaction_min_samples < 1:
            msg = "reaction_min_samples must be >= 1"
            raise ValueError(msg)

    def position_limit(self, symbol: str) -> Decimal:
        return self.max_position_notional_by_symbol.get(symbol, self.max_position_notional)


def parse_risk_config(source: str | Path) -> RiskConfig:
    """Load the risk view of the trading TOML (text or path); raises ``ConfigError``."""
    data = read_trading_toml(source)
    view = {**data.get("risk", {}), "instruments": data.get("instruments", {})}
    return convert(view, RiskConfig, "risk")
