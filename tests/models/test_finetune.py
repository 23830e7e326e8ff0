"""Fine-tuned encoder: reproducible, shipped in the artefact, served, refused if corrupted."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from models import artefact, dataset, registry, training
from models.artefact import ArtefactError
from models.encoder import OnnxEncoder
from models.finetune import FinetuneConfig
from models.ner import EntityLinker
from models.serving import SignalModel, evaluate

pytestmark = pytest.mark.slow

TUNING = FinetuneConfig(epochs=1, batch_size=16)


@dataclass(frozen=True)
class Tuned:
    root: Path
    first: training.TrainResult
    again: training.TrainResult
    data: Path


@pytest.fixture(scope="module")
def tiny_labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 40 real labelled rows of each file: enough for both sides of every split."""
    out = tmp_path_factory.mktemp("tiny_labelled")
    for path in sorted(dataset.LABELLED_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as src:
            (out / path.name).write_text("".join(itertools.islice(src, 40)), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def tuned(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_labelled: Path,
    linker: EntityLinker,
    encoder: OnnxEncoder,
) -> Tuned:
    root = tmp_path_factory.mktemp("tuned")
    again_root = tmp_path_factory.mktemp("tuned_again")
    first = training.train(7, linker, encoder, tiny_labelled, root, None, TUNING)
    again = training.train(7, linker, encoder, tiny_labelled, again_root, None, TUNING)
    return Tuned(root, first, again, tiny_labelled)


def test_same_seed_reproduces_the_fine_tuned_encoder_and_heads(tuned: Tuned) -> None:
    a, b = tuned.first, tuned.again
    assert a.version == b.version
    assert a.event == b.event and a.sentiment == b.sentiment
    for name in ("encoder.onnx", "weights.npz", "vocab.json", "metadata.json"):
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes()


def test_artefact_ships_its_encoder_and_says_how_it_was_calibrated(
    tuned: Tuned, encoder: OnnxEncoder
) -> None:
    bundle = artefact.load(
        tuned.first.version,
        OnnxEncoder.from_file(tuned.first.path / "encoder.onnx").encoder_id,
        tuned.root,
    )
    assert bundle.encoder_id.startswith("all-MiniLM-L6-v2-finetuned@")
    assert bundle.encoder_id != encoder.encoder_id
    assert bundle.metadata["finetune"] == TUNING.to_dict()
    assert bundle.metadata["calibration"].startswith("validation slice")
    train_rows, _ = dataset.split(dataset.load_labelled(tuned.data))
    n_validation = sum(dataset.is_validation(e.text) for e in train_rows)
    assert bundle.metadata["unseen_training_rows"]["event_type"]["n"] == n_validation
    # The stock encoder cannot serve this model.
    with pytest.raises(ArtefactError, match="trained on encoder"):
        artefact.load(tuned.first.version, encoder.encoder_id, tuned.root)


def test_fine_tuning_moves_the_embeddings(tuned: Tuned, encoder: OnnxEncoder) -> None:
    texts = ["SEC sues Coinbase over unregistered securities", "Binance will list PEPE"]
    own = OnnxEncoder.from_file(tuned.first.path / "encoder.onnx").encode(texts)
    stock = encoder.encode(texts)
    np.testing.assert_allclose(np.linalg.norm(own, axis=1), 1.0, atol=1e-4)
    assert float((own * stock).sum(axis=1).min()) < 0.999


def test_served_model_uses_its_own_encoder_and_matches_training_metrics(tuned: Tuned) -> None:
    reg = tuned.root / "registry.json"
    registry.register(tuned.first.version, {}, reg)
    model = SignalModel.load(tuned.first.version, registry_path=reg, artefacts_dir=tuned.root)
    _, test_rows = dataset.split(dataset.load_labelled(tuned.data))
    event, sentiment = evaluate(
        model,
        [(e.text, e.source, e.event_type.value, e.sentiment.value) for e in test_rows],
    )
    assert event.accuracy == pytest.approx(tuned.first.event.accuracy)
    assert sentiment.accuracy == pytest.approx(tuned.first.sentiment.accuracy)


def test_corrupted_encoder_is_refused(tuned: Tuned, tmp_path: Path) -> None:
    shutil.copytree(tuned.first.path, tmp_path / tuned.first.version)
    onnx = tmp_path / tuned.first.version / "encoder.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx.write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match=r"encoder\.onnx checksum mismatch"):
        artefact.encoder_path(tuned.first.version, tmp_path)
