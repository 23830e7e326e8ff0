"""A/B and shadow: run a candidate model beside the primary on the same batches.

The primary's predictions are what the flow uses; the candidate's are only compared. Every
item where the two disagree on event type or sentiment is kept (bounded) as a ``Disagreement``,
and per-model statistics (items, predicted-class mix, mean confidence, time spent) are counted
and exported to Prometheus so the two can be compared on live traffic before a promotion, which
is then just a change of the registry's pinned version.
"""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from models.drift import DriftMonitor
from models.serving import Prediction, SignalModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Disagreement:
    text: str
    source: str
    primary: Prediction
    candidate: Prediction


@dataclass
class ModelStats:
    """Running totals for one model version."""

    items: int = 0
    seconds: float = 0.0
    confidence_sum: float = 0.0
    event_mix: Tally[str] = field(default_factory=Tally)

    @property
    def mean_confidence(self) -> float:
        return self.confidence_sum / self.items if self.items else 0.0


class ModelRouter:
    """Routes batches to the primary and shadows them through an optional candidate."""

    def __init__(
        self,
        primary: SignalModel,
        candidate: SignalModel | None = None,
        *,
        keep_disagreements: int = 1000,
        registry: CollectorRegistry | None = None,
        timer: Callable[[], float] = time.perf_counter,
        drift: DriftMonitor | None = None,
    ) -> None:
        self.primary = primary
        self.candidate = candidate
        self.drift = drift
        """Watches the primary's live predictions and embeddings against its training data."""
        self.disagreements: deque[Disagreement] = deque(maxlen=keep_disagreements)
        self.stats: dict[str, ModelStats] = {}
        self.compared = 0
        self.disagreed = 0
        self._timer = timer
        self._items = Counter(
            "tradewire_model_predictions",
            "Items predicted",
            ["model_version", "role", "event_type"],
            registry=registry,
        )
        self._latency = Histogram(
            "tradewire_model_batch_seconds",
            "Time to predict one batch",
            ["model_version", "role"],
            registry=registry,
        )
        self._disagree = Counter(
            "tradewire_model_disagreements",
            "Primary and candidate disagree",
            ["primary", "candidate", "field"],
            registry=registry,
        )

    def _run(
        self, model: SignalModel, role: str, items: Sequence[tuple[str, str]]
    ) -> list[Prediction]:
        start = self._timer()
        inference = model.infer(items)
        predictions = inference.predictions
        elapsed = self._timer() - start
        if self.drift is not None and role == "primary":
            labels = [p.event_type.value for p in predictions]
            confidence = [p.event_confidence for p in predictions]
            for trigger in self.drift.observe(labels, confidence, inference.embeddings):
                log.warning(
                    "model %s drifted, retraining advised: %s", model.version, trigger.reasons
                )
        stats = self.stats.setdefault(model.version, ModelStats())
        stats.items += len(predictions)
        stats.seconds += elapsed
        for p in predictions:
            stats.confidence_sum += p.event_confidence
            stats.event_mix[p.event_type.value] += 1
            self._items.labels(model.version, role, p.event_type.value).inc()
        self._latency.labels(model.version, role).observe(elapsed)
        return predictions

    def predict_batch(self, items: Sequence[tuple[str, str]]) -> list[Prediction]:
        """The primary's predictions; the candidate (if any) only feeds the comparison."""
        primary = self._run(self.primary, "primary", items)
        if self.candidate is None:
            return primary
        shadow = self._run(self.candidate, "candidate", items)
        for (text, source), p, c in zip(items, primary, shadow, strict=True):
            self.compared += 1
            fields = [
                name
                for name, differs in (
                    ("event_type", p.event_type != c.event_type),
                    ("sentiment", p.sentiment != c.sentiment),
                )
                if differs
            ]
            if fields:
                self.disagreed += 1
                self.disagreements.append(Disagreement(text, source, p, c))
                for name in fields:
                    self._disagree.labels(p.model_version, c.model_version, name).inc()
        return primary

    @property
    def disagreement_rate(self) -> float:
        return self.disagreed / self.compared if self.compared else 0.0
