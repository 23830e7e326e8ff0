"""ATR and instrument rounding, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.marketdata.bars import Bar
from operators.market import Instrument, average_true_range, snapshot_from_bars

T0 = datetime(2024, 1, 1, tzinfo=UTC)

D = Decimal


def bar(i: int, high: str, low: str, close: str) -> Bar:
    return Bar(T0 + timedelta(hours=i), D(close), D(high), D(low), D(close), D(1))


BARS = [
    bar(0, "105", "95", "100"),
    bar(1, "110", "100", "108"),  # TR max(10, |110-100|, |100-100|) = 10
    bar(2, "109", "101", "102"),  # TR max(8, 1, 7) = 8
    bar(3, "120", "104", "118"),  # TR max(16, 18, 2) = 18
]


def test_atr_is_the_mean_true_range_including_gaps() -> None:
    assert average_true_range(BARS, 3) == D(12)  # (10 + 8 + 18) / 3
    assert average_true_range(BARS, 2) == D(13)  # (8 + 18) / 2


def test_atr_needs_period_plus_one_bars() -> None:
    assert average_true_range(BARS, 4) is None
    with pytest.raises(ValueError, match="period"):
        average_true_range(BARS, 0)


def test_snapshot_is_known_at_the_last_bar_close() -> None:
    snap = snapshot_from_bars(BARS, timedelta(hours=1), atr_period=3)
    assert snap is not None
    assert (snap.last_price, snap.atr, snap.as_of) == (D(118), D(12), T0 + timedelta(hours=4))
    assert snapshot_from_bars([], timedelta(hours=1)) is None


def test_instrument_rounding() -> None:
    inst = Instrument(lot_step=D("0.001"), tick_size=D("0.5"))
    assert inst.floor_quantity(D("0.0239")) == D("0.023")
    assert inst.floor_quantity(D("-1")) == 0
    assert inst.round_price(D("100.74")) == D("100.5")
    assert inst.round_price(D("100.76")) == D("101.0")
    with pytest.raises(ValueError, match="lot_step"):
        Instrument(lot_step=D(0), tick_size=D(1))
