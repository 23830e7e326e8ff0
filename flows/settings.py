"""Flow settings from one TOML file: defaults ship in ``flows/tradewire.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flows.signal_flow import SignalFlowConfig

DEFAULT_PATH = Path(__file__).with_name("tradewire.toml")


@dataclass(frozen=True)
class FlowSettings:
    signal: SignalFlowConfig
    model_version: str | None
    """None: the registry's pinned version."""

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> FlowSettings:
        flow = raw.get("flow", {})
        reliability = {str(k): float(v) for k, v in raw.get("source_reliability", {}).items()}
        bad = {k: v for k, v in reliability.items() if not 0.0 <= v <= 1.0}
        if bad:
            msg = f"source_reliability must be probabilities in [0, 1]: {bad}"
            raise ValueError(msg)
        return cls(
            signal=SignalFlowConfig(
                dedup_window=timedelta(minutes=float(flow.get("dedup_window_minutes", 30))),
                source_reliability=reliability,
            ),
            model_version=str(raw.get("model", {}).get("version") or "") or None,
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> FlowSettings:
        with Path(path or DEFAULT_PATH).open("rb") as fh:
            return cls.from_mapping(tomllib.load(fh))
