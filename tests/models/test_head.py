"""Calibrated heads: out-of-fold calibration, or calibration on a holdout the features never saw."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from models.head import class_weights, fit_head

LABELS = ("a", "b", "c")


def _data(n: int, seed: int) -> tuple[np.ndarray, sparse.csr_matrix, list[str]]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.eye(3, 8, dtype=np.float32) * 3.0
    dense = (centres[y] + rng.normal(0, 1.0, (n, 8))).astype(np.float32)
    return dense, sparse.csr_matrix((n, 4), dtype=np.float32), [LABELS[i] for i in y]


def test_out_of_fold_calibration_covers_every_row() -> None:
    dense, tfidf, y = _data(300, 1)
    head, unseen, conf = fit_head(
        LABELS, dense, tfidf, y, c=1.0, class_weight_power=1.0, folds=5, seed=3
    )
    assert len(unseen) == len(conf) == 300
    assert np.all(np.diff(head.calib_y) >= 0)


def test_holdout_calibration_calibrates_the_head_it_returns() -> None:
    dense, tfidf, y = _data(300, 2)
    holdout = np.arange(300) % 5 == 0
    head, unseen, conf = fit_head(
        LABELS, dense, tfidf, y, c=1.0, class_weight_power=1.0, folds=5, seed=3, holdout=holdout
    )
    assert len(unseen) == len(conf) == int(holdout.sum())
    # The returned head never saw the holdout, and its calibrated confidence there is what the
    # isotonic map was fitted on.
    labels, served_conf, _ = head.predict(dense[holdout], tfidf[holdout])
    assert labels == unseen
    np.testing.assert_allclose(served_conf, conf)
    accuracy = float(np.mean(np.asarray(unseen) == np.asarray(y)[holdout]))
    assert abs(float(conf.mean()) - accuracy) < 0.05
    assert head.calib_y.min() >= 1.0 / len(LABELS) - 1e-6


def test_class_weights_interpolate_between_none_and_balanced() -> None:
    y = np.array(["a"] * 80 + ["b"] * 20)
    assert class_weights(y, 0.0) is None
    balanced = class_weights(y, 1.0)
    assert balanced == {"a": 100 / (2 * 80), "b": 100 / (2 * 20)}  # sklearn's "balanced"
    half = class_weights(y, 0.5)
    assert half is not None
    assert half["b"] / half["a"] == pytest.approx(np.sqrt(balanced["b"] / balanced["a"]))
