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
from pathlib import Path

from records import EventType, Sentiment

LABELLED_DIR = Path(__file__).resolve().parent / "data" / "labelled"
TEST_PERCENT = 20


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


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def is_test(text: str) -> bool:
    """True when the item belongs to the held-out test split (stable across set growth)."""
    bucket = int(hashlib.sha256(normalise(text).encode()).hexdigest()[:8], 16) % 100
    return bucket < TEST_PERCENT


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
