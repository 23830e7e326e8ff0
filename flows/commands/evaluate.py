"""``tradewire evaluate``: score a model version on the held-out split or a labelled JSONL."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "evaluate", help="accuracy, macro-F1, per-class P/R, confusion matrix, calibration"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="labelled JSONL to score (all rows); default: the held-out split of models/data",
    )
    parser.add_argument("--version", default=None, help="model version (default: pinned)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models import dataset
    from models.artefact import ArtefactError
    from models.registry import RegistryError
    from models.serving import SignalModel, evaluate

    try:
        if args.data is not None:
            examples = dataset.read_jsonl([args.data])
            title = str(args.data)
        else:
            examples = dataset.split(dataset.load_labelled())[1]
            title = "held-out split"
        model = SignalModel.load(args.version)
    except (dataset.DatasetError, ArtefactError, RegistryError, OSError) as exc:
        print(f"error: {exc}")
        return 2
    rows = [(e.text, e.source, e.event_type.value, e.sentiment.value) for e in examples]
    event, sentiment = evaluate(model, rows)
    print(f"model {model.version} on {title}")
    print(event.render("event type"))
    print(sentiment.render("sentiment"))
    return 0
