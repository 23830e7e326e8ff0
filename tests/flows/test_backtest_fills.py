"""Fill arithmetic, exits, look-ahead and determinism of the backtest's trading stage."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from flows.backtest import Costs, SimResult, simulate
from records import EventType, Sentiment
from tests.flows.backtest_fixtures import FLAT, T0, H, book, configs, signal

NO_COSTS = Costs(
    taker_fee_bps=Decimal(0),
    slippage_bps=Decimal(0),
    funding_rate_8h=Decimal(0),
    latency=timedelta(0),
)


def _log(result: SimResult, kind: str) -> list[dict[str, Any]]:
    return [r["record"] for r in map(msgspec.json.decode, result.log) if r["kind"] == kind]


def test_latency_fee_and_slippage_arithmetic() -> None:
    rows = [*FLAT, ("100", "111", "99", "110"), ("110", "111", "109", "110")]
    rows += [("120", "121", "119", "120")] * 2
    pb, risk = configs(stop="50", take="90", hold=3600)
    costs = Costs(
        taker_fee_bps=Decimal(5),
        slippage_bps=Decimal(10),
        funding_rate_8h=Decimal(0),
        latency=timedelta(minutes=30),
    )
    # decided at 05:45; +30 min latency -> 06:15; the 06:00 bar opened before that, so the
    # first live bar is 07:00, open 120.
    res = simulate(
        [signal(T0 + 5 * H + timedelta(minutes=45))], book(rows), pb, risk, costs, T0, T0 + 9 * H
    )
    entry = _log(res, "fill")[0]
    qty = Decimal(entry["quantity"])
    # 120 slipped 10 bps up = 120.12, on the 0.1 tick rounded against the taker -> 120.2
    assert Decimal(entry["price"]) == Decimal("120.2")
    assert entry["filled_at"] == "2024-03-01T07:00:00Z"
    # taker fee 5 bps of notional
    assert Decimal(entry["fee"]) == Decimal("120.2") * qty * Decimal("0.0005")
    # ATR(3) = 2 at decision (bars 2..4 quiet; bar 5 not closed yet at 05:45), risk 1000 x 0.9 / 2
    # = 450 -> capped by max_order_notional 2000 / 100 = 20 -> 20.000
    assert qty == Decimal("20.000")


def test_decision_uses_received_at_not_published_at() -> None:
    """No look-ahead: an item published early but received late trades on the later price."""
    rows = [*FLAT, ("100", "150", "100", "150")] + [("150", "151", "149", "150")] * 4
    pb, risk = configs()
    early = signal(T0 + 7 * H + timedelta(minutes=10), published=T0 + 5 * H)
    res = simulate([early], book(rows), pb, risk, NO_COSTS, T0, T0 + 10 * H)
    intent = _log(res, "intent")[0]
    fill = _log(res, "fill")[0]
    # priced from the last bar closed at 07:10 (the 06:00 bar, close 150), never from 05:00
    assert Decimal(intent["reference_price"]) == Decimal(150)
    assert intent["created_at"] == "2024-03-01T07:10:00Z"
    assert fill["filled_at"] == "2024-03-01T08:00:00Z"  # the first open after receipt


def test_decision_never_sees_the_bar_in_progress() -> None:
    """A spike in the bar that contains the decision time must not reach the decision."""
    rows = [*FLAT, ("100", "300", "100", "300"), ("300", "301", "299", "300")]
    pb, risk = configs()
    res = simulate(
        [signal(T0 + 5 * H + timedelta(minutes=59))], book(rows), pb, risk, NO_COSTS, T0, T0 + 7 * H
    )
    intent = _log(res, "intent")[0]
    assert Decimal(intent["reference_price"]) == Decimal(100)  # the 04:00 bar's close
    assert _log(res, "fill")[0]["filled_at"] == "2024-03-01T06:00:00Z"  # next open, 300


@pytest.mark.parametrize(
    ("after", "reason", "exit_price"),
    [
        # long from 100, stop 2% = 98, take profit 4% = 104
        (("100", "100.5", "97", "99"), "stop_loss", "98"),
        (("100", "105", "99.5", "104"), "take_profit", "104"),
        (("100", "101", "99", "100"), "time_exit", "100"),
    ],
)
def test_stop_take_profit_and_time_exits(
    after: tuple[str, ...], reason: str, exit_price: str
) -> None:
    rows = [
        *FLAT,
        ("100", "100.5", "99.5", "100"),
        after,
        ("100", "101", "99", "100"),
        ("100", "101", "99", "100"),
    ]
    pb, risk = configs(hold=7200)  # time exit at the 07:00 open, after the 06:00 bar's range
    res = simulate([signal(T0 + 5 * H)], book(rows), pb, risk, NO_COSTS, T0, T0 + 9 * H)
    [trade] = res.trades
    assert trade.exit_reason == reason
    assert trade.entry_price == Decimal(100)
    assert trade.exit_price == Decimal(exit_price)
    assert trade.net_pnl == (Decimal(exit_price) - 100) * trade.quantity


def test_stop_wins_when_one_bar_touches_both() -> None:
    rows = [
        *FLAT,
        ("100", "100.5", "99.5", "100"),
        ("100", "105", "97", "100"),
        ("100", "101", "99", "100"),
    ]
    pb, risk = configs()
    res = simulate([signal(T0 + 5 * H)], book(rows), pb, risk, NO_COSTS, T0, T0 + 8 * H)
    assert [t.exit_reason for t in res.trades] == ["stop_loss"]


def test_short_on_negative_hack_and_funding() -> None:
    rows = [*FLAT] + [("100", "101", "99", "100")] * 20
    pb, risk = configs(hold=36000)
    costs = Costs(
        taker_fee_bps=Decimal(0),
        slippage_bps=Decimal(0),
        latency=timedelta(0),
        funding_rate_8h=Decimal("0.001"),
    )
    sig = signal(T0 + 5 * H, event=EventType.HACK, sentiment=Sentiment.NEGATIVE)
    res = simulate([sig], book(rows), pb, risk, costs, T0, T0 + 24 * H)
    [trade] = res.trades
    assert trade.side.value == "SELL" and trade.exit_reason == "time_exit"
    # one funding time (08:00 and 16:00 UTC) inside 05:00..15:00: short 20 x 100 x 0.001 received
    assert trade.funding == Decimal("-2.000")
    assert trade.net_pnl == Decimal("2.000")


def test_two_runs_give_identical_logs() -> None:
    rows = [*FLAT] + [(str(100 + i), str(102 + i), str(99 + i), str(101 + i)) for i in range(30)]
    pb, risk = configs(hold=7200)
    sigs = [signal(T0 + (5 + 3 * i) * H + timedelta(minutes=7), sid=f"s{i}") for i in range(8)]
    a = simulate(sigs, book(rows), pb, risk, Costs(), T0, T0 + 35 * H)
    b = simulate(list(reversed(sigs)), book(rows), pb, risk, Costs(), T0, T0 + 35 * H)
    assert a.log and b"\n".join(a.log) == b"\n".join(b.log)
    assert [t.net_pnl for t in a.trades] == [t.net_pnl for t in b.trades]
    assert len(a.trades) >= 2
