import pytest

from operators.confidence import combine, source_reliability


def test_combine_is_model_times_probability_story_is_true() -> None:
    assert combine(0.9, 0.8, 1) == pytest.approx(0.72)
    assert combine(0.9, 0.8, 2) == pytest.approx(0.9 * (1 - 0.2**2))
    assert combine(0.9, 0.8, 3) > combine(0.9, 0.8, 2) > combine(0.9, 0.8, 1)


def test_combine_rejects_non_probabilities() -> None:
    with pytest.raises(ValueError, match="out of range"):
        combine(1.2, 0.5, 1)


def test_source_reliability_lookup() -> None:
    table = {"sec.gov": 0.99, "default": 0.7}
    assert source_reliability("sec.gov", table) == 0.99
    assert source_reliability("SEC.gov", table) == 0.99
    assert source_reliability("blog", table) == 0.7
    assert source_reliability("blog", {}) == 0.8
