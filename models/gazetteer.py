"""The maintained gazetteer: names of assets, venues, protocols, authorities and people.

The data lives in ``models/gazetteer/entities.toml`` so that adding a token or an official is a
data edit, not a code change. This module only parses and validates it into frozen entries; the
NER layer (``models.ner``) turns the entries into matchers and applies the linking rules.
"""

from __future__ import annotations

import enum
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parent / "gazetteer" / "entities.toml"


class Kind(enum.StrEnum):
    """Entity families; the value is the ``records.Entity.label`` a match carries."""

    ASSET = "ASSET"
    EXCHANGE = "EXCHANGE"
    PROTOCOL = "PROTOCOL"
    REGULATOR = "REGULATOR"
    CENTRAL_BANK = "CENTRAL_BANK"
    FED_OFFICIAL = "FED_OFFICIAL"
    POLITICIAN = "POLITICIAN"
    REGULATOR_OFFICIAL = "REGULATOR_OFFICIAL"
    PUBLIC_FIGURE = "PUBLIC_FIGURE"


_SECTIONS = {
    "asset": Kind.ASSET,
    "exchange": Kind.EXCHANGE,
    "protocol": Kind.PROTOCOL,
    "regulator": Kind.REGULATOR,
    "central_bank": Kind.CENTRAL_BANK,
    "fed_official": Kind.FED_OFFICIAL,
}
_PERSON_ROLES = {
    "politician": Kind.POLITICIAN,
    "regulator_official": Kind.REGULATOR_OFFICIAL,
    "public_figure": Kind.PUBLIC_FIGURE,
}


class GazetteerError(ValueError):
    """The gazetteer file is malformed; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One canonical entity and the surface forms that refer to it.

    ``ticker`` is the asset's own ticker for assets and the venue's/protocol's token otherwise
    (None when it has none); whether a mention links to it is decided by the NER linker.
    """

    canonical: str
    kind: Kind
    names: tuple[str, ...]
    """Matched case-insensitively."""
    exact: tuple[str, ...]
    """Matched only as written (short tickers, names that are also English words)."""
    ticker: str | None = None
    symbol: str | None = None
    """Tradable USDT pair for assets (None: no pair, e.g. USDT itself)."""


@dataclass(frozen=True, slots=True)
class Gazetteer:
    entries: tuple[Entry, ...]

    def by_kind(self, kind: Kind) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind is kind)

    def symbol_for(self, ticker: str) -> str | None:
        """Tradable USDT symbol of an asset ticker (``BTC`` -> ``BTCUSDT``), None if untradable."""
        for entry in self.entries:
            if entry.kind is Kind.ASSET and entry.ticker == ticker:
                return entry.symbol
        return f"{ticker}USDT"

    @property
    def tickers(self) -> frozenset[str]:
        return frozenset(e.ticker for e in self.entries if e.kind is Kind.ASSET and e.ticker)

    @property
    def fingerprint(self) -> str:
        """Content hash of the entries: the features a model learnt from depend on them."""
        rows = [
            [e.canonical, e.kind.value, list(e.names), list(e.exact), e.ticker, e.symbol]
            for e in self.entries
        ]
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:12]


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise GazetteerError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(value)


def _entry(raw: Mapping[str, Any], kind: Kind, where: str) -> Entry:
    names = tuple(n.lower() for n in _strings(raw, "names", where))
    exact = _strings(raw, "exact", where)
    if kind is Kind.ASSET:
        ticker = raw.get("ticker")
        if not isinstance(ticker, str) or not ticker.isupper():
            raise GazetteerError(f"{where}: an asset needs an upper-case 'ticker'")
        symbol_raw = raw.get("symbol", f"{ticker}USDT")
        if not isinstance(symbol_raw, str):
            raise GazetteerError(f"{where}: 'symbol' must be a string")
        canonical = ticker
        symbol: str | None = symbol_raw or None
    else:
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise GazetteerError(f"{where}: 'name' is required")
        token = raw.get("token")
        if token is not None and (not isinstance(token, str) or not token.isupper()):
            raise GazetteerError(f"{where}: 'token' must be an upper-case ticker")
        canonical, ticker, symbol = name, token, None
    if not names and not exact:
        raise GazetteerError(f"{where}: no surface forms ('names' or 'exact')")
    return Entry(canonical, kind, names, exact, ticker, symbol)


def parse(data: Mapping[str, Any]) -> Gazetteer:
    """Validate a decoded gazetteer document; duplicates of a canonical name are refused."""
    entries: list[Entry] = []
    for section, rows in data.items():
        if not isinstance(rows, list):
            raise GazetteerError(f"[{section}] must be an array of tables ([[{section}]])")
        for i, raw in enumerate(rows):
            where = f"[[{section}]] #{i + 1}"
            if section == "person":
                role = raw.get("role")
                if role not in _PERSON_ROLES:
                    raise GazetteerError(f"{where}: role must be one of {sorted(_PERSON_ROLES)}")
                kind = _PERSON_ROLES[role]
            elif section in _SECTIONS:
                kind = _SECTIONS[section]
            else:
                raise GazetteerError(f"unknown section [[{section}]]")
            entries.append(_entry(raw, kind, where))
    seen: set[tuple[Kind, str]] = set()
    for e in entries:
        if (e.kind, e.canonical) in seen:
            raise GazetteerError(f"duplicate {e.kind} entry {e.canonical!r}")
        seen.add((e.kind, e.canonical))
    return Gazetteer(tuple(entries))


def load(path: Path = DEFAULT_PATH) -> Gazetteer:
    with path.open("rb") as fh:
        return parse(tomllib.load(fh))
