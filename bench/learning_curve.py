"""How held-out accuracy grows with the amount of labelled training data.

Trains the pinned recipe (fine-tuned encoder, seed 42) on nested fractions of the training split
(``dataset.in_learning_subset``) and scores every run on the same, full held-out split. The
slope per doubling says whether more labelled headlines or a different model is what the
accuracy targets need. Each run fine-tunes the encoder: about 7 minutes at fraction 1 on two
cores, proportionally less below. Artefacts go to a temporary folder; nothing is registered.

Usage: .venv/bin/python bench/learning_curve.py [--fractions 0.25 0.5 0.75 1] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path


def subset_files(source: Path, target: Path, fraction: float) -> int:
    """Copy each labelled file keeping only the rows of the subset, lines verbatim."""
    from models import dataset

    kept = 0
    for path in sorted(source.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            lines = [
                line
                for line in fh
                if line.strip() and dataset.in_learning_subset(json.loads(line)["text"], fraction)
            ]
        (target / path.name).write_text("".join(lines), encoding="utf-8")
        kept += len(lines)
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from models import dataset, training
    from models.encoder import OnnxEncoder
    from models.finetune import FinetuneConfig
    from models.ner import EntityLinker

    linker, stock = EntityLinker.load(), OnnxEncoder.load()
    print("fraction  train rows  event acc  macro-F1  sentiment acc  minutes")
    rows: list[tuple[int, float, float, float]] = []
    for fraction in sorted(args.fractions):
        with tempfile.TemporaryDirectory() as tmp:
            data, artefacts = Path(tmp) / "data", Path(tmp) / "artefacts"
            data.mkdir()
            subset_files(dataset.LABELLED_DIR, data, fraction)
            n_train = len(dataset.split(dataset.load_labelled(data))[0])
            start = time.perf_counter()
            result = training.train(
                args.seed,
                linker,
                stock,
                data_dir=data,
                artefacts_dir=artefacts,
                registry_path=None,
                tuning=FinetuneConfig(),
            )
            minutes = (time.perf_counter() - start) / 60
        ev, se = result.event, result.sentiment
        rows.append((n_train, ev.accuracy, ev.macro_f1, se.accuracy))
        print(
            f"{fraction:8.2f}  {n_train:10d}  {ev.accuracy:9.4f}  {ev.macro_f1:8.4f}  "
            f"{se.accuracy:13.4f}  {minutes:7.1f}",
            flush=True,
        )
    if len(rows) >= 2:
        (n0, *first), (n1, *last) = rows[0], rows[-1]
        doublings = math.log2(n1 / n0)
        gains = [(b - a) / doublings * 100 for a, b in zip(first, last, strict=True)]
        print(
            "points per doubling of the training rows (first to last fraction): "
            f"event acc {gains[0]:+.1f}, macro-F1 {gains[1]:+.1f}, sentiment acc {gains[2]:+.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
