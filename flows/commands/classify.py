"""``tradewire classify``: JSON lines in, one prediction per line out. A stable interface.

Input lines: ``{"id", "text", "source"?, "published_at"?}``. Output lines: ``{"id",
"event_type", "sentiment", "assets", "confidence", "sentiment_confidence", "entities",
"model_version"}``, in input order (``confidence`` is the event type's calibrated probability).
A line that cannot be read yields ``{"id", "error"}`` in its place, so outputs stay aligned.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

import msgspec

from flows.runtime import model_loader
from operators.classify import Prediction, Predictor


class ClassifyRequest(msgspec.Struct, frozen=True):
    id: str | int
    text: str
    source: str = ""
    published_at: str | None = None


_decoder = msgspec.json.Decoder(ClassifyRequest)
_encoder = msgspec.json.Encoder()


def _parse(line: bytes) -> ClassifyRequest | dict[str, Any]:
    try:
        req = _decoder.decode(line)
    except msgspec.DecodeError as exc:
        try:
            raw = msgspec.json.decode(line)
        except msgspec.DecodeError:
            raw = None
        ident = raw.get("id") if isinstance(raw, dict) else None
        return {"id": ident, "error": f"invalid input line: {exc}"}
    if not req.text.strip():
        return {"id": req.id, "error": "empty text"}
    return req


def result_line(ident: str | int, pred: Prediction) -> dict[str, Any]:
    return {
        "id": ident,
        "event_type": pred.event_type.value,
        "sentiment": pred.sentiment.value,
        "assets": list(pred.assets),
        "confidence": round(pred.event_confidence, 4),
        "sentiment_confidence": round(pred.sentiment_confidence, 4),
        "entities": [
            {"text": e.text, "label": e.label, "ticker": e.ticker, "start": e.start, "end": e.end}
            for e in pred.entities
        ],
        "model_version": pred.model_version,
    }


def classify_lines(lines: Iterable[bytes], model: Predictor, batch_size: int) -> Iterator[bytes]:
    """Classify in batches (the encoder is far faster batched), keeping input order."""
    pending: list[ClassifyRequest | dict[str, Any]] = []

    def flush() -> Iterator[bytes]:
        reqs = [p for p in pending if isinstance(p, ClassifyRequest)]
        preds = iter(model.predict_batch([(r.text, r.source) for r in reqs]) if reqs else [])
        for p in pending:
            out = result_line(p.id, next(preds)) if isinstance(p, ClassifyRequest) else p
            yield _encoder.encode(out) + b"\n"
        pending.clear()

    for line in lines:
        if line.strip():
            pending.append(_parse(line))
        if len(pending) >= batch_size:
            yield from flush()
    yield from flush()


def run(args: argparse.Namespace) -> int:
    model = model_loader(args.model_version)()
    src: IO[bytes] = open(args.input, "rb") if args.input != "-" else sys.stdin.buffer  # noqa: SIM115
    try:
        for out in classify_lines(src, model, args.batch_size):
            sys.stdout.buffer.write(out)
            if args.batch_size == 1:
                sys.stdout.buffer.flush()
    finally:
        if src is not sys.stdin.buffer:
            src.close()
    sys.stdout.buffer.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("classify", help="classify JSON lines of text (stdin or a file)")
    p.add_argument("input", nargs="?", default="-", help="JSONL file, or - for stdin (default)")
    p.add_argument("--model-version", default=None, help="model version (default: pinned)")
    p.add_argument("--batch-size", type=int, default=64, help="lines per model call (1: streaming)")
    p.set_defaults(func=run)
