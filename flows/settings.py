"""Flow settings: ``flows/tradewire.toml`` (flow, model, sources) + the trading TOML it names
(playbooks and risk limits, ``flows/playbooks.toml`` by default)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from flows.signal_flow import SignalFlowConfig, TradingConfig
from models.reaction_table import load_table
from operators.playbook import parse_playbook_config
from operators.risk import parse_risk_config
from records import Venue

DEFAULT_PATH = Path(__file__).with_name("tradewire.toml")
DEFAULT_TRADING_PATH = Path(__file__).with_name("playbooks.toml")
"""The shipped playbooks and risk limits, for a settings file without ``[trading] config``."""


def load_trading(path: str | Path) -> TradingConfig:
    return TradingConfig(playbooks=parse_playbook_config(path), risk=parse_risk_config(path))


def for_deployment(trading: TradingConfig, account: str | None, venue: str | None) -> TradingConfig:
    """The playbooks' default account and venue, as a deployment's settings name them (so a
    deployment need not copy the playbooks to trade on another venue)."""
    if account is None and venue is None:
        return trading
    defaults = trading.playbooks.defaults
    defaults = msgspec.structs.replace(
        defaults,
        account=defaults.account if account is None else str(account),
        venue=defaults.venue if venue is None else Venue(str(venue)),
    )
    playbooks = msgspec.structs.replace(trading.playbooks, defaults=defaults)
    return replace(trading, playbooks=playbooks)


def for_replay(trading: TradingConfig, reactions: str | None) -> TradingConfig:
    """Trading config for a replay of history: the price-reaction table is learnt from history,
    so a replay only uses one that is named explicitly (built ``--until`` the replay's start);
    the configured table would let the backtest size trades with knowledge of its own period."""
    table = load_table(reactions) if reactions else None
    playbooks = msgspec.structs.replace(trading.playbooks, reaction_table=table)
    return replace(trading, playbooks=playbooks)


@dataclass(frozen=True)
class FlowSettings:
    signal: SignalFlowConfig
    model_version: str | None
    """None: the registry's pinned version."""
    candidate_version: str | None
    """A model to run in shadow beside the primary (A/B); None: none."""
    trading_path: Path

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], base: Path) -> FlowSettings:
        flow = raw.get("flow", {})
        reliability = {str(k): float(v) for k, v in raw.get("source_reliability", {}).items()}
        bad = {k: v for k, v in reliability.items() if not 0.0 <= v <= 1.0}
        if bad:
            msg = f"source_reliability must be probabilities in [0, 1]: {bad}"
            raise ValueError(msg)
        trading_raw = raw.get("trading", {})
        named = trading_raw.get("config")
        trading_path = base / str(named) if named else DEFAULT_TRADING_PATH
        trading = for_deployment(
            load_trading(trading_path), trading_raw.get("account"), trading_raw.get("venue")
        )
        return cls(
            signal=SignalFlowConfig(
                trading=trading,
                dedup_window=timedelta(minutes=float(flow.get("dedup_window_minutes", 30))),
                source_reliability=reliability,
            ),
            model_version=str(raw.get("model", {}).get("version") or "") or None,
            candidate_version=str(raw.get("model", {}).get("candidate") or "") or None,
            trading_path=trading_path,
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> FlowSettings:
        file = Path(path or DEFAULT_PATH)
        with file.open("rb") as fh:
            return cls.from_mapping(tomllib.load(fh), file.parent)
