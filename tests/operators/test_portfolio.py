"""Position maths on hand-computed fills: adds, partial closes, flips, fees, funding, equity."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from operators.portfolio import (
    PositionState,
    UnsupportedFeeAssetError,
    apply_fill,
    apply_funding,
    drawdown_pct,
    equity,
    fee_in_quote,
    from_record,
    max_drawdown_pct,
    position_after_fill,
    position_from_fills,
    split_symbol,
    summarise,
    to_record,
)
from records import Fill, Side, Venue

T = datetime(2024, 1, 1, tzinfo=UTC)
BUY, SELL = Side.BUY, Side.SELL

D = Decimal


def f(fid: str, side: Side, qty: str, price: str, fee: str = "0", asset: str = "USDT") -> Fill:
    return Fill(
        fill_id=fid,
        client_order_id="c",
        venue=Venue.SIMULATOR,
        symbol="BTCUSDT",
        side=side,
        quantity=D(qty),
        price=D(price),
        fee=D(fee),
        fee_asset=asset,
        filled_at=T,
    )


def test_adding_averages_the_entry() -> None:
    pos = apply_fill(PositionState("BTCUSDT"), BUY, D(1), D(100))
    pos = apply_fill(pos, BUY, D(3), D(200))
    assert (pos.quantity, pos.cost, pos.average_entry) == (D(4), D(700), D(175))
    assert pos.unrealised_pnl(D(180)) == D(20)


def test_partial_close_realises_against_the_average() -> None:
    pos = apply_fill(PositionState("BTCUSDT"), BUY, D(4), D(175))
    pos = apply_fill(pos, SELL, D(1), D(200))
    assert pos.quantity == D(3)
    assert pos.realised_pnl == D(25)
    assert pos.average_entry == D(175)


def test_full_close_is_exact_even_with_an_awkward_average() -> None:
    pos = apply_fill(PositionState("BTCUSDT"), BUY, D(1), D(100))
    pos = apply_fill(pos, BUY, D(2), D(101))  # average 100.666...
    pos = apply_fill(pos, SELL, D(3), D(102))
    assert (pos.quantity, pos.cost) == (D(0), D(0))
    assert pos.realised_pnl == D(4)  # 306 - 302, no rounding residue


def test_flip_from_long_to_short() -> None:
    pos = apply_fill(PositionState("BTCUSDT"), BUY, D(2), D(100))
    pos = apply_fill(pos, SELL, D(5), D(90))
    assert pos.quantity == D(-3)
    assert pos.average_entry == D(90)
    assert pos.realised_pnl == D(-20)
    assert pos.unrealised_pnl(D(80)) == D(30)  # short 3 from 90 to 80


def test_short_cover_realises_profit_on_a_fall() -> None:
    pos = apply_fill(PositionState("BTCUSDT"), SELL, D(2), D(100))
    pos = apply_fill(pos, BUY, D(1), D(80))
    assert (pos.quantity, pos.realised_pnl, pos.average_entry) == (D(-1), D(20), D(100))


def test_fees_and_funding_count_in_net_pnl() -> None:
    pos = position_from_fills(
        "BTCUSDT", [f("1", BUY, "1", "100", fee="0.1"), f("2", SELL, "1", "110", fee="0.11")]
    )
    pos = apply_funding(pos, D("-0.5"))
    assert pos.fees == D("0.21")
    assert pos.net_pnl(D(110)) == D("9.29")  # 10 - 0.21 - 0.5


def test_base_asset_fee_is_valued_at_the_fill_price() -> None:
    assert fee_in_quote(f("1", BUY, "1", "20000", fee="0.001", asset="BTC")) == D("20.000")
    with pytest.raises(UnsupportedFeeAssetError, match="BNB"):
        fee_in_quote(f("1", BUY, "1", "20000", fee="0.01", asset="BNB"))


def test_bad_fills_are_refused() -> None:
    with pytest.raises(ValueError, match="quantity > 0"):
        apply_fill(PositionState("BTCUSDT"), BUY, D(0), D(1))
    with pytest.raises(ValueError, match="cannot split"):
        split_symbol("BTCEUR")


def test_record_round_trip_and_position_after_fill() -> None:
    pos = apply_fill(PositionState("BTCUSDT"), SELL, D(2), D(150), D(1))
    rec = to_record(pos, "a", Venue.SIMULATOR, T)
    assert (rec.quantity, rec.average_entry, rec.fees) == (D(-2), D(150), D(1))
    assert from_record(rec) == pos
    after = position_after_fill("a", rec, f("9", BUY, "2", "140"))
    assert (after.quantity, after.realised_pnl) == (D(0), D(20))


def test_equity_drawdown_and_summary() -> None:
    btc = apply_fill(PositionState("BTCUSDT"), BUY, D(1), D(100), D(1))
    eth = apply_fill(PositionState("ETHUSDT"), SELL, D(2), D(50))
    marks = {"BTCUSDT": D(90)}  # ETH unmarked: counted at entry
    assert equity(D(1000), [btc, eth], marks) == D(989)
    s = summarise(D(1000), [btc, eth], marks)
    assert (s.equity, s.unrealised_pnl, s.fees) == (D(989), D(-10), D(1))
    assert drawdown_pct(D(1000), D(950)) == D(5)
    assert drawdown_pct(D(1000), D(1100)) == 0
    assert max_drawdown_pct([D(100), D(120), D(90), D(130), D(117)]) == D(25)
