"""``tradewire ingest``: run the configured sources and write normalised items as JSON lines.

Meant for checking a source set-up by eye: items go to ``--out`` (stdout by default), dead
letters to ``--dlq`` (or are logged with their reason). With ``--once`` every source reads what
is there now and the command exits.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import IO, Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

from connectors.sources.config import ConfigError, load_config
from connectors.sources.registry import build_sources
from connectors.sources.secrets import MissingSecretError
from flows.ingest_flow import get_flow
from flows.signal_flow import Output
from records import DeadLetter, SystemClock, to_json

log = logging.getLogger(__name__)


class _LinesPartition(StatelessSinkPartition[Any]):
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def write_batch(self, items: list[Any]) -> None:
        self._stream.write(b"".join(to_json(item) + b"\n" for item in items))
        self._stream.flush()


class JsonLinesSink(DynamicSink[Any]):
    """Each record as one JSON line on an already-open byte stream (single worker)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _LinesPartition:
        return _LinesPartition(self._stream)


class _LogDeadLetters(StatelessSinkPartition[DeadLetter]):
    def write_batch(self, items: list[DeadLetter]) -> None:
        for letter in items:
            log.warning(
                "dead letter from %s (%s): %s [%d bytes]",
                letter.stage,
                letter.key,
                letter.reason,
                len(letter.payload),
            )


class LogDeadLetterSink(DynamicSink[DeadLetter]):
    def build(self, step_id: str, worker_index: int, worker_count: int) -> _LogDeadLetters:
        return _LogDeadLetters()


def _run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"tradewire ingest: {exc}", file=sys.stderr)
        return 2
    sources = build_sources(config, SystemClock(), once=args.once)
    if not sources:
        print("tradewire ingest: the config lists no sources", file=sys.stderr)
        return 2
    out = sys.stdout.buffer if args.out == "-" else Path(args.out).open("ab")  # noqa: SIM115
    dlq_file = Path(args.dlq).open("ab") if args.dlq else None  # noqa: SIM115
    dlq_sink: DynamicSink[Any] = JsonLinesSink(dlq_file) if dlq_file else LogDeadLetterSink()
    try:
        run_main(get_flow(sources, Output(JsonLinesSink(out)), Output(dlq_sink)))
    except MissingSecretError as exc:
        print(f"tradewire ingest: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        if out is not sys.stdout.buffer:
            out.close()
        if dlq_file is not None:
            dlq_file.close()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("ingest", help="run the configured news sources, print JSON lines")
    parser.add_argument("--config", type=Path, required=True, help="sources TOML file")
    parser.add_argument("--once", action="store_true", help="read what is there now, then exit")
    parser.add_argument("--out", default="-", help="items JSONL file ('-' = stdout)")
    parser.add_argument("--dlq", default=None, help="dead letters JSONL file (default: log)")
    parser.set_defaults(func=_run)
