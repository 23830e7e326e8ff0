"""Metrics against values worked out by hand (the arithmetic is in each test's comments)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from operators.analytics import (
    ClosedTrade,
    EquityPoint,
    breakdown,
    buy_and_hold_curve,
    choose,
    equity_stats,
    exposure,
    folds,
    max_drawdown,
    monthly_returns,
    performance,
    trade_stats,
)
from records import Side

T0 = datetime(2022, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def _trade(
    tid: str,
    side: Side,
    qty: str,
    entry: str,
    exit_: str,
    fees: str,
    start_h: int,
    end_h: int,
    *,
    funding: str = "0",
    event: str = "HACK",
    asset: str = "BTC",
) -> ClosedTrade:
    return ClosedTrade(
        trade_id=tid,
        symbol=f"{asset}USDT",
        asset=asset,
        side=side,
        quantity=Decimal(qty),
        entry_time=T0 + start_h * H,
        entry_price=Decimal(entry),
        exit_time=T0 + end_h * H,
        exit_price=Decimal(exit_),
        fees=Decimal(fees),
        funding=Decimal(funding),
        exit_reason="take_profit",
        event_type=event,
        source="wire",
        playbook=event,
        signal_id=tid,
        decided_at=T0 + start_h * H,
    )


TRADES = [
    # long 2 @100 -> 110: gross +20, net 20 - 1 fee - 0.5 funding = 18.5
    _trade("a", Side.BUY, "2", "100", "110", "1", 1, 3, funding="0.5"),
    # short 1 @50 -> 55: gross -5, net -5.5
    _trade("b", Side.SELL, "1", "50", "55", "0.5", 2, 5, event="REGULATION", asset="ETH"),
    # long 1 @10 -> 12: net +2
    _trade("c", Side.BUY, "1", "10", "12", "0", 7, 8),
]


def test_trade_stats_by_hand() -> None:
    s = trade_stats(TRADES)
    assert (s.trades, s.wins, s.losses) == (3, 2, 1)
    assert s.win_rate == pytest.approx(2 / 3)
    assert s.avg_win == Decimal("10.25")  # (18.5 + 2) / 2
    assert s.avg_loss == Decimal("-5.5")
    assert s.profit_factor == pytest.approx(20.5 / 5.5)
    assert s.expectancy == Decimal(5)  # (18.5 - 5.5 + 2) / 3
    assert (s.net_pnl, s.fees, s.funding) == (Decimal(15), Decimal("1.5"), Decimal("0.5"))


def test_no_trades_and_no_losses_give_none_not_fake_numbers() -> None:
    empty = trade_stats([])
    assert (empty.win_rate, empty.expectancy, empty.profit_factor) == (None, None, None)
    only_wins = trade_stats(TRADES[:1])
    assert only_wins.profit_factor is None and only_wins.avg_loss is None


def test_breakdown_groups_by_event_type() -> None:
    by_event = breakdown(TRADES, lambda t: t.event_type)
    assert list(by_event) == ["HACK", "REGULATION"]
    assert by_event["HACK"].net_pnl == Decimal("20.5")
    assert by_event["REGULATION"].net_pnl == Decimal("-5.5")


def test_exposure_counts_overlaps_once() -> None:
    # open 1h-5h (a and b overlap) and 7h-8h: 5 of 10 hours
    assert exposure(TRADES, T0, T0 + 10 * H) == pytest.approx(0.5)
    # clipped to the window: 2h-4h of a and b -> 2 of 2 hours
    assert exposure(TRADES, T0 + 2 * H, T0 + 4 * H) == pytest.approx(1.0)


CURVE = [
    EquityPoint(T0, Decimal(100)),
    EquityPoint(T0 + 12 * H, Decimal(120)),
    EquityPoint(T0 + D, Decimal(90)),
    EquityPoint(T0 + 2 * D, Decimal(108)),
    EquityPoint(T0 + 3 * D, Decimal(130)),
]


def test_drawdown_depth_and_duration() -> None:
    dd = max_drawdown(CURVE)
    assert dd.depth == pytest.approx(0.25)  # 120 -> 90
    assert (dd.peak_at, dd.trough_at) == (T0 + 12 * H, T0 + D)
    assert dd.longest == timedelta(days=2, hours=12)  # from the 120 peak to 130 at day 3


def test_unrecovered_drawdown_lasts_to_the_end() -> None:
    dd = max_drawdown([*CURVE[:3], EquityPoint(T0 + 5 * D, Decimal(100))])
    assert dd.longest == timedelta(days=4, hours=12)


def test_equity_stats_by_hand() -> None:
    s = equity_stats(CURVE)
    # daily marks 100, 90, 108, 130 -> returns -0.1, 0.2, 0.2037037
    # mean 0.1012346; sample sd 0.1743... -> Sharpe = mean / sd * sqrt(365) = 11.0973
    assert s.sharpe == pytest.approx(11.09730522)
    # downside deviation sqrt(0.01 / 3) -> Sortino 33.4993
    assert s.sortino == pytest.approx(33.49931242)
    assert s.total_return == pytest.approx(0.3)
    assert s.calmar == pytest.approx(s.cagr / 0.25)  # type: ignore[operator]


def test_cagr_and_monthly_returns() -> None:
    start = datetime(2020, 1, 31, tzinfo=UTC)
    curve = [
        EquityPoint(start, Decimal(100)),
        EquityPoint(datetime(2020, 2, 15, tzinfo=UTC), Decimal(110)),
        EquityPoint(datetime(2020, 2, 28, tzinfo=UTC), Decimal(121)),
        EquityPoint(datetime(2020, 3, 10, tzinfo=UTC), Decimal("108.9")),
    ]
    months = monthly_returns(curve)
    assert months == pytest.approx({"2020-01": 0.0, "2020-02": 0.21, "2020-03": -0.1})
    two_years = [
        EquityPoint(start, Decimal(100)),
        EquityPoint(start + 2 * 365.25 * D, Decimal(121)),
    ]
    assert equity_stats(two_years).cagr == pytest.approx(0.1)  # 1.21 ** (1/2) - 1


def test_buy_and_hold_is_equal_weight() -> None:
    prices = {
        "A": [(T0, Decimal(10)), (T0 + H, Decimal(20))],
        "B": [(T0, Decimal(100)), (T0 + H, Decimal(50))],
    }
    curve = buy_and_hold_curve(prices, Decimal(1000))
    # 500 buys 50 A and 5 B: 50 * 20 + 5 * 50 = 1250
    assert [p.equity for p in curve] == [Decimal(1000), Decimal(1250)]


def test_performance_turnover_and_benchmark() -> None:
    perf = performance(TRADES, CURVE, CURVE)
    # notional of both legs: 2*(100+110) + 1*(50+55) + 1*(10+12) = 547 over 100 equity
    assert perf.turnover == pytest.approx(5.47)
    assert perf.buy_and_hold is not None
    assert set(perf.breakdowns) >= {"event_type", "source", "asset", "playbook"}


def test_walk_forward_folds_never_overlap_and_follow_training() -> None:
    out = folds(T0, T0 + 9 * D, train=4 * D, test=2 * D)
    assert [(f.test_start, f.test_end) for f in out] == [
        (T0 + 4 * D, T0 + 6 * D),
        (T0 + 6 * D, T0 + 8 * D),
        (T0 + 8 * D, T0 + 9 * D),
    ]
    assert all(f.train_end == f.test_start for f in out)


def test_choose_prefers_best_then_earliest() -> None:
    assert choose({"a": 1.0, "b": 2.0, "c": 2.0}, ["a", "b", "c"]) == "b"
    assert choose({"a": None, "b": None}, ["a", "b"]) == "a"
    with pytest.raises(ValueError, match="no candidates"):
        choose({}, [])


def test_unordered_curve_is_refused() -> None:
    with pytest.raises(ValueError, match="time order"):
        equity_stats([CURVE[1], CURVE[0]])
