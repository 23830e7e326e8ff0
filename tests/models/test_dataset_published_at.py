"""Labelled rows keep their publication instant (UTC), for price-reaction studies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from models import dataset

ROW = '{{"id": "1", "text": "x", "event_type": "HACK", "sentiment": "negative"{extra}}}\n'


def read(tmp_path: Path, extra: str) -> dataset.Example:
    path = tmp_path / "rows.jsonl"
    path.write_text(ROW.format(extra=extra))
    (row,) = dataset.read_jsonl([path])
    return row


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (', "published_at": "2022-07-05T04:24:00Z"', datetime(2022, 7, 5, 4, 24, tzinfo=UTC)),
        (', "published_at": "2022-07-05T06:24:00+02:00"', datetime(2022, 7, 5, 4, 24, tzinfo=UTC)),
        (', "published_at": "2020-05-11"', None),
        (', "published_at": null', None),
        ("", None),
    ],
)
def test_published_at_is_a_utc_instant_or_none(
    tmp_path: Path, extra: str, expected: datetime | None
) -> None:
    got = read(tmp_path, extra).published_at
    assert got == expected
    assert got is None or got.utcoffset() is not None


@pytest.mark.parametrize("value", ['"2022-07-05T04:24:00"', '"yesterday"', "5"])
def test_bad_published_at_is_refused_with_its_location(tmp_path: Path, value: str) -> None:
    with pytest.raises(dataset.DatasetError, match=r"rows\.jsonl:1"):
        read(tmp_path, f', "published_at": {value}')


def test_bundled_rows_mostly_carry_a_time() -> None:
    rows = dataset.load_labelled()
    timed = [r for r in rows if r.published_at is not None]
    assert len(timed) > 3000
