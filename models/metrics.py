"""Classification and calibration metrics, as plain data that prints and serialises to JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True, slots=True)
class Report:
    n: int
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassScore, ...]
    confusion: tuple[tuple[int, ...], ...]
    """Rows: true label, columns: predicted label, both in ``labels`` order."""
    labels: tuple[str, ...]
    ece: float
    reliability: tuple[ReliabilityBin, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render(self, title: str) -> str:
        width = max(len(label) for label in self.labels)
        lines = [
            f"{title}: n={self.n}  accuracy={self.accuracy:.4f}  macro-F1={self.macro_f1:.4f}  "
            f"ECE={self.ece:.4f}",
            f"  {'class':<{width}}  precision  recall     f1  support",
        ]
        lines += [
            f"  {c.label:<{width}}  {c.precision:9.3f}  {c.recall:6.3f}  {c.f1:5.3f}"
            f"  {c.support:7d}"
            for c in self.per_class
        ]
        short = [label[:6] for label in self.labels]
        lines.append("  confusion (rows true, columns predicted):")
        lines.append(f"  {'':<{width}}  " + " ".join(f"{s:>6}" for s in short))
        lines += [
            f"  {label:<{width}}  " + " ".join(f"{v:6d}" for v in row)
            for label, row in zip(self.labels, self.confusion, strict=True)
        ]
        lines.append("  reliability (calibrated confidence bin: count, mean confidence, accuracy):")
        lines += [
            f"    [{b.lower:.1f}, {b.upper:.1f}) n={b.count:4d}  conf={b.mean_confidence:.3f}  "
            f"acc={b.accuracy:.3f}"
            for b in self.reliability
            if b.count
        ]
        return "\n".join(lines)


def reliability(
    confidence: npt.NDArray[np.float32], correct: npt.NDArray[np.bool_], bins: int = 10
) -> tuple[float, tuple[ReliabilityBin, ...]]:
    """Expected calibration error (count-weighted |accuracy - confidence|) and its table."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=False), 0, bins - 1)
    table: list[ReliabilityBin] = []
    ece = 0.0
    n = max(len(confidence), 1)
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        conf = float(confidence[mask].mean()) if count else 0.0
        acc = float(correct[mask].mean()) if count else 0.0
        ece += count / n * abs(acc - conf)
        table.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), count, conf, acc))
    return ece, tuple(table)


def report(
    labels: Sequence[str],
    truth: Sequence[str],
    predicted: Sequence[str],
    confidence: npt.NDArray[np.float32],
) -> Report:
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        confusion[index[t], index[p]] += 1
    scores: list[ClassScore] = []
    for i, label in enumerate(labels):
        tp = int(confusion[i, i])
        predicted_n = int(confusion[:, i].sum())
        support = int(confusion[i, :].sum())
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(ClassScore(label, precision, recall, f1, support))
    present = [s for s in scores if s.support or any(p == s.label for p in predicted)]
    n = len(truth)
    correct = np.asarray(truth) == np.asarray(predicted)
    ece, table = reliability(confidence, correct)
    return Report(
        n=n,
        accuracy=float(correct.mean()) if n else 0.0,
        macro_f1=float(np.mean([s.f1 for s in present])) if present else 0.0,
        per_class=tuple(scores),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        labels=tuple(labels),
        ece=ece,
        reliability=table,
    )


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often two annotators gave the same label, and Cohen's kappa (chance-corrected)."""

    n: int
    rate: float
    kappa: float
    disagreements: tuple[tuple[str, str, int], ...]
    """(first annotator's label, second's, count), most frequent first."""

    def render(self, title: str) -> str:
        pairs = ", ".join(f"{a}->{b} {n}" for a, b, n in self.disagreements[:8])
        return (
            f"{title}: n={self.n}  agreement={self.rate:.4f}  kappa={self.kappa:.4f}\n"
            f"  most frequent disagreements (first->second): {pairs or 'none'}"
        )


def agreement(first: Sequence[str], second: Sequence[str]) -> Agreement:
    from collections import Counter

    from sklearn.metrics import cohen_kappa_score

    n = len(first)
    if n == 0 or n != len(second):
        raise ValueError("agreement needs two equally long, non-empty label lists")
    same = sum(a == b for a, b in zip(first, second, strict=True))
    pairs = Counter((a, b) for a, b in zip(first, second, strict=True) if a != b)
    ranked = tuple((a, b, c) for (a, b), c in sorted(pairs.items(), key=lambda kv: -kv[1]))
    return Agreement(n, same / n, float(cohen_kappa_score(first, second)), ranked)
