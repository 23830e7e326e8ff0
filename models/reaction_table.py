"""The price-reaction table: how much each event type has typically moved an asset's price.

Built offline from labelled history by ``models.reactions`` (``tradewire reactions``) and read
once when the playbooks load, so that sizing can lean on whether a kind of news has moved
prices more than an ordinary hour did. The file is content-addressed: its version is a hash of
its content, so a pinned version always means the same numbers, and an edited or truncated
file is refused instead of silently resizing trades.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import msgspec

from records import EventType, Sentiment

FORMAT = 1
REACTIONS_DIR = Path(__file__).resolve().parent / "reactions"
PREFIX = "reactions-"
HORIZONS: Mapping[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
}
SIZING_HORIZON = "1h"


def market_key(asset: str) -> str:
    """Row name for news measured on a proxy (no priced asset of its own): ``MARKET(BTC)``."""
    return f"MARKET({asset})"


class ReactionTableError(ValueError):
    """The reaction table is missing, corrupted or of another format; the message says which."""


class Stats(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Summary of simple returns (``0.01`` is +1 %)."""

    n: int
    mean: float
    median: float
    mean_abs: float
    share_positive: float


class ReactionRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Returns after one group of events, and after random times matched to the same events."""

    event_type: EventType
    sentiment: Sentiment | None
    """None: all sentiments together."""
    asset: str
    """``BTC``, ``ETH`` or ``MARKET(BTC)`` (news on no priced asset, measured on BTC)."""
    horizon: str
    events: Stats
    baseline: Stats | None
    """Random instants in the same UTC month as each event, same asset and horizon."""

    @property
    def ratio(self) -> float | None:
        """Mean absolute move after the events over the baseline's (1.0: an ordinary time)."""
        if self.baseline is None or self.baseline.mean_abs <= 0:
            return None
        return self.events.mean_abs / self.baseline.mean_abs


class Baseline(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Unconditional returns at all the random control instants of one asset and horizon."""

    asset: str
    horizon: str
    stats: Stats


class ReactionArtefact(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What is written to ``models/reactions/<version>.json``."""

    format: int
    version: str
    """``reactions-`` + the first 12 hex digits of the sha256 of the content (version blank)."""
    inputs: dict[str, str]
    """Input name -> sha256 (the labelled events and each bar file)."""
    seed: int
    controls_per_event: int
    counts: dict[str, int]
    rows: tuple[ReactionRow, ...]
    baselines: tuple[Baseline, ...]


def content_version(artefact: ReactionArtefact) -> str:
    """The version an artefact's content implies (its own ``version`` field is ignored)."""
    blank = msgspec.structs.replace(artefact, version="")
    digest = hashlib.sha256(msgspec.json.encode(blank, order="sorted")).hexdigest()
    return PREFIX + digest[:12]


def sealed(artefact: ReactionArtefact) -> ReactionArtefact:
    """The artefact with its content version filled in."""
    return msgspec.structs.replace(artefact, version=content_version(artefact))


def write_artefact(artefact: ReactionArtefact, directory: Path = REACTIONS_DIR) -> Path:
    """Write ``<directory>/<version>.json`` (sealing it first); same content, same file."""
    artefact = sealed(artefact)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{artefact.version}.json"
    text = msgspec.json.format(msgspec.json.encode(artefact, order="sorted"), indent=1)
    path.write_bytes(text + b"\n")
    return path


def resolve(ref: str, base: Path | None = None) -> Path:
    """A version name (``reactions-ab12...``, looked up in ``REACTIONS_DIR``) or a ``.json``
    path (relative ones against ``base``, default the working directory)."""
    if ref.endswith(".json"):
        path = Path(ref)
        return path if path.is_absolute() or base is None else base / path
    return REACTIONS_DIR / f"{ref}.json"


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the table expects of one event type on one asset at one horizon."""

    move: float
    """Mean absolute return after such events."""
    baseline: float | None
    """Mean absolute return at matched random times (None: no control could be measured)."""
    samples: int


class ReactionTable(msgspec.Struct, frozen=True):
    """The loaded, verified table with an index for lookups; picklable for Bytewax workers."""

    artefact: ReactionArtefact
    index: dict[str, ReactionRow]

    @classmethod
    def of(cls, artefact: ReactionArtefact) -> ReactionTable:
        index = {_key(r.event_type, r.sentiment, r.asset, r.horizon): r for r in artefact.rows}
        return cls(artefact=artefact, index=index)

    @property
    def version(self) -> str:
        return self.artefact.version

    def row(
        self,
        event_type: EventType,
        asset: str,
        horizon: str = SIZING_HORIZON,
        sentiment: Sentiment | None = None,
    ) -> ReactionRow | None:
        return self.index.get(_key(event_type, sentiment, asset, horizon))

    def expected_move(
        self, event_type: EventType, asset: str, horizon: str = SIZING_HORIZON
    ) -> Expectation | None:
        """Typical absolute move after ``event_type`` news on ``asset`` (None: never measured)."""
        row = self.row(event_type, asset, horizon)
        if row is None:
            return None
        base = row.baseline.mean_abs if row.baseline is not None else None
        return Expectation(move=row.events.mean_abs, baseline=base, samples=row.events.n)


def _key(event_type: EventType, sentiment: Sentiment | None, asset: str, horizon: str) -> str:
    return f"{event_type.value}|{sentiment.value if sentiment else '*'}|{asset}|{horizon}"


def load_table(ref: str, base: Path | None = None) -> ReactionTable:
    """Load and verify a table by version name or path (see ``resolve``)."""
    path = resolve(ref, base)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read reaction table {path}: {exc}"
        raise ReactionTableError(msg) from exc
    try:
        artefact = msgspec.json.decode(raw, type=ReactionArtefact)
    except msgspec.ValidationError as exc:
        msg = f"reaction table {path} is malformed: {exc}"
        raise ReactionTableError(msg) from exc
    except msgspec.DecodeError as exc:
        msg = f"reaction table {path} is not valid JSON: {exc}"
        raise ReactionTableError(msg) from exc
    if artefact.format != FORMAT:
        msg = f"reaction table {path} has format {artefact.format}; this code reads {FORMAT}"
        raise ReactionTableError(msg)
    expected = content_version(artefact)
    if artefact.version != expected:
        msg = (
            f"reaction table {path} says version {artefact.version!r} but its content hashes "
            f"to {expected!r}: edited or corrupted"
        )
        raise ReactionTableError(msg)
    if path.stem.startswith(PREFIX) and path.stem != expected:
        msg = f"reaction table file {path.name} holds version {expected}"
        raise ReactionTableError(msg)
    return ReactionTable.of(artefact)
