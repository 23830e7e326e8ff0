"""Drift detection: windowed prediction statistics against the training reference (PSI).

Three views of one window of live predictions are compared with the reference stored in the
model artefact: the predicted event-type mix, the distribution of calibrated confidence, and the
embedding distribution (projected on the training set's top principal components, each binned at
the training deciles). The population stability index of each is exported as a Prometheus gauge;
when any crosses the threshold (0.25 is the usual "significant shift" line) the window raises the
alert gauge and yields a ``RetrainTrigger`` record for whoever schedules retraining.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from prometheus_client import CollectorRegistry, Counter, Gauge

from records import Clock

FloatArray = npt.NDArray[np.float32]
CONFIDENCE_BINS = 10
_EPS = 1e-4


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Population stability index of two histograms (counts or shares, same bins)."""
    e = np.asarray(expected, np.float64)
    a = np.asarray(actual, np.float64)
    e = np.clip(e / max(e.sum(), _EPS), _EPS, None)
    a = np.clip(a / max(a.sum(), _EPS), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def confidence_histogram(confidence: FloatArray) -> FloatArray:
    counts, _ = np.histogram(confidence, bins=CONFIDENCE_BINS, range=(0.0, 1.0))
    return counts.astype(np.float32)


@dataclass(frozen=True, slots=True, eq=False)
class DriftReference:
    """What "normal" looked like at training time; stored in the artefact."""

    labels: tuple[str, ...]
    class_mix: FloatArray
    confidence_hist: FloatArray
    pca_mean: FloatArray
    pca_components: FloatArray
    """(k, dim) unit rows."""
    pca_edges: FloatArray
    """(k, 9) training deciles of each projection."""

    @classmethod
    def fit(
        cls,
        labels: Sequence[str],
        predicted: Sequence[str],
        confidence: FloatArray,
        embeddings: FloatArray,
        components: int = 8,
    ) -> DriftReference:
        mix = np.array([sum(p == label for p in predicted) for label in labels], np.float32)
        mean = embeddings.mean(axis=0)
        _, _, vt = np.linalg.svd(embeddings - mean, full_matrices=False)
        comps = vt[:components].astype(np.float32)
        proj = (embeddings - mean) @ comps.T
        edges = np.percentile(proj, np.arange(10, 100, 10), axis=0).T.astype(np.float32)
        return cls(
            tuple(labels),
            mix,
            confidence_histogram(confidence),
            mean.astype(np.float32),
            comps,
            edges,
        )

    def embedding_psi(self, embeddings: FloatArray) -> float:
        """Mean PSI over the principal projections (each: 10 training-decile bins)."""
        proj = (embeddings - self.pca_mean) @ self.pca_components.T
        values = []
        for k in range(self.pca_components.shape[0]):
            counts = np.bincount(np.searchsorted(self.pca_edges[k], proj[:, k]), minlength=10)
            values.append(psi(np.full(10, 0.1), counts))
        return float(np.mean(values))


@dataclass(frozen=True, slots=True)
class DriftStats:
    window_end: datetime
    n: int
    class_psi: float
    confidence_psi: float
    embedding_psi: float
    mean_confidence: float
    alert: bool


@dataclass(frozen=True, slots=True)
class RetrainTrigger:
    """A request to retrain: which model drifted, how, and when it was seen."""

    model_version: str
    raised_at: datetime
    reasons: tuple[str, ...]
    stats: DriftStats


@dataclass
class DriftMonitor:
    """Accumulates predictions into fixed-size windows and scores each full window.

    Not thread-safe: one per worker, fed from the classify step.
    """

    reference: DriftReference
    model_version: str
    clock: Clock
    window: int = 500
    threshold: float = 0.25
    registry: CollectorRegistry | None = None
    _labels: list[str] = field(default_factory=list, init=False)
    _conf: list[float] = field(default_factory=list, init=False)
    _emb: list[FloatArray] = field(default_factory=list, init=False)
    _gauges: dict[str, Gauge] = field(default_factory=dict, init=False)
    _triggers: Counter | None = field(default=None, init=False)
    last: DriftStats | None = field(default=None, init=False)
    """Statistics of the most recent full window (None before the first)."""

    def __post_init__(self) -> None:
        reg = self.registry
        names = ("class_psi", "confidence_psi", "embedding_psi", "mean_confidence", "alert")
        for name in names:
            self._gauges[name] = Gauge(
                f"tradewire_model_drift_{name}",
                f"Drift of the last full window: {name.replace('_', ' ')}",
                ["model_version"],
                registry=reg,
            )
        self._triggers = Counter(
            "tradewire_model_retrain_triggers",
            "Windows whose drift crossed the threshold",
            ["model_version"],
            registry=reg,
        )

    def observe(
        self, labels: Sequence[str], confidence: Sequence[float], embeddings: FloatArray
    ) -> list[RetrainTrigger]:
        """Add a batch; return a trigger for every window it completed that drifted."""
        out: list[RetrainTrigger] = []
        for i, label in enumerate(labels):
            self._labels.append(label)
            self._conf.append(float(confidence[i]))
            self._emb.append(embeddings[i])
            if len(self._labels) >= self.window:
                trigger = self._close_window()
                if trigger is not None:
                    out.append(trigger)
        return out

    def _close_window(self) -> RetrainTrigger | None:
        ref = self.reference
        mix = np.array([self._labels.count(label) for label in ref.labels], np.float32)
        conf = np.asarray(self._conf, np.float32)
        stats = DriftStats(
            window_end=self.clock.now(),
            n=len(self._labels),
            class_psi=psi(ref.class_mix, mix),
            confidence_psi=psi(ref.confidence_hist, confidence_histogram(conf)),
            embedding_psi=ref.embedding_psi(np.stack(self._emb)),
            mean_confidence=float(conf.mean()),
            alert=False,
        )
        reasons = tuple(
            f"{name} {value:.3f} > {self.threshold}"
            for name, value in (
                ("class_psi", stats.class_psi),
                ("confidence_psi", stats.confidence_psi),
                ("embedding_psi", stats.embedding_psi),
            )
            if value > self.threshold
        )
        stats = DriftStats(
            stats.window_end,
            stats.n,
            stats.class_psi,
            stats.confidence_psi,
            stats.embedding_psi,
            stats.mean_confidence,
            bool(reasons),
        )
        self._labels.clear()
        self._conf.clear()
        self._emb.clear()
        v = self.model_version
        self._gauges["class_psi"].labels(v).set(stats.class_psi)
        self._gauges["confidence_psi"].labels(v).set(stats.confidence_psi)
        self._gauges["embedding_psi"].labels(v).set(stats.embedding_psi)
        self._gauges["mean_confidence"].labels(v).set(stats.mean_confidence)
        self._gauges["alert"].labels(v).set(1.0 if reasons else 0.0)
        self.last = stats
        if not reasons:
            return None
        assert self._triggers is not None
        self._triggers.labels(v).inc()
        return RetrainTrigger(v, stats.window_end, reasons, stats)
