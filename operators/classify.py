"""From de-duplicated stories to signals: one batched model call, then pure signal assembly.

The model is whatever satisfies :class:`Predictor` (``models.serving`` in production); this module
only knows its interface, so the flow can be tested and benchmarked with any implementation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from operators.confidence import combine, source_reliability
from records import Entity, EventType, Sentiment, Signal, StoryItem


class Prediction(Protocol):
    @property
    def event_type(self) -> EventType: ...
    @property
    def event_confidence(self) -> float: ...
    @property
    def sentiment(self) -> Sentiment: ...
    @property
    def sentiment_confidence(self) -> float: ...
    @property
    def assets(self) -> tuple[str, ...]: ...
    @property
    def entities(self) -> tuple[Entity, ...]: ...
    @property
    def model_version(self) -> str: ...


class Predictor(Protocol):
    def predict_batch(self, items: Sequence[tuple[str, str]]) -> Sequence[Prediction]:
        """Predict for ``(text, source)`` pairs, in order."""
        ...


def signal_id(news_key: str, model_version: str) -> str:
    """Deterministic: the same item read by the same model always yields the same signal id."""
    return hashlib.blake2b(f"{news_key}|{model_version}".encode(), digest_size=10).hexdigest()


def build_signal(story: StoryItem, pred: Prediction, reliability: Mapping[str, float]) -> Signal:
    item = story.item
    return Signal(
        signal_id=signal_id(f"{item.key}#{story.corroboration}", pred.model_version),
        news_key=item.key,
        story_id=story.story_id,
        source=item.source,
        title=item.title,
        url=item.url,
        event_type=pred.event_type,
        sentiment=pred.sentiment,
        assets=pred.assets,
        entities=pred.entities,
        model_confidence=pred.event_confidence,
        sentiment_confidence=pred.sentiment_confidence,
        confidence=combine(
            pred.event_confidence,
            source_reliability(item.source, reliability),
            story.corroboration,
        ),
        corroboration=story.corroboration,
        model_version=pred.model_version,
        published_at=item.published_at,
        received_at=item.received_at,
    )


def classify_batch(
    stories: Sequence[StoryItem],
    predictor: Callable[[], Predictor],
    reliability: Mapping[str, float],
) -> list[Signal]:
    """One model call for the whole batch: the encoder is several times faster batched."""
    if not stories:
        return []
    preds = predictor().predict_batch([(s.item.title, s.item.source) for s in stories])
    return [build_signal(s, p, reliability) for s, p in zip(stories, preds, strict=True)]
