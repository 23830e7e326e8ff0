from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from models import dataset
from records import Sentiment


def test_split_is_a_pure_function_of_normalised_text() -> None:
    text = "SEC sues Coinbase over unregistered securities"
    assert dataset.is_test(text) == dataset.is_test(
        "  sec SUES coinbase over   unregistered securities"
    )
    rows = dataset.load_labelled()
    train, test = dataset.split(rows)
    assert len(train) + len(test) == len(rows)
    assert 0.15 < len(test) / len(rows) < 0.25
    assert not {dataset.normalise(e.text) for e in train} & {
        dataset.normalise(e.text) for e in test
    }


def test_malformed_row_is_refused_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "text": "x", "event_type": "NEWS", "sentiment": "neutral"}\n')
    with pytest.raises(dataset.DatasetError, match=r"bad\.jsonl:1"):
        dataset.read_jsonl([path])


def test_content_hash_changes_with_a_label() -> None:
    rows = dataset.load_labelled()[:50]
    assert dataset.content_hash(rows) == dataset.content_hash(list(rows))
    first = rows[0]
    other = Sentiment.NEGATIVE if first.sentiment != Sentiment.NEGATIVE else Sentiment.POSITIVE
    assert dataset.content_hash([replace(first, sentiment=other), *rows[1:]]) != (
        dataset.content_hash(rows)
    )


def test_learning_subsets_keep_the_test_split_and_nest() -> None:
    texts = [e.text for e in dataset.load_labelled()]
    train = [t for t in texts if not dataset.is_test(t)]
    quarter = {t for t in train if dataset.in_learning_subset(t, 0.25)}
    half = {t for t in train if dataset.in_learning_subset(t, 0.5)}
    assert quarter < half
    assert 0.45 < len(half) / len(train) < 0.55
    assert all(dataset.in_learning_subset(t, 0.01) for t in texts if dataset.is_test(t))
    assert all(dataset.in_learning_subset(t, 1.0) for t in texts)
    # the validation slice keeps its share of the smaller training set
    share = sum(dataset.is_validation(t) for t in half) / len(half)
    assert abs(share - sum(dataset.is_validation(t) for t in train) / len(train)) < 0.03
    with pytest.raises(ValueError, match="fraction"):
        dataset.in_learning_subset(texts[0], 0.0)
