"""Confidence in a signal: is the model right, and is the story true?

``confidence = p_model * (1 - (1 - r) ** n)``: the calibrated probability that the event type is
right, times the probability that not all of the ``n`` independent sources reporting the story
(each true with probability ``r``, its source's reliability) are wrong.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_RELIABILITY = 0.8


def source_reliability(source: str, table: Mapping[str, float]) -> float:
    """Reliability of a source by exact name, then by case-insensitive name, else the default."""
    if source in table:
        return table[source]
    lowered = {k.lower(): v for k, v in table.items()}
    return lowered.get(source.lower(), table.get("default", DEFAULT_RELIABILITY))


def combine(model_confidence: float, reliability: float, corroboration: int) -> float:
    if not 0.0 <= model_confidence <= 1.0 or not 0.0 <= reliability <= 1.0:
        msg = f"probabilities out of range: {model_confidence}, {reliability}"
        raise ValueError(msg)
    story_true = 1.0 - (1.0 - reliability) ** max(1, corroboration)
    return round(model_confidence * story_true, 6)
