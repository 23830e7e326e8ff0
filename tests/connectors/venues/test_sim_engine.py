"""Matching engine on crafted bars: every expected price and fee below is computed by hand.

Bars (1h, BTCUSDT), engine starts at 01:00 so bar 0 is history and the mark is its close 105:
    00:00  O100 H110 L90  C105 V10
    01:00  O105 H120 L100 C115 V10
    02:00  O115 H116 L97  C100 V10
    03:00  O92  H101 L80  C85  V10   (gaps down at the open)
Taker 10 bps, maker 2 bps, slippage 10 bps, tick 0.1, lot 0.001, min notional 5.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.marketdata.bars import Bar, BarSeries, PriceBook
from connectors.venues.instruments import Instrument
from connectors.venues.simulator.engine import (
    EngineConfig,
    MatchingEngine,
    OrderRejectedError,
    OrderRequest,
    RejectCode,
    SimFill,
)
from records import Market, OrderStatus, OrderType, Side, TimeInForce

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def bar(h: int, o: str, hi: str, lo: str, c: str, v: str = "10") -> Bar:
    return Bar(at(h), D(o), D(hi), D(lo), D(c), D(v))


BARS = [
    bar(0, "100", "110", "90", "105"),
    bar(1, "105", "120", "100", "115"),
    bar(2, "115", "116", "97", "100"),
    bar(3, "92", "101", "80", "85"),
]


def instrument(market: Market) -> Instrument:
    return Instrument(
        symbol="BTCUSDT",
        market=market,
        base="BTC",
        quote="USDT",
        tick_size=D("0.1"),
        lot_size=D("0.001"),
        min_qty=D("0.001"),
        max_qty=D(100),
        min_notional=D(5),
    )


def make(
    market: Market = Market.LINEAR,
    usdt: str = "10000",
    fraction: D | None = None,
    latency: timedelta = timedelta(0),
) -> MatchingEngine:
    return MatchingEngine(
        PriceBook({"BTCUSDT": BarSeries("BTCUSDT", H, BARS)}),
        market=market,
        start=at(1),
        balances={"USDT": D(usdt)},
        config=EngineConfig(
            taker_fee_bps=D(10),
            maker_fee_bps=D(2),
            slippage_bps=D(10),
            latency=latency,
            max_fill_fraction=fraction,
        ),
        instruments={"BTCUSDT": instrument(market)},
    )


def req(cid: str, side: Side, kind: OrderType, qty: str = "1", **kw: Any) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid, symbol="BTCUSDT", side=side, order_type=kind, quantity=D(qty), **kw
    )


def fills(engine: MatchingEngine, cid: str) -> list[SimFill]:
    return [f for f in engine.fills() if f.client_order_id == cid]


def test_market_buy_fills_at_next_open_with_slippage_and_taker_fee() -> None:
    e = make()
    assert e.mark_price("BTCUSDT") == D(105)
    o = e.submit(req("m1", Side.BUY, OrderType.MARKET))
    assert o.status is OrderStatus.NEW
    e.advance_to(at(1))  # the 01:00 open is only processed once time moves past it
    assert e.order("m1").status is OrderStatus.NEW  # type: ignore[union-attr]
    e.advance_to(at(1.5))
    [f] = fills(e, "m1")
    # 105 * 1.001 = 105.105 -> rounded up to tick 105.2; fee 105.2 * 10bps = 0.1052
    assert (f.price, f.fee, f.filled_at, f.is_maker) == (D("105.2"), D("0.1052"), at(1), False)
    assert e.balances()["USDT"] == D("9999.8948")
    e.advance_to(at(2))  # 01:00 bar closed at 115
    pos = e.position("BTCUSDT")
    assert (pos.quantity, pos.average_entry, pos.unrealised_pnl) == (D(1), D("105.2"), D("9.8"))


def test_round_trip_realises_pnl_net_of_fees() -> None:
    e = make()
    e.submit(req("b", Side.BUY, OrderType.MARKET))
    e.advance_to(at(2))
    e.submit(req("s", Side.SELL, OrderType.MARKET))
    e.advance_to(at(2.5))
    [f] = fills(e, "s")
    assert f.price == D("114.8")  # 115 * 0.999 = 114.885 -> down to 114.8
    assert f.realised_pnl == D("9.6")
    pos = e.position("BTCUSDT")
    assert (pos.quantity, pos.realised_pnl, pos.fees) == (D(0), D("9.6"), D("0.22"))
    assert e.balances()["USDT"] == D("10009.38")  # 10000 + 9.6 - 0.1052 - 0.1148


def test_short_position_loses_when_price_rises() -> None:
    e = make()
    e.submit(req("s", Side.SELL, OrderType.MARKET))
    e.advance_to(at(2))
    assert e.position("BTCUSDT").quantity == D(-1)
    assert e.position("BTCUSDT").unrealised_pnl == D("-10.2")  # -1 * (115 - 104.8)
    e.submit(req("b", Side.BUY, OrderType.MARKET))
    e.advance_to(at(2.5))
    assert e.position("BTCUSDT").realised_pnl == D("-10.4")  # 104.8 - 115.2


def test_latency_delays_the_fill_to_a_later_open() -> None:
    e = make(latency=timedelta(minutes=1))
    e.submit(req("m", Side.BUY, OrderType.MARKET))
    e.advance_to(at(2.5))
    assert fills(e, "m")[0].price == D("115.2")  # 01:00 open missed; 115.115 -> 115.2


def test_resting_limit_fills_at_its_price_with_maker_fee_when_range_touches() -> None:
    e = make()
    e.submit(req("l", Side.BUY, OrderType.LIMIT, price=D(98)))
    e.advance_to(at(2))
    assert e.order("l").status is OrderStatus.NEW  # type: ignore[union-attr]  # 01:00 low 100
    e.advance_to(at(3))
    [f] = fills(e, "l")
    assert (f.price, f.fee, f.is_maker, f.filled_at) == (D(98), D("0.0196"), True, at(3))


def test_marketable_limit_takes_at_the_open_but_never_worse_than_limit() -> None:
    e = make()
    e.submit(req("l", Side.BUY, OrderType.LIMIT, price=D(106)))
    e.advance_to(at(1.5))
    [f] = fills(e, "l")
    assert (f.price, f.is_maker) == (D("105.2"), False)
    e2 = make()
    e2.submit(req("l", Side.BUY, OrderType.LIMIT, price=D("105.1")))
    e2.advance_to(at(1.5))
    assert fills(e2, "l")[0].price == D("105.1")  # slipped 105.2 capped at the limit


def test_post_only_crossing_is_rejected() -> None:
    e = make()
    with pytest.raises(OrderRejectedError) as info:
        e.submit(
            req("p", Side.BUY, OrderType.LIMIT, price=D(106), time_in_force=TimeInForce.POST_ONLY)
        )
    assert info.value.code is RejectCode.POST_ONLY_WOULD_TAKE
    e.submit(req("p2", Side.BUY, OrderType.LIMIT, price=D(99), time_in_force=TimeInForce.POST_ONLY))
    e.advance_to(at(3))
    assert fills(e, "p2")[0].is_maker


def test_ioc_not_crossing_the_open_expires_even_if_range_touches_later() -> None:
    e = make()
    e.submit(req("i", Side.BUY, OrderType.LIMIT, price=D(101), time_in_force=TimeInForce.IOC))
    e.advance_to(at(3))
    o = e.order("i")
    assert o is not None
    assert (o.status, o.filled_quantity) == (OrderStatus.EXPIRED, D(0))


def test_partial_fills_share_bar_volume_and_carry_to_next_open() -> None:
    e = make(fraction=D("0.1"))  # 10% of volume 10 = 1 per bar
    e.submit(req("m", Side.BUY, OrderType.MARKET, qty="2.5"))
    e.advance_to(at(1.5))
    assert e.order("m").status is OrderStatus.PARTIALLY_FILLED  # type: ignore[union-attr]
    e.advance_to(at(3.5))
    assert [(f.quantity, f.price) for f in fills(e, "m")] == [
        (D(1), D("105.2")),
        (D(1), D("115.2")),
        (D("0.5"), D("92.1")),  # 92 * 1.001 = 92.092 -> 92.1
    ]
    o = e.order("m")
    assert o is not None
    assert o.status is OrderStatus.FILLED
    assert o.average_price == D("106.58")  # (105.2 + 115.2 + 46.05) / 2.5


def test_fok_and_ioc_against_limited_liquidity() -> None:
    e = make(fraction=D("0.1"))
    e.submit(
        req("f", Side.BUY, OrderType.LIMIT, qty="2", price=D(106), time_in_force=TimeInForce.FOK)
    )
    e.submit(
        req("i", Side.BUY, OrderType.LIMIT, qty="2", price=D(106), time_in_force=TimeInForce.IOC)
    )
    e.advance_to(at(1.5))
    fok, ioc = e.order("f"), e.order("i")
    assert fok is not None
    assert ioc is not None
    assert (fok.status, fok.filled_quantity) == (OrderStatus.EXPIRED, D(0))
    assert (ioc.status, ioc.filled_quantity) == (OrderStatus.EXPIRED, D(1))


def test_stop_market_gapped_at_open_fills_at_slipped_open() -> None:
    e = make()
    e.submit(req("b", Side.BUY, OrderType.MARKET))
    e.advance_to(at(2))
    e.submit(req("sl", Side.SELL, OrderType.STOP_MARKET, trigger_price=D(96), reduce_only=True))
    assert e.order("sl").status is OrderStatus.UNTRIGGERED  # type: ignore[union-attr]
    e.advance_to(at(3))  # 02:00 bar low 97: not triggered
    assert not fills(e, "sl")
    e.advance_to(at(3.5))
    [f] = fills(e, "sl")
    assert (f.price, f.filled_at) == (D("91.9"), at(3))  # open 92 * 0.999 = 91.908 -> 91.9
    assert e.position("BTCUSDT").realised_pnl == D("-13.3")


def test_stop_triggered_by_range_fills_at_slipped_trigger() -> None:
    e = make()
    e.submit(req("b", Side.BUY, OrderType.MARKET))
    e.advance_to(at(2))
    e.submit(req("sl", Side.SELL, OrderType.STOP_MARKET, trigger_price=D(98), reduce_only=True))
    e.advance_to(at(3))
    [f] = fills(e, "sl")
    assert (f.price, f.filled_at) == (D("97.9"), at(3))  # 98 * 0.999 = 97.902 -> 97.9


def test_conditional_that_would_trigger_immediately_is_rejected() -> None:
    e = make()
    with pytest.raises(OrderRejectedError) as info:
        e.submit(req("s", Side.BUY, OrderType.STOP_MARKET, trigger_price=D(104)))
    assert info.value.code is RejectCode.IMMEDIATE_TRIGGER


def test_attached_take_profit_fires_and_cancels_the_stop() -> None:
    e = make()
    e.submit(req("b", Side.BUY, OrderType.MARKET, stop_loss=D(96), take_profit=D(119)))
    e.advance_to(at(2))
    [f] = fills(e, "b-tp")
    assert f.price == D("118.8")  # 119 * 0.999 = 118.881 -> 118.8
    sl = e.order("b-sl")
    assert sl is not None
    assert (sl.status, sl.reason, sl.parent_id) == (OrderStatus.CANCELED, "position closed", "b")
    assert e.position("BTCUSDT").realised_pnl == D("13.6")


def test_bar_touching_both_exits_takes_the_stop_first() -> None:
    e = make()
    e.submit(req("b", Side.BUY, OrderType.MARKET, stop_loss=D(101), take_profit=D(119)))
    e.advance_to(at(2))
    assert fills(e, "b-sl")[0].price == D("100.8")  # 101 * 0.999 = 100.899 -> 100.8
    assert e.order("b-tp").status is OrderStatus.CANCELED  # type: ignore[union-attr]


def test_time_exit_closes_at_first_open_after_hold() -> None:
    e = make()
    e.submit(req("b", Side.BUY, OrderType.MARKET, exit_after=timedelta(hours=2)))
    e.advance_to(at(2.5))
    assert e.order("b-tx").status is OrderStatus.NEW  # type: ignore[union-attr]
    e.advance_to(at(3.5))
    [f] = fills(e, "b-tx")
    assert (f.price, f.filled_at) == (D("91.9"), at(3))
    assert e.position("BTCUSDT").quantity == 0


def test_reduce_only_without_position_is_rejected_and_clipped_at_fill() -> None:
    e = make()
    with pytest.raises(OrderRejectedError) as info:
        e.submit(req("r", Side.SELL, OrderType.MARKET, reduce_only=True))
    assert info.value.code is RejectCode.REDUCE_ONLY
    e.submit(req("b", Side.BUY, OrderType.MARKET))
    e.advance_to(at(2))
    e.submit(req("r", Side.SELL, OrderType.MARKET, qty="2", reduce_only=True))
    e.advance_to(at(2.5))
    assert fills(e, "r")[0].quantity == D(1)
    assert e.position("BTCUSDT").quantity == 0


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (req("x", Side.BUY, OrderType.MARKET, qty="0.0015"), RejectCode.INVALID_QUANTITY),
        (req("x", Side.BUY, OrderType.MARKET, qty="101"), RejectCode.INVALID_QUANTITY),
        (req("x", Side.BUY, OrderType.LIMIT, price=D("100.05")), RejectCode.INVALID_PRICE),
        (req("x", Side.BUY, OrderType.LIMIT), RejectCode.INVALID_REQUEST),
        (req("x", Side.BUY, OrderType.MARKET, qty="0.01"), RejectCode.MIN_NOTIONAL),
        (req("x", Side.BUY, OrderType.MARKET, qty="95"), RejectCode.INSUFFICIENT_BALANCE),
        (req("x", Side.BUY, OrderType.MARKET, stop_loss=D(110)), RejectCode.INVALID_PRICE),
        (
            OrderRequest(
                client_order_id="x",
                symbol="DOGEUSDT",
                side=Side.BUY,
                order_type=OrderType.MARKET,
                quantity=D(1),
            ),
            RejectCode.UNKNOWN_SYMBOL,
        ),
    ],
)
def test_rejections_carry_a_reason(request_: OrderRequest, code: RejectCode) -> None:
    e = make()
    with pytest.raises(OrderRejectedError) as info:
        e.submit(request_)
    assert info.value.code is code
    assert e.order("x") is None  # rejected orders are not stored


def test_open_orders_lock_balance() -> None:
    e = make(usdt="250")
    e.submit(req("a", Side.BUY, OrderType.LIMIT, qty="2", price=D(100)))  # locks 200.2
    assert e.available("USDT") == D("49.8")
    with pytest.raises(OrderRejectedError) as info:
        e.submit(req("b", Side.BUY, OrderType.LIMIT, price=D(100)))
    assert info.value.code is RejectCode.INSUFFICIENT_BALANCE


def test_spot_moves_base_and_quote_and_refuses_to_sell_what_it_lacks() -> None:
    e = make(Market.SPOT, usdt="1000")
    e.submit(req("b", Side.BUY, OrderType.MARKET))
    e.advance_to(at(1.5))
    assert e.balances() == {"USDT": D("894.6948"), "BTC": D(1)}
    with pytest.raises(OrderRejectedError) as info:
        e.submit(req("s", Side.SELL, OrderType.MARKET, qty="2"))
    assert info.value.code is RejectCode.INSUFFICIENT_BALANCE
    assert e.equity() == D("894.6948") + D(105)


def test_submit_is_idempotent_on_client_order_id() -> None:
    e = make()
    first = e.submit(req("m", Side.BUY, OrderType.MARKET))
    again = e.submit(req("m", Side.BUY, OrderType.MARKET, qty="5"))
    assert again == first
    e.advance_to(at(1.5))
    assert e.submit(req("m", Side.BUY, OrderType.MARKET)).status is OrderStatus.FILLED
    assert len(e.fills()) == 1


def test_amend_and_cancel() -> None:
    e = make()
    e.submit(req("l", Side.BUY, OrderType.LIMIT, price=D(90)))
    amended = e.amend("BTCUSDT", "l", quantity=D(2), price=D("99.5"))
    assert (amended.quantity, amended.price) == (D(2), D("99.5"))
    with pytest.raises(OrderRejectedError) as info:
        e.amend("BTCUSDT", "l", price=D("99.55"))
    assert info.value.code is RejectCode.INVALID_PRICE
    assert e.cancel("BTCUSDT", "l").status is OrderStatus.CANCELED
    with pytest.raises(OrderRejectedError) as info:
        e.cancel("BTCUSDT", "l")
    assert info.value.code is RejectCode.ORDER_NOT_OPEN
    with pytest.raises(OrderRejectedError) as info:
        e.cancel("BTCUSDT", "nope")
    assert info.value.code is RejectCode.UNKNOWN_ORDER
    e.advance_to(at(3))
    assert not e.fills()
    assert e.orders(open_only=True) == []


def test_events_report_each_change_once() -> None:
    e = make()
    e.submit(req("m", Side.BUY, OrderType.MARKET))
    e.advance_to(at(1.5))
    events = e.drain_events()
    kinds = [type(x).__name__ for x in events]
    assert kinds == ["SimOrder", "SimFill", "SimOrder"]
    assert e.drain_events() == []


def test_time_cannot_go_backwards() -> None:
    e = make()
    e.advance_to(at(2))
    with pytest.raises(ValueError, match="back in time"):
        e.advance_to(at(1))


def test_idle_engine_jumps_ahead_with_the_same_marks_as_a_busy_one() -> None:
    """With nothing open the engine skips bars by bisection; marks must match bar-by-bar."""
    idle, busy = make(), make()
    busy.submit(req("rest", Side.BUY, OrderType.LIMIT, qty="1", price=D("50")))
    for step in (0.5, 1, 1.25, 2, 2.5, 3, 3.01, 4, 6):
        idle.advance_to(at(1 + step))
        busy.advance_to(at(1 + step))
        assert idle.mark_price("BTCUSDT") == busy.mark_price("BTCUSDT"), step
    assert [o.status for o in busy.orders()] == [OrderStatus.NEW]
