"""JSON encoding of records: one encoder, one decoder per type, reused (they are not free)."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

_encoder = msgspec.json.Encoder(decimal_format="string")


def to_json(record: Any) -> bytes:
    """Encode a record (or a list/dict of them) as compact JSON bytes."""
    return _encoder.encode(record)


@cache
def _decoder(kind: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def from_json(data: bytes | str, kind: type[T]) -> T:
    """Decode and validate JSON into ``kind``; raises ``msgspec.ValidationError`` on bad input."""
    result: T = _decoder(kind).decode(data)  # type: ignore[arg-type]
    return result


def to_builtins(record: Any) -> Any:
    """Records as plain dicts/lists/str (``Decimal`` and times as strings), e.g. for tables."""
    return msgspec.to_builtins(record)
