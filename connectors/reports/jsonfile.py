"""JSON output of a run: exact decimals as strings, fields in a fixed order (reruns diff clean)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder(decimal_format="string")


def write_json(path: Path, payload: Any) -> Path:
    """Write ``payload`` (records, msgspec structs, dicts, lists) as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(_encoder.encode(payload), indent=2) + b"\n")
    return path
