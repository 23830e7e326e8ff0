"""Price reactions to news: forward returns after labelled events, against random times.

For an event at ``t`` the start price is the close of the last bar fully closed at ``t`` (the
last price anyone could have known then) and the end price the close of the last bar closed at
``t + horizon``: never a later price, so the table cannot learn from the future. The finest bar
series that covers both ends, and is no coarser than the horizon, is used (with hourly bars a
15-minute return would compare a bar with itself).

Each event also gets control instants on the same asset: random other days of the same UTC
month at the same time of day. News clusters in volatile months and in the busy hours of the
day, so comparing with all hours of all years would make every event type look as if it moved
prices. Controls are seeded per event, so the table is a pure function of its inputs and adding
an event leaves the other events' controls unchanged.
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

from models.dataset import Example
from models.reaction_table import (
    FORMAT,
    HORIZONS,
    Baseline,
    ReactionArtefact,
    ReactionRow,
    Stats,
    market_key,
    sealed,
)
from records import EventType, Sentiment

DIGITS = 8
"""Returns are rounded to 1e-8 (a millionth of a basis point) so the file stays small."""


class PricedBar(Protocol):
    @property
    def open_time(self) -> datetime: ...

    @property
    def close(self) -> Decimal: ...


class PriceSeries(Protocol):
    """What is needed of a bar series (``connectors.marketdata.bars.BarSeries`` fits)."""

    @property
    def interval(self) -> timedelta: ...

    def last_closed_before(self, instant: datetime) -> PricedBar | None: ...


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    at: datetime
    event_type: EventType
    sentiment: Sentiment
    assets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One event's return on one asset at one horizon, and its matched controls' returns."""

    event_id: str
    event_type: EventType
    sentiment: Sentiment
    asset: str
    """Row name: the priced asset, or ``MARKET(<proxy>)``."""
    horizon: str
    ret: float
    controls: tuple[float, ...]
    bar_seconds: int
    """Interval of the bars the return was read from."""


def events_from(examples: Iterable[Example]) -> tuple[list[Event], Counter[str]]:
    """Labelled examples with a usable publication time, and counts of those left out.

    Exact UTC midnights are left out with the date-only ones: in the bundled sets they mark
    sources that gave only a day, and a day says nothing about a 15-minute reaction.
    """
    events: list[Event] = []
    counts: Counter[str] = Counter()
    for e in examples:
        counts["labelled"] += 1
        if e.published_at is None:
            counts["no_time"] += 1
        elif e.published_at.time() == time(0):
            counts["midnight_only"] += 1
        else:
            events.append(
                Event(
                    id=e.id,
                    at=e.published_at,
                    event_type=e.event_type,
                    sentiment=e.sentiment,
                    assets=tuple(a.upper() for a in e.assets),
                )
            )
    counts["timed"] = len(events)
    return events, counts


