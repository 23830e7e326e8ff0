from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from prometheus_client import CollectorRegistry

from models.drift import DriftMonitor, DriftReference, psi
from records import ManualClock

LABELS = ("HACK", "REGULATION", "OTHER")


def unit(rows: np.ndarray) -> np.ndarray:
    out: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return out


def reference(rng: np.random.Generator) -> tuple[DriftReference, np.ndarray]:
    centre = rng.normal(size=32)
    emb = unit(centre + rng.normal(size=(2000, 32)))
    predicted = list(rng.choice(LABELS, size=2000, p=[0.1, 0.2, 0.7]))
    conf = rng.beta(8, 2, size=2000).astype(np.float32)
    return DriftReference.fit(LABELS, predicted, conf, emb, components=4), centre


def monitor(ref: DriftReference, registry: CollectorRegistry) -> DriftMonitor:
    clock = ManualClock(datetime(2024, 1, 1, tzinfo=UTC))
    return DriftMonitor(ref, "m-test", clock, window=400, threshold=0.25, registry=registry)


def test_psi_is_zero_for_identical_and_large_for_disjoint_histograms() -> None:
    assert psi(np.array([1, 2, 3]), np.array([2, 4, 6])) == 0.0
    assert psi(np.array([10, 0]), np.array([0, 10])) > 5


def test_unshifted_stream_raises_no_alert() -> None:
    rng = np.random.default_rng(7)
    ref, centre = reference(rng)
    registry = CollectorRegistry()
    mon = monitor(ref, registry)
    emb = unit(centre + rng.normal(size=(800, 32)))
    labels = list(rng.choice(LABELS, size=800, p=[0.1, 0.2, 0.7]))
    conf = rng.beta(8, 2, size=800)
    assert mon.observe(labels, list(conf), emb) == []
    assert mon.last is not None and not mon.last.alert
    assert (
        registry.get_sample_value("tradewire_model_drift_alert", {"model_version": "m-test"}) == 0
    )


def test_shifted_stream_fires_alert_and_retrain_trigger() -> None:
    rng = np.random.default_rng(7)
    ref, _centre = reference(rng)
    registry = CollectorRegistry()
    mon = monitor(ref, registry)
    other = rng.normal(size=32)
    emb = unit(other + rng.normal(size=(400, 32)))
    labels = list(rng.choice(LABELS, size=400, p=[0.6, 0.3, 0.1]))
    conf = rng.beta(2, 5, size=400)
    triggers = mon.observe(labels, list(conf), emb)
    assert len(triggers) == 1
    reasons = " ".join(triggers[0].reasons)
    assert "class_psi" in reasons and "confidence_psi" in reasons and "embedding_psi" in reasons
    assert triggers[0].raised_at == datetime(2024, 1, 1, tzinfo=UTC)
    sample = {"model_version": "m-test"}
    assert registry.get_sample_value("tradewire_model_drift_alert", sample) == 1
    assert registry.get_sample_value("tradewire_model_retrain_triggers_total", sample) == 1


def test_partial_window_is_not_scored() -> None:
    rng = np.random.default_rng(1)
    ref, _centre = reference(rng)
    mon = monitor(ref, CollectorRegistry())
    emb = unit(rng.normal(size=(100, 32)))
    assert mon.observe(["HACK"] * 100, [0.1] * 100, emb) == []
    assert mon.last is None
