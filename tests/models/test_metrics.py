"""Inter-annotator agreement: rate, chance-corrected kappa and the disagreement table."""

from __future__ import annotations

import pytest

from models.metrics import agreement


def test_agreement_rate_kappa_and_ranked_disagreements() -> None:
    first = ["A", "A", "A", "B", "B", "C", "C", "C"]
    second = ["A", "A", "B", "B", "B", "C", "A", "A"]
    result = agreement(first, second)
    assert result.n == 8
    assert result.rate == pytest.approx(5 / 8)
    # Cohen's kappa by hand: p_o = 5/8; p_e = (3*4 + 2*3 + 3*1) / 64 = 21/64.
    assert result.kappa == pytest.approx((5 / 8 - 21 / 64) / (1 - 21 / 64))
    assert result.disagreements == (("C", "A", 2), ("A", "B", 1))
    assert "agreement=0.6250" in result.render("event type")


def test_identical_labels_agree_fully() -> None:
    assert agreement(["X", "Y"], ["X", "Y"]).kappa == pytest.approx(1.0)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="equally long"):
        agreement(["A"], ["A", "B"])
