"""Production dependencies of the flows: the pinned model, loaded once per process, and clocks."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping

from connectors.marketdata.klines import BybitKlinesMarketData, KlineSession
from connectors.marketdata.snapshots import MarketData
from flows.settings import FlowSettings
from flows.signal_flow import SignalFlowDeps
from operators.classify import Predictor
from records import SystemClock

_lock = threading.Lock()
_models: dict[tuple[str | None, str | None], Predictor] = {}


def model_loader(version: str | None, candidate: str | None = None) -> Callable[[], Predictor]:
    """A factory that loads the model on first use in each process and then reuses it, so
    workers sharing a process share one copy and nothing loads at import time.

    The flow gets the primary's predictions; a ``candidate`` version runs beside it in shadow
    (disagreements and per-model metrics recorded), and the primary's live predictions and
    embeddings are watched for drift against its training data."""

    def get() -> Predictor:
        with _lock:
            key = (version, candidate)
            if key not in _models:
                from prometheus_client import REGISTRY

                from models.drift import DriftMonitor
                from models.router import ModelRouter
                from models.serving import SignalModel

                primary = SignalModel.load(version)
                drift = DriftMonitor(
                    reference=primary.bundle.drift,
                    model_version=primary.version,
                    clock=SystemClock(),
                    registry=REGISTRY,
                )
                shadow = SignalModel.load(candidate) if candidate else None
                _models[key] = ModelRouter(primary, shadow, registry=REGISTRY, drift=drift)
            return _models[key]

    return get


def live_market_data(env: Mapping[str, str] = os.environ) -> MarketData:
    """Bybit public klines; testnet unless ``TRADEWIRE_BYBIT_MAINNET=1``;
    ``TRADEWIRE_BYBIT_ENDPOINT`` points it elsewhere (the simulator)."""

    def session() -> KlineSession:
        from pybit.unified_trading import HTTP

        http = HTTP(testnet=env.get("TRADEWIRE_BYBIT_MAINNET") != "1")
        if endpoint := env.get("TRADEWIRE_BYBIT_ENDPOINT"):
            http.endpoint = endpoint
        result: KlineSession = http
        return result

    return BybitKlinesMarketData(session)


def default_deps(settings: FlowSettings, market: MarketData) -> SignalFlowDeps:
    clock = SystemClock()
    return SignalFlowDeps(
        predictor=model_loader(settings.model_version, settings.candidate_version),
        clock=clock,
        wall=clock,
        market=market,
    )
