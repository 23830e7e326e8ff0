"""Forward returns on crafted bars (hand-computed, no look-ahead), controls, aggregation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.marketdata.bars import Bar, BarSeries
from models import reactions
from models.dataset import Example
from models.reaction_table import Stats, content_version
from models.reactions import Event, Measurement
from records import EventType, Sentiment

H = timedelta(hours=1)
M5 = timedelta(minutes=5)
DAY = datetime(2022, 5, 10, tzinfo=UTC)


def series(start: datetime, step: timedelta, closes: list[str], symbol: str = "X") -> BarSeries:
    bars = [
        Bar(start + i * step, Decimal(c), Decimal(c), Decimal(c), Decimal(c), Decimal(1))
        for i, c in enumerate(closes)
    ]
    return BarSeries(symbol, step, bars)


# hourly bars opening 10:00 .. 16:00; bar 12:00 (close 121) is only known at 13:00
HOURLY = series(DAY.replace(hour=10), H, ["100", "110", "121", "99", "88", "132", "110"])


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def test_start_price_is_the_last_bar_closed_at_the_event_never_a_later_one() -> None:
    # 12:30: the 11:00 bar closed at 12:00 (110); the 12:00 bar is still open
    assert reactions.known_price(HOURLY, at(12, 30)) == Decimal(110)
    # 13:00 exactly: the 12:00 bar has just closed (121)
    assert reactions.known_price(HOURLY, at(13)) == Decimal(121)
    assert reactions.known_price(HOURLY, at(12, 59)) == Decimal(110)


def test_one_hour_and_four_hour_returns_by_hand() -> None:
    # 1h: 110 (11:00 bar) -> 121 (12:00 bar, closed 13:00, known at 13:30)
    assert reactions.forward_return(HOURLY, at(12, 30), H) == pytest.approx(0.1)
    # 4h: 110 -> close of the last bar closed at 16:30 = the 15:00 bar (132)
    assert reactions.forward_return(HOURLY, at(12, 30), 4 * H) == pytest.approx(0.2)
    # event at 13:00: 121 -> 99 (13:00 bar, closed 14:00)
    assert reactions.forward_return(HOURLY, at(13), H) == pytest.approx(99 / 121 - 1)


def test_no_return_from_bars_coarser_than_the_horizon_or_past_the_data() -> None:
    assert reactions.forward_return(HOURLY, at(12, 30), timedelta(minutes=15)) is None
    # 16:00 bar closes at 17:00; 4h after 14:30 is 18:30, past the data: stale, refused
    assert reactions.forward_return(HOURLY, at(14, 30), 4 * H) is None
    # before the first bar closed
    assert reactions.forward_return(HOURLY, at(10, 30), H) is None


def test_a_gap_in_the_bars_is_not_bridged_with_a_stale_price() -> None:
    gappy = BarSeries("X", H, [b for b in HOURLY.bars if b.open_time != at(12)])
    # at 13:30 the latest closed bar would be 11:00 (closed 12:00): 90 minutes old
    assert reactions.known_price(gappy, at(13, 30)) is None
    assert reactions.forward_return(gappy, at(12, 30), H) is None


def returned(series_list: list[BarSeries], when: datetime, horizon: timedelta) -> tuple[float, int]:
    got = reactions.best_return(series_list, when, horizon)
    assert got is not None
    return got


def test_finest_series_covering_both_ends_is_used() -> None:
    closes = [str(200 + i) for i in range(24)]  # 5m bars 12:00 .. 13:55, close = 200 + i
    fine = series(at(12), M5, closes)
    # 12:32 -> last closed is 12:25 (i=5, 205); 12:47 -> 12:40 (i=8, 208)
    ret, seconds = returned([HOURLY, fine], at(12, 32), timedelta(minutes=15))
    assert ret == pytest.approx(208 / 205 - 1)
    assert seconds == 300
    # 1h from 12:32: 205 -> 13:32 -> 13:25 bar (i=17, 217), still on the 5m bars
    ret, seconds = returned([HOURLY, fine], at(12, 32), H)
    assert ret == pytest.approx(217 / 205 - 1)
    assert seconds == 300
    # 4h runs past the 5m data: the hourly bars answer (110 -> 132)
    ret, seconds = returned([fine, HOURLY], at(12, 32), 4 * H)
    assert ret == pytest.approx(0.2)
    assert seconds == 3600


def test_targets_priced_assets_or_the_market_proxy() -> None:
    priced = {"BTC", "ETH"}
    assert reactions.targets(("ETH", "SOL", "BTC", "ETH"), priced, "BTC") == [
        ("ETH", "ETH"),
        ("BTC", "BTC"),
    ]
    assert reactions.targets(("SOL",), priced, "BTC") == [("MARKET(BTC)", "BTC")]
    assert reactions.targets((), priced, "BTC") == [("MARKET(BTC)", "BTC")]


def event(eid: str = "e1", when: datetime | None = None, **kw: object) -> Event:
    base: dict[str, object] = {
        "id": eid,
        "at": when or at(12, 30),
        "event_type": EventType.HACK,
        "sentiment": Sentiment.NEGATIVE,
        "assets": ("BTC",),
    }
    return Event(**{**base, **kw})  # type: ignore[arg-type]


def test_controls_are_other_days_of_the_month_at_the_same_time_seeded() -> None:
    e = event(when=datetime(2022, 2, 14, 9, 41, 7, tzinfo=UTC))
    got = reactions.control_instants(e, "BTC", seed=3, count=10)
    assert got == reactions.control_instants(e, "BTC", seed=3, count=10)
    assert got != reactions.control_instants(e, "BTC", seed=4, count=10)
    assert len(set(got)) == 10
    for t in got:
        assert (t.year, t.month) == (2022, 2)
        assert t.time() == e.at.time()
        assert t.day != 14
    # February 2022 has 27 other days: asking for more gives each exactly once
    assert len(reactions.control_instants(e, "BTC", seed=3, count=100)) == 27


def test_measure_pairs_each_return_with_controls_and_counts_what_it_could_not_price() -> None:
    prices = {"BTC": [HOURLY]}
    late = event("late", when=datetime(2030, 1, 1, 12, tzinfo=UTC))
    got, counts = reactions.measure(
        [event(), late], prices, controls=5, horizons={"1h": H, "15m": timedelta(minutes=15)}
    )
    (m,) = got
    assert (m.event_id, m.asset, m.horizon, m.bar_seconds) == ("e1", "BTC", "1h", 3600)
    assert m.ret == pytest.approx(0.1)
    assert m.controls == ()  # the crafted bars cover one day: no other day can be priced
    assert counts["events_measured"] == 1
    assert counts["events_without_prices"] == 1
    assert counts["measured_1h"] == 1
    with pytest.raises(ValueError, match="proxy asset 'BTC' has no prices"):
        reactions.measure([event()], {"ETH": [HOURLY]})


def measurement(ret: float, controls: tuple[float, ...], sentiment: Sentiment) -> Measurement:
    return Measurement(
        event_id=f"e{ret}",
        event_type=EventType.MACRO,
        sentiment=sentiment,
        asset="BTC",
        horizon="1h",
        ret=ret,
        controls=controls,
        bar_seconds=3600,
    )


def test_aggregate_by_hand() -> None:
    ms = [
        measurement(0.01, (0.001, -0.001), Sentiment.POSITIVE),
        measurement(-0.02, (0.002,), Sentiment.NEGATIVE),
        measurement(0.03, (), Sentiment.POSITIVE),
    ]
    rows, baselines = reactions.aggregate(ms)
    assert [(r.sentiment, r.events.n) for r in rows] == [
        (None, 3),
        (Sentiment.POSITIVE, 2),
        (Sentiment.NEGATIVE, 1),
    ]
    overall = rows[0]
    assert overall.events == Stats(
        n=3, mean=0.00666667, median=0.01, mean_abs=0.02, share_positive=0.66666667
    )
    assert overall.baseline == Stats(
        n=3, mean=0.00066667, median=0.001, mean_abs=0.00133333, share_positive=0.66666667
    )
    assert overall.ratio == pytest.approx(0.02 / 0.00133333)
    positive = rows[1]
    assert positive.events.mean == pytest.approx(0.02)
    assert positive.baseline is not None and positive.baseline.n == 2
    assert rows[2].baseline is not None and rows[2].baseline.mean_abs == 0.002
    (base,) = baselines
    assert (base.asset, base.horizon, base.stats.n) == ("BTC", "1h", 3)


def test_aggregate_leaves_the_baseline_empty_without_controls() -> None:
    rows, baselines = reactions.aggregate([measurement(0.01, (), Sentiment.NEUTRAL)])
    assert rows[0].baseline is None and rows[0].ratio is None
    assert baselines == ()


def month_of_hourly_bars() -> BarSeries:
    start = datetime(2022, 5, 1, tzinfo=UTC)
    # a deterministic zig-zag: every hourly return is +-1 % or so
    closes = [str(100 + (i % 7) - (i % 3)) for i in range(31 * 24)]
    return series(start, H, closes)


def test_build_is_deterministic_and_sealed_with_its_content_hash() -> None:
    bars = month_of_hourly_bars()
    events = [
        event("a", when=datetime(2022, 5, 3, 9, 20, tzinfo=UTC)),
        event("b", when=datetime(2022, 5, 17, 15, 5, tzinfo=UTC), assets=("SOL",)),
    ]
    one = reactions.build(events, {"BTC": [bars]}, inputs={"bars": "x"}, seed=1, controls=8)
    two = reactions.build(events, {"BTC": [bars]}, inputs={"bars": "x"}, seed=1, controls=8)
    assert one == two
    assert one.version == content_version(one)
    assert one.inputs["events"] == reactions.events_hash(events)
    assets = {r.asset for r in one.rows}
    assert assets == {"BTC", "MARKET(BTC)"}
    btc = next(r for r in one.rows if r.asset == "BTC" and r.horizon == "1h" and not r.sentiment)
    assert btc.baseline is not None and btc.baseline.n == 8
    other_seed = reactions.build(events, {"BTC": [bars]}, inputs={"bars": "x"}, seed=2, controls=8)
    assert other_seed.version != one.version


def test_events_from_examples_skips_untimed_and_midnight_items() -> None:
    def ex(eid: str, when: datetime | None) -> Example:
        return Example(
            id=eid,
            text="t",
            source="s",
            event_type=EventType.HACK,
            sentiment=Sentiment.NEGATIVE,
            assets=("btc",),
            dataset="d",
            published_at=when,
        )

    got, counts = reactions.events_from([ex("1", at(12, 30)), ex("2", None), ex("3", DAY)])
    assert [(e.id, e.assets) for e in got] == [("1", ("BTC",))]
    assert counts == {"labelled": 3, "no_time": 1, "midnight_only": 1, "timed": 1}


def test_until_keeps_only_returns_complete_by_then() -> None:
    # 12:30 + 1h = 13:30 is complete by 13:30, not by 13:29; the 4h one (16:30) is not
    assert reactions.best_return([HOURLY], at(12, 30), H, until=at(13, 30)) is not None
    assert reactions.best_return([HOURLY], at(12, 30), H, until=at(13, 29)) is None
    got, _ = reactions.measure(
        [event()], {"BTC": [HOURLY]}, controls=0, horizons={"1h": H, "4h": 4 * H}, until=at(14)
    )
    assert [m.horizon for m in got] == ["1h"]
    bars = month_of_hourly_bars()
    until = datetime(2022, 5, 10, tzinfo=UTC)
    early = event("a", when=datetime(2022, 5, 5, 9, 20, tzinfo=UTC))
    late = event("b", when=datetime(2022, 5, 20, 9, 20, tzinfo=UTC))
    # 30 controls: every other day of May; only 1..9 May (not the 5th) end before `until`
    built = reactions.build([early, late], {"BTC": [bars]}, inputs={}, controls=30, until=until)
    assert built.inputs["until"] == until.isoformat()
    (row,) = [r for r in built.rows if r.horizon == "1h" and r.sentiment is None]
    assert row.events.n == 1
    assert row.baseline is not None and row.baseline.n == 8
