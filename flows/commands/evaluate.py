"""``tradewire evaluate``: score a model version on the held-out split or a labelled JSONL."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import dataset
    from models.serving import SignalModel


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
    parser.add_argument(
        "--agreement",
        action="store_true",
        help="with --data holding a second annotator's labels of rows of models/data (same ids):"
        " print inter-annotator agreement, then score the model against each annotator",
    )
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
    if args.agreement:
        return _agreement(model, examples, title)
    rows = [(e.text, e.source, e.event_type.value, e.sentiment.value) for e in examples]
    event, sentiment = evaluate(model, rows)
    print(f"model {model.version} on {title}")
    print(event.render("event type"))
    print(sentiment.render("sentiment"))
    return 0


def _agreement(model: SignalModel, second: list[dataset.Example], title: str) -> int:
    from models import dataset
    from models.metrics import agreement
    from models.serving import evaluate

    first_by_id = {e.id: e for e in dataset.load_labelled()}
    unknown = [e.id for e in second if e.id not in first_by_id]
    if unknown or not second:
        print(f"error: {len(unknown)} ids of {title} are not in models/data: {unknown[:5]}")
        return 2
    first = [first_by_id[e.id] for e in second]
    print(f"{title}: second annotator vs models/data labels, {len(second)} rows")
    print(
        agreement([e.event_type.value for e in first], [e.event_type.value for e in second]).render(
            "event type"
        )
    )
    print(
        agreement([e.sentiment.value for e in first], [e.sentiment.value for e in second]).render(
            "sentiment"
        )
    )
    for who, labels in (("first annotator", first), ("second annotator", second)):
        event, sentiment = evaluate(
            model,
            [(e.text, e.source, e.event_type.value, e.sentiment.value) for e in labels],
        )
        print(
            f"model {model.version} vs {who}: event accuracy {event.accuracy:.4f}, "
            f"sentiment accuracy {sentiment.accuracy:.4f}"
        )
    return 0
