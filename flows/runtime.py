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
_models: dict[str | None, Predictor] = {}


def model_loader(version: str | None) -> Callable[[], Predictor]:
    """A factory that loads the model on first use in each process and then reuses it, so
    workers sharing a process share one copy and nothing loads at import time."""

    def get() -> Predictor:
        with _lock:
            if version not in _models:
                from models.serving import SignalModel

                _models[version] = SignalModel.load(version)
            return _models[version]

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
        predictor=model_loader(settings.model_version), clock=clock, wall=clock, market=market
    )
