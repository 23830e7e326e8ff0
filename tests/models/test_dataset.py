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
