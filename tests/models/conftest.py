"""Shared, expensive fixtures: spaCy, the int8 encoder and a frozen slice of the labelled set."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from models import dataset
from models.encoder import OnnxEncoder
from models.ner import EntityLinker


@pytest.fixture(scope="session")
def linker() -> EntityLinker:
    return EntityLinker.load()


@pytest.fixture(scope="session")
def encoder() -> OnnxEncoder:
    return OnnxEncoder.load(threads=2)


@pytest.fixture(scope="session")
def small_labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 250 real labelled rows of each file (a frozen copy: the real set keeps growing)."""
    out = tmp_path_factory.mktemp("labelled")
    for path in sorted(dataset.LABELLED_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as src:
            lines = [line for line in itertools.islice(src, 250) if line.strip()]
        (out / path.name).write_text("".join(lines), encoding="utf-8")
    return out