def events_hash(events: Sequence[Event]) -> str:
    """sha256 over what the table depends on, in order."""
    digest = hashlib.sha256()
    for e in events:
        row = [e.id, e.at.isoformat(), e.event_type.value, e.sentiment.value, list(e.assets)]
        digest.update(json.dumps(row, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def known_price(series: PriceSeries, at: datetime) -> Decimal | None:
    """Close of the last bar closed at ``at``; None if that bar is not the latest one that
    could have closed (a gap in the data or past its end: the price would be stale)."""
    bar = series.last_closed_before(at)
    if bar is None or bar.open_time <= at - 2 * series.interval:
        return None
    return bar.close


def forward_return(series: PriceSeries, at: datetime, horizon: timedelta) -> float | None:
    """Simple return from the price known at ``at`` to the one known at ``at + horizon``."""
    if series.interval > horizon:
        return None
    start = known_price(series, at)
    end = known_price(series, at + horizon)
    if start is None or end is None or start <= 0:
        return None
    return float(end / start - 1)


def best_return(
    series: Sequence[PriceSeries],
    at: datetime,
    horizon: timedelta,
    until: datetime | None = None,
) -> tuple[float, int] | None:
    """Return from the finest series covering both ends, and that series' interval (s);
    None as well when the end lies after ``until`` (a table for backtests must not know it)."""
    if until is not None and at + horizon > until:
        return None
    for s in sorted(series, key=lambda x: x.interval):
        ret = forward_return(s, at, horizon)
        if ret is not None:
            return ret, int(s.interval.total_seconds())
    return None


def targets(assets: Sequence[str], priced: Collection[str], proxy: str) -> list[tuple[str, str]]:
    """``(row name, priced asset)`` an event is measured on: each of its priced assets, or the
    proxy (as ``MARKET(proxy)``) when it names none."""
    own = [a for a in dict.fromkeys(assets) if a in priced]
    if own:
        return [(a, a) for a in own]
    return [(market_key(proxy), proxy)]


def control_instants(event: Event, row_asset: str, seed: int, count: int) -> tuple[datetime, ...]:
    """Up to ``count`` other days of the event's UTC month, at the event's time of day.

    Same month: volatility regimes last months. Same time of day: news clusters in the US
    session, which moves more than the Asian night; without this every event type would look
    like it moved prices. Days are drawn without replacement, seeded by the event.
    """
    month = event.at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = ((month + timedelta(days=32)).replace(day=1) - month).days
    others = [d for d in range(days) if d != event.at.day - 1]
    rng = random.Random(f"{seed}|{event.id}|{row_asset}")
    picked = sorted(rng.sample(others, min(count, len(others))))
    return tuple(event.at + timedelta(days=d - (event.at.day - 1)) for d in picked)


def measure(
    events: Iterable[Event],
    prices: Mapping[str, Sequence[PriceSeries]],
    *,
    proxy: str = "BTC",
    seed: int = 0,
    controls: int = 20,
    horizons: Mapping[str, timedelta] = HORIZONS,
    until: datetime | None = None,
) -> tuple[list[Measurement], Counter[str]]:
    """Every event's forward returns per target asset and horizon, with matched controls;
    with ``until``, only returns (and controls) that were complete by then."""
    if proxy not in prices:
        msg = f"proxy asset {proxy!r} has no prices"
        raise ValueError(msg)
    out: list[Measurement] = []
    counts: Counter[str] = Counter()
    for event in events:
        measured = False
        for row_asset, asset in targets(event.assets, prices.keys(), proxy):
            series = prices[asset]
            instants = control_instants(event, row_asset, seed, controls)
            for label, horizon in horizons.items():
                got = best_return(series, event.at, horizon, until)
                if got is None:
                    continue
                ret, seconds = got
                base = [best_return(series, t, horizon, until) for t in instants]
                out.append(
                    Measurement(
                        event_id=event.id,
                        event_type=event.event_type,
                        sentiment=event.sentiment,
                        asset=row_asset,
                        horizon=label,
                        ret=ret,
                        controls=tuple(b[0] for b in base if b is not None),
                        bar_seconds=seconds,
                    )
                )
                counts[f"measured_{label}"] += 1
                counts[f"measured_{label}_bars_{seconds}s"] += 1
                measured = True
        counts["events_measured" if measured else "events_without_prices"] += 1
    return out, counts


def summarise(values: Sequence[float]) -> Stats | None:
    if not values:
        return None
    n = len(values)
    return Stats(
        n=n,
        mean=round(statistics.fmean(values), DIGITS),
        median=round(statistics.median(values), DIGITS),
        mean_abs=round(statistics.fmean(abs(v) for v in values), DIGITS),
        share_positive=round(sum(1 for v in values if v > 0) / n, DIGITS),
    )


_EVENT_ORDER = {e: i for i, e in enumerate(EventType)}
_SENTIMENT_ORDER = {s: i for i, s in enumerate(Sentiment)}
_HORIZON_ORDER = {h: i for i, h in enumerate(HORIZONS)}
GroupKey = tuple[EventType, Sentiment | None, str, str]


def _order(key: GroupKey) -> tuple[int, int, str, int]:
    event_type, sentiment, asset, horizon = key
    return (
        _EVENT_ORDER[event_type],
        -1 if sentiment is None else _SENTIMENT_ORDER[sentiment],
        asset,
        _HORIZON_ORDER.get(horizon, len(_HORIZON_ORDER)),
    )


def aggregate(
    measurements: Iterable[Measurement],
) -> tuple[tuple[ReactionRow, ...], tuple[Baseline, ...]]:
    """Rows per (event type, asset, horizon) and per (event type, sentiment, asset, horizon),
    each with the pooled controls of its own events; baselines per (asset, horizon)."""
    rets: defaultdict[GroupKey, list[float]] = defaultdict(list)
    ctrl: defaultdict[GroupKey, list[float]] = defaultdict(list)
    pooled: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    for m in measurements:
        for sentiment in (None, m.sentiment):
            key = (m.event_type, sentiment, m.asset, m.horizon)
            rets[key].append(m.ret)
            ctrl[key].extend(m.controls)
        pooled[(m.asset, m.horizon)].extend(m.controls)
    rows: list[ReactionRow] = []
    for key in sorted(rets, key=_order):
        stats = summarise(rets[key])
        assert stats is not None  # a group exists only once it holds a return
        event_type, sentiment, asset, horizon = key
        rows.append(
            ReactionRow(
                event_type=event_type,
                sentiment=sentiment,
                asset=asset,
                horizon=horizon,
                events=stats,
                baseline=summarise(ctrl[key]),
            )
        )
    baselines = [
        Baseline(asset=asset, horizon=horizon, stats=stats)
        for (asset, horizon) in sorted(pooled, key=lambda k: (k[0], _HORIZON_ORDER.get(k[1], 9)))
        if (stats := summarise(pooled[(asset, horizon)])) is not None
    ]
    return tuple(rows), tuple(baselines)


def build(
    events: Sequence[Event],
    prices: Mapping[str, Sequence[PriceSeries]],
    *,
    inputs: Mapping[str, str],
    seed: int = 0,
    controls: int = 20,
    proxy: str = "BTC",
    counts: Mapping[str, int] | None = None,
    until: datetime | None = None,
) -> ReactionArtefact:
    """The sealed artefact for ``events`` on ``prices``; ``inputs`` names what went in (and
    ``until``, when given, is recorded there too: it changes the table)."""
    measurements, measured = measure(
        events, prices, proxy=proxy, seed=seed, controls=controls, until=until
    )
    rows, baselines = aggregate(measurements)
    all_counts = {**(counts or {}), **measured}
    return sealed(
        ReactionArtefact(
            format=FORMAT,
            version="",
            inputs={
                "events": events_hash(events),
                **inputs,
                **({"until": until.isoformat()} if until is not None else {}),
            },
            seed=seed,
            controls_per_event=controls,
            counts=dict(sorted(all_counts.items())),
            rows=rows,
            baselines=baselines,
        )
    )
