"""Reading the trading TOML (playbooks, instruments, risk): one file, several frozen views."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

SECTIONS = frozenset({"defaults", "symbols", "instruments", "playbooks", "risk"})


class ConfigError(ValueError):
    """The trading configuration is unreadable or invalid; the message says where."""


def read_trading_toml(source: str | Path) -> dict[str, Any]:
    """Parse TOML text or a path; unknown top-level sections are refused (typos must not pass)."""
    where = str(source) if isinstance(source, Path) else "<text>"
    try:
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"cannot read trading config {where}: {exc}"
        raise ConfigError(msg) from exc
    unknown = sorted(set(data) - SECTIONS)
    if unknown:
        msg = f"{where}: unknown section(s) {unknown}; expected some of {sorted(SECTIONS)}"
        raise ConfigError(msg)
    return data


def convert(data: Any, kind: type[T], where: str) -> T:
    """Validate plain TOML values into a frozen struct (strings and numbers become Decimal)."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        msg = f"invalid trading config ({where}): {exc}"
        raise ConfigError(msg) from exc
