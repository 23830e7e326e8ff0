"""The labelled headline set: loading, validation, content hash and the deterministic split.

The held-out test split is a pure function of each item's normalised text (sha256 -> bucket
0..99, test when < 20). It never depends on the rest of the set, so the split of an item never
changes as labellers add rows, and two copies of one headline (the same story in two source
sets) always land on the same side: no leakage through duplicates.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from records import EventType, Sentiment

LABELLED_DIR = Path(__file__).resolve().parent / "data" / "labelled"
TEST_PERCENT = 20
VALIDATION_PERCENT = 15
"""Buckets ``TEST_PERCENT .. TEST_PERCENT + VALIDATION_PERCENT`` of the same hash: a validation
slice inside the training split, for choosing between configurations without the test split."""


class DatasetError(ValueError):
    """A labelled file has a malformed row; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    text: str
    source: str
    event_type: EventType
    sentiment: Sentiment
    assets: tuple[str, ...]
    dataset: str
    published_at: datetime | None = None
    """UTC instant of publication; None when unknown or only a day (a day is not a time:
    price-reaction studies need the minute). Not part of ``content_hash``."""


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def is_test(text: str) -> bool:
    """True when the item belongs to the held-out test split (stable across set growth)."""
    return _bucket(text) < TEST_PERCENT


def _bucket(text: str) -> int:
    return int(hashlib.sha256(normalise(text).encode()).hexdigest()[:8], 16) % 100


def is_validation(text: str) -> bool:
    """True for the validation slice of the training split (same stable hash as ``is_test``)."""
    return TEST_PERCENT <= _bucket(text) < TEST_PERCENT + VALIDATION_PERCENT


def in_learning_subset(text: str, fraction: float) -> bool:
    """Whether a row takes part when training on ``fraction`` of the training split.

    Test rows always do, so every fraction is scored on the same held-out split. Training rows
    are drawn by a second hash of the normalised text, independent of the split buckets (the
    validation slice keeps its share), and nested: a row kept at 0.25 is kept at 0.5.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if is_test(text):
        return True
    digest = hashlib.sha256(b"learning-curve:" + normalise(text).encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000 < fraction


def _published_at(value: object) -> datetime | None:
    """Parse an ISO instant with its offset; date-only values give None, naive times refuse."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"published_at must be an ISO string, got {value!r}")
    if "T" not in value:
        datetime.fromisoformat(value)  # still refuse garbage, but a day carries no time
        return None
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"published_at {value!r} has no UTC offset")
    return at.astimezone(UTC)


def _parse(line: str, where: str) -> Example:
    try:
        raw = json.loads(line)
        return Example(
            id=str(raw["id"]),
            text=str(raw["text"]),
            source=str(raw.get("source") or ""),
            event_type=EventType(raw["event_type"]),
            sentiment=Sentiment(raw["sentiment"]),
            assets=tuple(str(a) for a in raw.get("assets") or ()),
            dataset=str(raw.get("dataset") or ""),
            published_at=_published_at(raw.get("published_at")),
        )
    except (json.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
        raise DatasetError(f"{where}: {exc!r}") from exc


def read_jsonl(paths: Iterable[Path]) -> list[Example]:
    """Read labelled JSONL files in the given order; blank lines are skipped, bad rows refused."""
    out: list[Example] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    out.append(_parse(line, f"{path}:{n}"))
    return out


def load_labelled(directory: Path = LABELLED_DIR) -> list[Example]:
    """All ``*.jsonl`` in the labelled folder, sorted by file name, rows in file order."""
    paths = sorted(directory.glob("*.jsonl"))
    if not paths:
        raise DatasetError(f"no labelled *.jsonl files in {directory}")
    return read_jsonl(paths)


def content_hash(examples: Sequence[Example]) -> str:
    """sha256 over the rows that matter for training (text, source and labels), in order."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(
            json.dumps(
                [e.id, e.text, e.source, e.event_type.value, e.sentiment.value], ensure_ascii=False
            ).encode()
        )
        digest.update(b"\n")
    return digest.hexdigest()


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(train, test) by ``is_test``."""
    train = [e for e in examples if not is_test(e.text)]
    test = [e for e in examples if is_test(e.text)]
    return train, test
