from __future__ import annotations

import numpy as np
import pytest

from models import dataset
from models.encoder import DIM, OnnxEncoder, TorchEncoder

pytestmark = pytest.mark.slow


def test_int8_onnx_embeddings_match_fp32_torch(encoder: OnnxEncoder) -> None:
    texts = [e.text for e in dataset.load_labelled()[:200]]
    fast = encoder.encode(texts)
    reference = TorchEncoder().encode(texts)
    assert fast.shape == (len(texts), DIM)
    cosine = (fast * reference).sum(axis=1)
    assert cosine.mean() > 0.985
    assert cosine.min() > 0.95
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-3)


def test_a_texts_vector_does_not_depend_on_its_batch_mates(encoder: OnnxEncoder) -> None:
    texts = ["Bitcoin", "SEC sues Coinbase over unregistered securities offerings", "ETH"]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    shuffled = encoder.encode(texts[::-1])[::-1]
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(together, shuffled)
    assert encoder.encode([]).shape == (0, DIM)
