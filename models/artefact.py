"""Versioned model artefacts on disk: write, verify and load.

An artefact is a directory ``models/artefacts/<version>/`` with ``weights.npz`` (all arrays),
``vocab.json`` (TF-IDF terms), ``encoder.onnx`` when the model fine-tuned its own encoder, and
``metadata.json`` (label sets, encoder id, dimensions,
training-data hash, metrics, library versions and the sha256 of every other file). Loading
refuses, with a message that says what is wrong, an artefact whose files do not match their
checksums or whose label sets, encoder or dimensions differ from what this code and the running
encoder expect: a silently mismatched model would trade on garbage.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models import features
from models.drift import DriftReference
from models.encoder import DIM as EMBEDDING_DIM
from models.head import LinearHead
from models.vectorizer import TfidfVocabulary
from records import EventType, Sentiment

FORMAT = 2
ARTEFACTS_DIR = Path(__file__).resolve().parent / "artefacts"
EVENT_LABELS = tuple(e.value for e in EventType)
SENTIMENT_LABELS = tuple(s.value for s in Sentiment)
_FILES = ("weights.npz", "vocab.json")
ENCODER_FILE = "encoder.onnx"


class ArtefactError(RuntimeError):
    """The artefact is missing, corrupted or does not fit this code/encoder."""


@dataclass(frozen=True, slots=True, eq=False)
class Bundle:
    version: str
    event: LinearHead
    sentiment: LinearHead
    vocab: TfidfVocabulary
    drift: DriftReference
    metadata: dict[str, Any]
    encoder_file: Path | None = None
    """The fine-tuned int8 encoder this model was trained with; None for the stock encoder."""

    @property
    def encoder_id(self) -> str:
        return str(self.metadata["encoder_id"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _head_arrays(prefix: str, head: LinearHead) -> dict[str, np.ndarray]:
    return {
        f"{prefix}_mean": head.mean,
        f"{prefix}_scale": head.scale,
        f"{prefix}_coef": head.coef,
        f"{prefix}_intercept": head.intercept,
        f"{prefix}_calib_x": head.calib_x,
        f"{prefix}_calib_y": head.calib_y,
    }


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An ``.npz`` with fixed zip timestamps (numpy's own stamps the wall clock): retraining
    with the same data and seed must give byte-identical files and therefore equal checksums."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def save(bundle: Bundle, root: Path = ARTEFACTS_DIR) -> Path:
    """Write the artefact; the same bundle always produces byte-identical files."""
    out = root / bundle.version
    out.mkdir(parents=True, exist_ok=True)
    drift = bundle.drift
    arrays = {
        **_head_arrays("event", bundle.event),
        **_head_arrays("sentiment", bundle.sentiment),
        "idf": bundle.vocab.idf,
        "drift_class_mix": drift.class_mix,
        "drift_confidence_hist": drift.confidence_hist,
        "drift_pca_mean": drift.pca_mean,
        "drift_pca_components": drift.pca_components,
        "drift_pca_edges": drift.pca_edges,
    }
    _write_npz(out / "weights.npz", arrays)
    (out / "vocab.json").write_text(json.dumps(list(bundle.vocab.terms), ensure_ascii=False))
    files = list(_FILES)
    if bundle.encoder_file is not None:
        if bundle.encoder_file.resolve() != (out / ENCODER_FILE).resolve():
            shutil.copyfile(bundle.encoder_file, out / ENCODER_FILE)
        files.append(ENCODER_FILE)
    meta = dict(bundle.metadata)
    meta.update(
        format=FORMAT,
        version=bundle.version,
        labels={
            "event_type": list(bundle.event.labels),
            "sentiment": list(bundle.sentiment.labels),
        },
        embedding_dim=EMBEDDING_DIM,
        feature_set=features.FEATURE_SET,
        feature_dim=features.DIM,
        n_terms=len(bundle.vocab),
        encoder_file=ENCODER_FILE if bundle.encoder_file is not None else None,
        checksums={name: _sha256(out / name) for name in files},
    )
    (out / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return out


def _expect(cond: bool, path: Path, what: str) -> None:
    if not cond:
        raise ArtefactError(f"model artefact {path} refused: {what}")


def _metadata(path: Path, version: str) -> dict[str, Any]:
    meta_path = path / "metadata.json"
    _expect(meta_path.is_file(), path, "no metadata.json (unknown version or incomplete copy)")
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ArtefactError(
            f"model artefact {path} refused: metadata.json unreadable: {exc}"
        ) from exc
    _expect(meta.get("format") == FORMAT, path, f"format {meta.get('format')} != {FORMAT}")
    _expect(meta.get("version") == version, path, f"metadata says version {meta.get('version')}")
    return meta


def _verify(path: Path, meta: dict[str, Any], name: str) -> Path:
    file = path / name
    _expect(file.is_file(), path, f"{name} missing")
    actual = _sha256(file)
    _expect(
        actual == meta.get("checksums", {}).get(name),
        path,
        f"{name} checksum mismatch (corrupted or edited): sha256 {actual[:16]}...",
    )
    return file


def encoder_path(version: str, root: Path = ARTEFACTS_DIR) -> Path | None:
    """The artefact's own (fine-tuned) encoder, checksum-verified; None when it uses the stock one.

    Serving calls this before ``load`` to know which encoder to start.
    """
    path = root / version
    return _own_encoder(path, _metadata(path, version))


def _own_encoder(path: Path, meta: dict[str, Any]) -> Path | None:
    name = meta.get("encoder_file")
    return None if name is None else _verify(path, meta, str(name))


def load(version: str, expected_encoder_id: str, root: Path = ARTEFACTS_DIR) -> Bundle:
    path = root / version
    meta = _metadata(path, version)
    for name in _FILES:
        _verify(path, meta, name)
    own_encoder = _own_encoder(path, meta)
    labels = meta.get("labels", {})
    _expect(
        tuple(labels.get("event_type", ())) == EVENT_LABELS,
        path,
        f"event label set {labels.get('event_type')} != {list(EVENT_LABELS)}",
    )
    _expect(
        tuple(labels.get("sentiment", ())) == SENTIMENT_LABELS,
        path,
        f"sentiment label set {labels.get('sentiment')} != {list(SENTIMENT_LABELS)}",
    )
    _expect(
        meta.get("encoder_id") == expected_encoder_id,
        path,
        f"trained on encoder {meta.get('encoder_id')!r}, running {expected_encoder_id!r}",
    )
    _expect(
        meta.get("embedding_dim") == EMBEDDING_DIM,
        path,
        f"embedding dim {meta.get('embedding_dim')} != {EMBEDDING_DIM}",
    )
    _expect(
        meta.get("feature_set") == features.FEATURE_SET and meta.get("feature_dim") == features.DIM,
        path,
        f"feature set {meta.get('feature_set')}/{meta.get('feature_dim')} != "
        f"{features.FEATURE_SET}/{features.DIM}",
    )
    terms = json.loads((path / "vocab.json").read_text())
    with np.load(path / "weights.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    _expect(len(terms) == meta.get("n_terms") == arrays["idf"].shape[0], path, "vocabulary size")
    n_cols = EMBEDDING_DIM + features.DIM + len(terms)

    def head(prefix: str, labels: tuple[str, ...]) -> LinearHead:
        coef = arrays[f"{prefix}_coef"]
        _expect(
            coef.shape == (len(labels), n_cols),
            path,
            f"{prefix} weights shape {coef.shape} != {(len(labels), n_cols)}",
        )
        return LinearHead(
            labels,
            arrays[f"{prefix}_mean"],
            arrays[f"{prefix}_scale"],
            coef,
            arrays[f"{prefix}_intercept"],
            arrays[f"{prefix}_calib_x"],
            arrays[f"{prefix}_calib_y"],
        )

    return Bundle(
        version=version,
        event=head("event", EVENT_LABELS),
        sentiment=head("sentiment", SENTIMENT_LABELS),
        vocab=TfidfVocabulary(terms, arrays["idf"]),
        drift=DriftReference(
            EVENT_LABELS,
            arrays["drift_class_mix"],
            arrays["drift_confidence_hist"],
            arrays["drift_pca_mean"],
            arrays["drift_pca_components"],
            arrays["drift_pca_edges"],
        ),
        metadata=meta,
        encoder_file=own_encoder,
    )
