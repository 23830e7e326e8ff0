"""Equity-curve figures: returns, CAGR, drawdown depth and duration, Sharpe, Sortino, Calmar.

Risk ratios are computed on *daily* returns (equity at each UTC midnight, the last mark at or
before it) and annualised with 365 periods: crypto trades every day, and daily sampling makes
figures comparable whatever the bar interval of the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import msgspec

from records import UtcDatetime

PERIODS_PER_YEAR = 365
DAYS_PER_YEAR = 365.25


class EquityPoint(msgspec.Struct, frozen=True, array_like=True):
    """Marked-to-market account value at one instant."""

    time: UtcDatetime
    equity: Decimal


class Drawdown(msgspec.Struct, frozen=True, kw_only=True):
    depth: float
    """Worst fall from a running peak, as a positive fraction (0.25 = 25% below the peak)."""
    peak_at: UtcDatetime | None
    trough_at: UtcDatetime | None
    longest: timedelta
    """Longest time spent below a previous peak (until recovery, or the end if never)."""


class EquityStats(msgspec.Struct, frozen=True, kw_only=True):
    start_equity: Decimal
    end_equity: Decimal
    total_return: float
    cagr: float | None
    max_drawdown: Drawdown
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    volatility: float | None
    """Annualised standard deviation of daily returns."""
    monthly_returns: dict[str, float]
    """``YYYY-MM`` -> return over that calendar month (the first from the start equity)."""


def _check(curve: Sequence[EquityPoint]) -> None:
    if not curve:
        msg = "an equity curve needs at least one point"
        raise ValueError(msg)
    if any(b.time < a.time for a, b in pairwise(curve)):
        msg = "equity curve points must be in time order"
        raise ValueError(msg)
    if curve[0].equity <= 0:
        msg = f"starting equity must be > 0, got {curve[0].equity}"
        raise ValueError(msg)


def drawdown_series(curve: Sequence[EquityPoint]) -> list[float]:
    """Fall below the running peak at each point, as a positive fraction (for the plot)."""
    peak = curve[0].equity if curve else Decimal(0)
    out: list[float] = []
    for p in curve:
        peak = max(peak, p.equity)
        out.append(float((peak - p.equity) / peak) if peak > 0 else 0.0)
    return out


def max_drawdown(curve: Sequence[EquityPoint]) -> Drawdown:
    _check(curve)
    peak, peak_at = curve[0].equity, curve[0].time
    depth, worst_peak, worst_trough = 0.0, None, None
    longest = timedelta(0)
    under_since: datetime | None = None
    for p in curve:
        if p.equity >= peak:
            if under_since is not None:
                longest = max(longest, p.time - under_since)
                under_since = None
            peak, peak_at = p.equity, p.time
            continue
        if under_since is None:
            under_since = peak_at
        fall = float((peak - p.equity) / peak)
        if fall > depth:
            depth, worst_peak, worst_trough = fall, peak_at, p.time
    if under_since is not None:
        longest = max(longest, curve[-1].time - under_since)
    return Drawdown(depth=depth, peak_at=worst_peak, trough_at=worst_trough, longest=longest)


def sample_daily(curve: Sequence[EquityPoint]) -> list[EquityPoint]:
    """The start point, then the last mark at or before each following UTC midnight, and the end."""
    _check(curve)
    out = [curve[0]]
    day = curve[0].time.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    boundary = day + timedelta(days=1)
    last = curve[0]
    for p in curve[1:]:
        while p.time > boundary:
            out.append(EquityPoint(boundary, last.equity))
            boundary += timedelta(days=1)
        last = p
    if out[-1].time < last.time:
        out.append(EquityPoint(last.time, last.equity))
    return out


def period_returns(points: Sequence[EquityPoint]) -> list[float]:
    return [float(b.equity / a.equity - 1) for a, b in pairwise(points)]


def sharpe_ratio(returns: Sequence[float], periods: int = PERIODS_PER_YEAR) -> float | None:
    """Annualised mean over sample standard deviation (risk-free rate 0); None if undefined."""
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return mean / math.sqrt(var) * math.sqrt(periods) if var > 0 else None


def sortino_ratio(returns: Sequence[float], periods: int = PERIODS_PER_YEAR) -> float | None:
    """Annualised mean over downside deviation ``sqrt(mean(min(r, 0)^2))`` over all periods."""
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    return mean / downside * math.sqrt(periods) if downside > 0 else None


def cagr(start: EquityPoint, end: EquityPoint) -> float | None:
    """Compound annual growth over the elapsed calendar time; None for under a day or a wipe-out."""
    years = (end.time - start.time).total_seconds() / (DAYS_PER_YEAR * 86_400)
    if years < 1 / DAYS_PER_YEAR or end.equity <= 0:
        return None
    growth: float = float(end.equity / start.equity) ** (1 / years)
    return growth - 1


def monthly_returns(curve: Sequence[EquityPoint]) -> dict[str, float]:
    """Return of each calendar month touched by the curve, chained from the month before."""
    _check(curve)
    out: dict[str, float] = {}
    base = curve[0].equity
    month = curve[0].time.strftime("%Y-%m")
    last = curve[0].equity
    for p in curve[1:]:
        m = p.time.strftime("%Y-%m")
        if m != month:
            out[month] = float(last / base - 1)
            base, month = last, m
        last = p.equity
    out[month] = float(last / base - 1)
    return out


def equity_stats(curve: Sequence[EquityPoint]) -> EquityStats:
    _check(curve)
    daily = sample_daily(curve)
    rets = period_returns(daily)
    dd = max_drawdown(curve)
    growth = cagr(curve[0], curve[-1])
    std = None
    if len(rets) >= 2:
        mean = sum(rets) / len(rets)
        std = math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1) * PERIODS_PER_YEAR)
    return EquityStats(
        start_equity=curve[0].equity,
        end_equity=curve[-1].equity,
        total_return=float(curve[-1].equity / curve[0].equity - 1),
        cagr=growth,
        max_drawdown=dd,
        sharpe=sharpe_ratio(rets),
        sortino=sortino_ratio(rets),
        calmar=growth / dd.depth if growth is not None and dd.depth > 0 else None,
        volatility=std,
        monthly_returns=monthly_returns(curve),
    )
