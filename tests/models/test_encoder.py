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


def test_order_is_kept_despite_length_sorting(encoder: OnnxEncoder) -> None:
    texts = ["Bitcoin", "SEC sues Coinbase over unregistered securities offerings", "ETH"]
    together = encoder.encode(texts, batch_size=2)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    # Dynamic int8 quantisation scales activations per batch, so a text's vector moves slightly
    # with its batch-mates; order must still be exact (each row closest to its own text).
    similarity = together @ alone.T
    assert list(similarity.argmax(axis=1)) == [0, 1, 2]
    assert np.diag(similarity).min() > 0.97
    assert encoder.encode([]).shape == (0, DIM)
