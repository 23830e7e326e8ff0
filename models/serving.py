"""The predict interface the signal flow calls: ``SignalModel.load()`` then ``predict_batch``.

Loading is lazy and cached per process (per worker): the spaCy pipeline, the ONNX encoder and
the artefact are read once, and nothing is fetched from a hub. ``predict_batch`` is pure
computation over a batch, so the flow can call it from a bytewax batch operator.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models import artefact, registry
from models.encoder import DEFAULT_CACHE, Embeddings, Encoder, OnnxEncoder
from models.metrics import Report, report
from models.ner import EntityLinker
from models.pipeline import analyse
from records import Entity, EventType, Sentiment


@dataclass(frozen=True, slots=True)
class Prediction:
    event_type: EventType
    event_confidence: float
    """Calibrated probability that ``event_type`` is right."""
    sentiment: Sentiment
    sentiment_confidence: float
    assets: tuple[str, ...]
    """Upper-case tickers, linked per the taxonomy's asset rules, in text order."""
    symbols: tuple[str, ...]
    """Tradable USDT pairs of ``assets`` (stablecoins without a pair are left out)."""
    entities: tuple[Entity, ...]
    model_version: str


@dataclass(frozen=True, slots=True, eq=False)
class Inference:
    """Predictions plus the embeddings they came from (for drift monitoring)."""

    predictions: list[Prediction]
    embeddings: Embeddings


class SignalModel:
    """NER + encoder + both calibrated heads of one artefact version."""

    def __init__(self, bundle: artefact.Bundle, linker: EntityLinker, encoder: Encoder) -> None:
        self.bundle = bundle
        self._linker = linker
        self._encoder = encoder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ner")

    @property
    def version(self) -> str:
        return self.bundle.version

    @classmethod
    def load(
        cls,
        version: str | None = None,
        *,
        registry_path: Path = registry.REGISTRY_PATH,
        artefacts_dir: Path = artefact.ARTEFACTS_DIR,
        cache_dir: Path = DEFAULT_CACHE,
    ) -> SignalModel:
        """The pinned (or given) version, built once per process and shared after that.

        Raises ``registry.RegistryError`` for an unknown version and ``artefact.ArtefactError``
        for a corrupted or mismatched artefact.
        """
        resolved = registry.resolve(version, registry_path)
        key = (resolved, str(artefacts_dir), str(cache_dir))
        with _LOCK:
            model = _MODELS.get(key)
            if model is None:
                encoder = _encoder(artefact.encoder_path(resolved, artefacts_dir), cache_dir)
                bundle = artefact.load(resolved, encoder.encoder_id, artefacts_dir)
                model = cls(bundle, _linker(), encoder)
                _MODELS[key] = model
            return model

    def infer(self, items: Sequence[tuple[str, str]]) -> Inference:
        """Classify ``(text, source)`` pairs in order.

        The source is part of the interface so a later feature set can use it without touching
        the flow; the current feature set (``kw-v1``) does not, because every training source
        is a news site.
        """
        texts = [text for text, _source in items]
        analysed = analyse(texts, self._linker, self._encoder, self._executor)
        tfidf = self.bundle.vocab.transform(texts)
        ev_labels, ev_conf, _ = self.bundle.event.predict(analysed.dense, tfidf)
        se_labels, se_conf, _ = self.bundle.sentiment.predict(analysed.dense, tfidf)
        predictions = [
            Prediction(
                event_type=EventType(ev_labels[i]),
                event_confidence=float(ev_conf[i]),
                sentiment=Sentiment(se_labels[i]),
                sentiment_confidence=float(se_conf[i]),
                assets=ann.assets,
                symbols=ann.symbols,
                entities=ann.entities,
                model_version=self.bundle.version,
            )
            for i, ann in enumerate(analysed.annotations)
        ]
        return Inference(predictions, analysed.embeddings)

    def predict_batch(self, items: Sequence[tuple[str, str]]) -> list[Prediction]:
        return self.infer(items).predictions


_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str, str], SignalModel] = {}


@functools.cache
def _linker() -> EntityLinker:
    """spaCy is shared by every version loaded in the process (A/B)."""
    return EntityLinker.load()


@functools.cache
def _encoder(own: Path | None, cache_dir: Path) -> OnnxEncoder:
    """The artefact's fine-tuned encoder, or the stock one; each loaded once per process.

    One ORT thread: the other core runs spaCy NER at the same time (see pipeline.analyse).
    """
    if own is not None:
        return OnnxEncoder.from_file(own, threads=1)
    return OnnxEncoder.load(cache_dir, threads=1)


def evaluate(
    model: SignalModel, rows: Sequence[tuple[str, str, str, str]]
) -> tuple[Report, Report]:
    """Score ``(text, source, event_type, sentiment)`` rows through the serving path."""
    predictions = model.predict_batch([(text, source) for text, source, _, _ in rows])
    event = report(
        model.bundle.event.labels,
        [r[2] for r in rows],
        [p.event_type.value for p in predictions],
        np.array([p.event_confidence for p in predictions], np.float32),
    )
    sentiment = report(
        model.bundle.sentiment.labels,
        [r[3] for r in rows],
        [p.sentiment.value for p in predictions],
        np.array([p.sentiment_confidence for p in predictions], np.float32),
    )
    return event, sentiment
