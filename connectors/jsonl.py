"""JSON-lines files as a Bytewax source and sink: the demo, backtests on archives, debugging.

The source resumes at the next unread line; the sink truncates back to its last snapshot on
resume, so a recovered run neither loses nor duplicates lines.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import msgspec
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition

from operators.normalise import RawMessage
from records import UtcDatetime, to_json


def open_lines(path: Path) -> IO[bytes]:
    """Open a (possibly gzipped) JSONL file for binary reading."""
    if path.suffix == ".gz":
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


class _Stamp(msgspec.Struct):
    received_at: UtcDatetime


_stamp = msgspec.json.Decoder(_Stamp)


def received_between(start: datetime | None, end: datetime | None) -> Callable[[bytes], bool]:
    """Line filter on ``received_at`` in ``[start, end)``; unreadable lines pass (the flow
    dead-letters them, with the reason, instead of losing them here)."""

    def keep(line: bytes) -> bool:
        try:
            at = _stamp.decode(line).received_at
        except msgspec.MsgspecError:
            return True
        return (start is None or at >= start) and (end is None or at < end)

    return keep


class _FilePartition(StatefulSourcePartition[RawMessage, int]):
    def __init__(self, path: Path, resume: int, batch: int, keep: Callable[[bytes], bool]) -> None:
        self._path = path
        self._fh = open_lines(path)
        self._line = 0
        self._batch = batch
        self._keep = keep
        while self._line < resume and self._fh.readline():
            self._line += 1

    def next_batch(self) -> list[RawMessage]:
        out: list[RawMessage] = []
        while len(out) < self._batch:
            line = self._fh.readline()
            if not line:
                if not out:
                    raise StopIteration
                break
            self._line += 1
            value = line.rstrip(b"\r\n")
            if value and self._keep(value):
                out.append(RawMessage(value=value, ref=f"file://{self._path}#{self._line}"))
        return out

    def snapshot(self) -> int:
        return self._line

    def close(self) -> None:
        self._fh.close()


class JsonlSource(FixedPartitionedSource[RawMessage, int]):
    """One partition per file; lines are delivered as raw messages for the normaliser."""

    def __init__(
        self,
        paths: list[Path],
        batch_size: int = 64,
        keep: Callable[[bytes], bool] = lambda _line: True,
    ) -> None:
        self._paths = {str(p): p for p in paths}
        self._batch = batch_size
        self._keep = keep

    def list_parts(self) -> list[str]:
        return list(self._paths)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _FilePartition:
        return _FilePartition(self._paths[for_part], resume_state or 0, self._batch, self._keep)


class _SinkPartition(StatefulSinkPartition[bytes, int]):
    def __init__(self, path: Path, resume: int | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: io.BufferedRandom = path.open("r+b" if path.exists() else "w+b")
        if resume is None:
            self._fh.truncate(0)
        else:
            self._fh.truncate(resume)
        self._fh.seek(0, os.SEEK_END)

    def write_batch(self, values: list[bytes]) -> None:
        self._fh.writelines(v + b"\n" for v in values)
        self._fh.flush()

    def snapshot(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()


class JsonlSink(FixedPartitionedSink[bytes, int]):
    """All records to one file, whatever the number of workers (items routed to one part).

    Items are ``(key, json_bytes)``; :func:`jsonl_item` makes them from records."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def list_parts(self) -> list[str]:
        return ["0"]

    def part_fn(self, item_key: str) -> int:
        return 0

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _SinkPartition:
        return _SinkPartition(self._path, resume_state)


def jsonl_item(record: Any) -> tuple[str, bytes]:
    return ("0", to_json(record))
