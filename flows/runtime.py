"""Production dependencies of the flows: the pinned model, loaded once per process, and clocks."""

from __future__ import annotations

import threading
from collections.abc import Callable

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


def default_deps(settings: FlowSettings) -> SignalFlowDeps:
    clock = SystemClock()
    return SignalFlowDeps(predictor=model_loader(settings.model_version), clock=clock, wall=clock)
