"""Training reproducibility, artefact round trip and refusal, serving and the A/B router."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from models import artefact, registry, training
from models.artefact import ArtefactError
from models.drift import DriftMonitor
from models.encoder import OnnxEncoder
from models.ner import EntityLinker
from models.router import ModelRouter
from models.serving import SignalModel, evaluate
from records import EventType, ManualClock

pytestmark = pytest.mark.slow

HEADLINES = [
    ("Curve pools exploited via Vyper bug, $50M drained", "test"),
    ("Powell says more hikes may be needed", "test"),
    ("SEC sues Coinbase over unregistered securities", "test"),
    ("Binance will list PEPE", "test"),
    ("Bitcoin rises 5% to $30,000", "test"),
]


@dataclass(frozen=True)
class Trained:
    root: Path
    registry_path: Path
    first: training.TrainResult
    again: training.TrainResult
    other_seed: training.TrainResult


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
    small_labelled: Path,
    linker: EntityLinker,
    encoder: OnnxEncoder,
) -> Trained:
    root = tmp_path_factory.mktemp("artefacts")
    again_root = tmp_path_factory.mktemp("artefacts_again")
    reg = root / "registry.json"
    first = training.train(7, linker, encoder, small_labelled, root, reg)
    again = training.train(7, linker, encoder, small_labelled, again_root, None)
    other = training.train(8, linker, encoder, small_labelled, root, reg)
    return Trained(root, reg, first, again, other)


def test_same_seed_reproduces_version_metrics_and_bytes(trained: Trained) -> None:
    a, b = trained.first, trained.again
    assert a.version == b.version
    assert a.event == b.event
    assert a.sentiment == b.sentiment
    for name in ("weights.npz", "vocab.json", "metadata.json"):
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes()
    assert trained.other_seed.version != a.version


def test_registry_pins_first_version_and_pin_promotes(trained: Trained) -> None:
    data = registry.read(trained.registry_path)
    assert set(data["versions"]) == {trained.first.version, trained.other_seed.version}
    assert registry.resolve(None, trained.registry_path) == trained.first.version
    registry.pin(trained.other_seed.version, trained.registry_path)
    assert registry.resolve(None, trained.registry_path) == trained.other_seed.version
    registry.pin(trained.first.version, trained.registry_path)
    with pytest.raises(registry.RegistryError, match="unknown version"):
        registry.pin("nope", trained.registry_path)


def test_metadata_records_provenance(trained: Trained, small_labelled: Path) -> None:
    meta = json.loads((trained.first.path / "metadata.json").read_text())
    assert meta["training_files"] == sorted(p.name for p in small_labelled.glob("*.jsonl"))
    assert len(meta["training_data_sha256"]) == 64
    assert meta["labels"]["event_type"] == [e.value for e in EventType]
    assert meta["libraries"]["onnxruntime"]
    assert meta["encoder_id"].startswith("all-MiniLM-L6-v2@")
    assert 0.0 <= meta["metrics"]["held_out_event_type"]["accuracy"] <= 1.0


def test_saved_artefact_loads_and_predicts_identically(
    trained: Trained, encoder: OnnxEncoder
) -> None:
    model = SignalModel.load(
        trained.first.version, registry_path=trained.registry_path, artefacts_dir=trained.root
    )
    assert (
        SignalModel.load(
            trained.first.version, registry_path=trained.registry_path, artefacts_dir=trained.root
        )
        is model
    )
    preds = model.predict_batch(HEADLINES)
    assert [p.model_version for p in preds] == [trained.first.version] * len(HEADLINES)
    assert all(0.0 <= p.event_confidence <= 1.0 for p in preds)
    assert preds[0].assets == ("CRV",) and preds[3].assets == ("PEPE",)
    # The same arrays straight from the loader give the same answers as the served model.
    bundle = artefact.load(trained.first.version, encoder.encoder_id, trained.root)
    for field in ("coef", "intercept", "calib_x", "calib_y"):
        np.testing.assert_array_equal(
            getattr(bundle.event, field), getattr(model.bundle.event, field)
        )
    assert model.predict_batch(HEADLINES) == preds
    rows = [
        (t, s, p.event_type.value, p.sentiment.value)
        for (t, s), p in zip(HEADLINES, preds, strict=True)
    ]
    event_report, sentiment_report = evaluate(model, rows)
    assert event_report.accuracy == 1.0 and sentiment_report.accuracy == 1.0


def copy_of(trained: Trained, tmp_path: Path) -> Path:
    dst = tmp_path / trained.first.version
    shutil.copytree(trained.first.path, dst)
    return tmp_path


def test_corrupted_weights_are_refused(
    trained: Trained, encoder: OnnxEncoder, tmp_path: Path
) -> None:
    root = copy_of(trained, tmp_path)
    weights = root / trained.first.version / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match=r"weights\.npz checksum mismatch"):
        artefact.load(trained.first.version, encoder.encoder_id, root)


def test_mismatched_encoder_or_labels_are_refused(
    trained: Trained, encoder: OnnxEncoder, tmp_path: Path
) -> None:
    with pytest.raises(ArtefactError, match="trained on encoder"):
        artefact.load(trained.first.version, "all-MiniLM-L6-v2@other/fp32", trained.root)
    root = copy_of(trained, tmp_path)
    meta_path = root / trained.first.version / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["labels"]["event_type"] = meta["labels"]["event_type"][:-1]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtefactError, match="event label set"):
        artefact.load(trained.first.version, encoder.encoder_id, root)
    with pytest.raises(ArtefactError, match=r"no metadata\.json"):
        artefact.load("m-missing", encoder.encoder_id, root)


def test_router_shadows_candidate_and_counts_disagreements(trained: Trained) -> None:
    primary = SignalModel.load(
        trained.first.version, registry_path=trained.registry_path, artefacts_dir=trained.root
    )
    candidate = SignalModel.load(
        trained.other_seed.version, registry_path=trained.registry_path, artefacts_dir=trained.root
    )
    router = ModelRouter(primary, candidate, registry=CollectorRegistry())
    out = router.predict_batch(HEADLINES)
    assert out == primary.predict_batch(HEADLINES)
    assert router.compared == len(HEADLINES)
    assert router.stats[primary.version].items == len(HEADLINES)
    assert router.stats[candidate.version].items == len(HEADLINES)
    expected = sum(
        p.event_type != c.event_type or p.sentiment != c.sentiment
        for p, c in zip(out, candidate.predict_batch(HEADLINES), strict=True)
    )
    assert router.disagreed == expected == len(router.disagreements)


def test_router_watches_the_primary_for_drift(trained: Trained) -> None:
    primary = SignalModel.load(
        trained.first.version, registry_path=trained.registry_path, artefacts_dir=trained.root
    )
    drift = DriftMonitor(
        reference=primary.bundle.drift,
        model_version=primary.version,
        clock=ManualClock(datetime(2024, 1, 1, tzinfo=UTC)),
        window=len(HEADLINES),
        registry=CollectorRegistry(),
    )
    router = ModelRouter(primary, registry=CollectorRegistry(), drift=drift)
    assert drift.last is None
    router.predict_batch(HEADLINES)
    assert drift.last is not None
    assert drift.last.n == len(HEADLINES)


def test_a_gazetteer_edit_makes_a_new_version() -> None:
    """Entity features come from the gazetteer: new entries must not hide under an old name."""
    before = training.version_name("data", 7, "enc", "gaz-a")
    assert training.version_name("data", 7, "enc", "gaz-a") == before
    assert training.version_name("data", 7, "enc", "gaz-b") != before
