"""Every risk rule, the kill switch and sizing, on hand-computed cases."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

from operators.proposal import ProposedOrder
from operators.risk import (
    AccountOrderUpdate,
    CancelRequest,
    RiskConfig,
    RiskEngine,
    RiskOutput,
    RiskState,
    TradingState,
    TradingStateChanged,
)
from operators.risk.events import ResetCommand
from records import (
    DeadLetter,
    EventType,
    OrderIntent,
    OrderStatus,
    OrderUpdate,
    RiskRejection,
    Side,
    Venue,
)
from tests.operators.risk.helpers import ACCOUNT, CONFIG, D, at, config, fill, mark, proposal


def run(
    events: Sequence[object], cfg: RiskConfig = CONFIG, state: RiskState | None = None
) -> tuple[RiskState, list[RiskOutput]]:
    engine = RiskEngine(cfg)
    outputs: list[RiskOutput] = []
    for event in events:
        state, out = engine.step(state, event)
        outputs.extend(out)
    assert state is not None
    return state, outputs


def only(outputs: list[RiskOutput], kind: type[object]) -> list[object]:
    return [o for o in outputs if isinstance(o, kind)]


def rejection(outputs: list[RiskOutput]) -> RiskRejection:
    (last,) = outputs[-1:]
    assert isinstance(last, RiskRejection), outputs
    return last


def intent(outputs: list[RiskOutput]) -> OrderIntent:
    (last,) = outputs[-1:]
    assert isinstance(last, OrderIntent), outputs
    return last


# -- sizing -------------------------------------------------------------------------------


def test_size_from_confidence_and_atr() -> None:
    _, out = run([proposal(confidence=0.5, atr="200")])
    # 20 x 0.5 / (2 x 200) = 0.025
    assert intent(out).quantity == D("0.025")


def test_size_halves_when_volatility_doubles() -> None:
    _, out = run([proposal(confidence=0.5, atr="400")])
    assert intent(out).quantity == D("0.0125").quantize(D("0.001"), rounding="ROUND_DOWN")


def test_size_rounds_down_to_lot_step() -> None:
    # 20 x 0.7 / (2 x 300) = 0.02333... -> 0.023
    _, out = run([proposal(confidence=0.7, atr="300")])
    assert intent(out).quantity == D("0.023")


def test_size_capped_by_max_order_notional() -> None:
    # 20 x 0.8 / (2 x 100) = 0.08 BTC = 1600 USDT > 1000 -> 1000 / 20000 = 0.05
    _, out = run([proposal(confidence=0.8, atr="100")])
    got = intent(out)
    assert got.quantity == D("0.05")
    assert "capped by max_order_notional" in got.reason


def test_limit_price_is_used_for_notional_caps() -> None:
    # 1000 / 25000 = 0.04
    _, out = run([proposal(confidence=0.8, atr="100", limit_price=D(25000))])
    assert intent(out).quantity == D("0.04")


def test_size_below_one_lot_is_rejected_by_sizing() -> None:
    _, out = run([proposal(atr="100000")])
    got = rejection(out)
    assert got.rule == "sizing"
    assert "below lot step 0.001" in got.reason


def test_explicit_quantity_is_capped_like_a_sized_one() -> None:
    _, out = run([proposal(quantity=D("0.2"))])
    assert intent(out).quantity == D("0.05")


# -- position and exposure limits -------------------------------------------------------------


def test_per_symbol_position_cap_shrinks_the_order() -> None:
    # cap 1500 / 20000 = 0.075 BTC; holding 0.06 leaves 0.015
    _, out = run([fill("f1", "0.06", "20000"), proposal(confidence=0.8, atr="100")])
    got = intent(out)
    assert got.quantity == D("0.015")
    assert "max_position" in got.reason


def test_per_symbol_position_cap_counts_open_orders() -> None:
    cfg = config(cooldown_seconds=0)
    events = [
        proposal("a", confidence=0.8, atr="100"),  # 0.05 open
        proposal("b", confidence=0.8, atr="100", seconds=1),  # room 0.075 - 0.05
    ]
    _, out = run(events, cfg)
    assert intent(out).quantity == D("0.025")


def test_full_position_rejects_with_max_position() -> None:
    _, out = run([fill("f1", "0.075", "20000"), proposal()])
    assert rejection(out).rule == "max_position"


def test_selling_against_a_long_may_flip_up_to_the_cap() -> None:
    # long 0.075; a SELL may go to -0.075: room 0.15, then the order cap (0.05) binds
    _, out = run([fill("f1", "0.075", "20000"), proposal(side=Side.SELL, quantity=D("1"))])
    assert intent(out).quantity == D("0.05")


def test_per_symbol_override() -> None:
    cfg = config(max_position_notional_by_symbol={"BTCUSDT": D(300)})
    _, out = run([proposal()], cfg)
    assert intent(out).quantity == D("0.015")  # 300 / 20000


def test_gross_exposure_cap() -> None:
    # BTC 0.07 x 20000 = 1400, ETH 0.5 x 1500 = 750 -> gross 2150, room 350 / 1500 = 0.2333
    events = [
        fill("f1", "0.07", "20000"),
        fill("f2", "0.5", "1500", symbol="ETHUSDT"),
        proposal(symbol="ETHUSDT", asset="ETH", price="1500", atr="10", confidence=0.8),
    ]
    _, out = run(events)
    got = intent(out)
    assert got.quantity == D("0.23")
    assert "gross_exposure" in got.reason


def test_gross_exposure_full_rejects() -> None:
    cfg = config(max_gross_exposure=D(1000))
    _, out = run([fill("f1", "0.05", "20000"), proposal()], cfg)
    assert rejection(out).rule == "gross_exposure"


# -- order flow limits -------------------------------------------------------------------------


def test_max_open_orders_then_freed_by_a_terminal_update() -> None:
    cfg = config(max_open_orders=1, cooldown_seconds=0)
    first = proposal("a")
    state, out = run([first, proposal("b", seconds=1)], cfg)
    got = rejection(out)
    assert got.rule == "max_open_orders"
    assert got.reason == "1 open orders (max 1)"
    done = AccountOrderUpdate(
        account=ACCOUNT,
        update=OrderUpdate(
            client_order_id=first.client_order_id,
            venue=Venue.SIMULATOR,
            symbol="BTCUSDT",
            status=OrderStatus.CANCELED,
            updated_at=at(2),
        ),
    )
    _, out = run([done, proposal("c", seconds=3)], cfg, state)
    assert isinstance(out[-1], OrderIntent)


def test_fills_close_open_orders() -> None:
    cfg = config(max_open_orders=1, cooldown_seconds=0)
    first = proposal("a")
    events = [
        first,
        fill("f1", "0.025", "20000", client_order_id=first.client_order_id, seconds=1),
        proposal("b", seconds=2),
    ]
    _, out = run(events, cfg)
    assert isinstance(out[-1], OrderIntent)


def test_order_rate_limit_in_a_rolling_window() -> None:
    cfg = config(cooldown_seconds=0, max_open_orders=10)
    events = [proposal("a"), proposal("b", seconds=30), proposal("c", seconds=59)]
    state, out = run(events, cfg)
    got = rejection(out)
    assert got.rule == "order_rate"
    assert got.reason == "2 orders in the last 60s (max 2)"
    # 61 s after the first, only one order is in the window
    _, out = run([proposal("d", seconds=61)], cfg, state)
    assert isinstance(out[-1], OrderIntent)


def test_min_confidence_engine_floor() -> None:
    _, out = run([proposal(confidence=0.4)])
    got = rejection(out)
    assert (got.rule, got.reason) == ("min_confidence", "confidence 0.400 < 0.500")


def test_min_confidence_playbook_is_stricter() -> None:
    _, out = run([proposal(confidence=0.6, min_confidence=0.7)])
    assert rejection(out).reason == "confidence 0.600 < 0.700"


def test_playbook_sentiment_floor_refuses_a_coin_flip_side() -> None:
    _, out = run([proposal(sentiment_confidence=0.47, min_sentiment_confidence=0.6)])
    got = rejection(out)
    assert (got.rule, got.reason) == (
        "min_sentiment_confidence",
        "sentiment confidence 0.470 < 0.600",
    )
    _, out = run([proposal("b", sentiment_confidence=0.61, min_sentiment_confidence=0.6)])
    assert isinstance(out[-1], OrderIntent)


def test_an_unknown_sentiment_confidence_passes_only_without_a_floor() -> None:
    _, out = run([proposal(min_sentiment_confidence=0.6)])
    assert rejection(out).reason == "sentiment confidence unknown < 0.600"
    _, out = run([proposal("b")])
    assert isinstance(out[-1], OrderIntent)


def test_cooldown_per_asset_and_event_type() -> None:
    state, out = run([proposal("a"), proposal("b", seconds=100)])
    got = rejection(out)
    assert got.rule == "cooldown"
    assert "BTC/HACK cools down until 2024-03-01T12:05:00+00:00" in got.reason
    _, other = run([proposal("c", seconds=101, event_type=EventType.LISTING)], state=state)
    assert isinstance(other[-1], OrderIntent)
    _, later = run([proposal("d", seconds=301)], state=state)
    assert isinstance(later[-1], OrderIntent)


def test_duplicate_signal_is_suppressed() -> None:
    _, out = run([proposal("a"), proposal("a", seconds=1)])
    got = rejection(out)
    assert got.rule == "duplicate_signal"
    assert len(only(out, OrderIntent)) == 1


def test_duplicate_story_on_the_same_symbol_is_suppressed() -> None:
    cfg = config(cooldown_seconds=0)
    events = [proposal("a", story_id="s"), proposal("b", story_id="s", seconds=1)]
    _, out = run(events, cfg)
    got = rejection(out)
    assert got.rule == "duplicate_story"
    assert got.reason.startswith("story s already traded on BTCUSDT")


def test_duplicates_are_forgotten_after_the_window() -> None:
    state, _ = run([proposal("a")])
    _, out = run([proposal("a", seconds=3601)], state=state)
    assert isinstance(out[-1], OrderIntent)


def test_rejected_signals_do_not_block_a_corroborated_retry() -> None:
    state, out = run([proposal("a", story_id="s", confidence=0.3)])
    assert rejection(out).rule == "min_confidence"
    _, out = run([proposal("b", story_id="s", confidence=0.9, seconds=1)], state=state)
    assert isinstance(out[-1], OrderIntent)


# -- market data -------------------------------------------------------------------------------


def test_missing_market_data_is_a_rejection() -> None:
    _, out = run([proposal(price=None, atr=None, market_data_issue="no market snapshot")])
    assert (rejection(out).rule, rejection(out).reason) == ("market_data", "no market snapshot")


def test_missing_atr_cannot_size() -> None:
    _, out = run([proposal(atr=None)])
    assert rejection(out).reason == "no usable ATR for BTCUSDT: cannot size"


def test_stale_price_is_rejected() -> None:
    _, out = run([proposal(price_as_of=at(-3601))])
    assert rejection(out).reason == "price for BTCUSDT is 3601s old (max 3600s)"


def test_symbol_without_instrument_is_rejected() -> None:
    _, out = run([proposal(symbol="SOLUSDT", asset="SOL")])
    assert rejection(out).reason == "no [instruments] entry for SOLUSDT"


# -- intent contents ---------------------------------------------------------------------------


def test_intent_carries_origin_and_deterministic_id() -> None:
    p = proposal("sig-9", stop_loss=D(19500), take_profit=D(21000), hold_seconds=600)
    _, out = run([p])
    got = intent(out)
    assert got.client_order_id == p.client_order_id
    assert (got.signal_id, got.news_key, got.model_version) == ("sig-9", "src:sig-9", "m1")
    assert (got.stop_loss, got.take_profit, got.hold_seconds) == (D(19500), D(21000), 600)
    assert got.reference_price == D(20000)
    assert got.created_at == at(0)
    assert not got.reduce_only


# -- kill switch -------------------------------------------------------------------------------


def test_daily_loss_switches_to_reducing() -> None:
    # long 0.05 @ 20000, mark 16000: unrealised -200 = the daily limit
    state, out = run([fill("f1", "0.05", "20000"), mark("16000", seconds=1)])
    (change,) = only(out, TradingStateChanged)
    assert isinstance(change, TradingStateChanged)
    assert (change.previous, change.current) == (TradingState.ACTIVE, TradingState.REDUCING)
    assert change.reason == "daily loss 200.00 >= limit 200"
    assert change.equity == D(9800)
    assert state.trading_state is TradingState.REDUCING


def test_reducing_allows_only_reduce_only_orders() -> None:
    state, _ = run([fill("f1", "0.05", "20000"), mark("16000", seconds=1)])
    _, out = run([proposal("buy", price="16000", seconds=2)], state=state)
    got = rejection(out)
    assert got.rule == "trading_state"
    assert "only orders reducing a position; BTCUSDT position is 0.05" in got.reason
    sell = proposal("sell", side=Side.SELL, price="16000", atr="10", seconds=3, stop_loss=D(17000))
    _, out = run([sell], state=state)
    got_intent = intent(out)
    # sized 20 x 0.5 / 20 = 0.5, capped at the 0.05 held
    assert got_intent.quantity == D("0.05")
    assert got_intent.reduce_only
    assert got_intent.stop_loss is None
    assert "capped by trading_state" in got_intent.reason


def test_reducing_lifts_at_the_next_utc_day() -> None:
    state, _ = run([fill("f1", "0.05", "20000"), mark("16000", seconds=1)])
    _, out = run([mark("16000", seconds=12 * 3600 + 1)], state=state)
    (change,) = only(out, TradingStateChanged)
    assert isinstance(change, TradingStateChanged)
    assert change.current is TradingState.ACTIVE
    assert change.reason == "new UTC day 2024-03-02"


def test_drawdown_halts_and_cancels_open_orders() -> None:
    cfg = config(cooldown_seconds=0, daily_loss_limit=D(10000))
    events = [
        fill("f1", "0.05", "20000"),
        proposal("open", symbol="ETHUSDT", asset="ETH", price="1500", atr="10", seconds=1),
        mark("10000", seconds=2),  # unrealised -500: equity 9500, 5% below the 10000 peak
    ]
    state, out = run(events, cfg)
    assert state.trading_state is TradingState.HALTED
    (change,) = only(out, TradingStateChanged)
    assert isinstance(change, TradingStateChanged)
    assert change.reason == "drawdown 5.00% from peak 10000 >= max 5%"
    (cancel,) = only(out, CancelRequest)
    assert isinstance(cancel, CancelRequest)
    assert isinstance(events[1], ProposedOrder)
    assert cancel.client_order_id == events[1].client_order_id
    assert cancel.symbol == "ETHUSDT"
    assert cancel.created_at == at(2)


def test_halted_blocks_everything_until_reset_even_across_days() -> None:
    cfg = config(daily_loss_limit=D(10000))
    state, _ = run([fill("f1", "0.05", "20000"), mark("10000", seconds=1)], cfg)
    _, out = run([proposal("x", side=Side.SELL, price="10000", seconds=86400)], cfg, state)
    got = rejection(out)
    assert got.rule == "trading_state"
    assert got.reason.startswith("trading is HALTED (drawdown 5.00%")
    reset = ResetCommand(account=ACCOUNT, at=at(86401), reason="reviewed")
    state, out = run([reset], cfg, state)
    (change,) = only(out, TradingStateChanged)
    assert isinstance(change, TradingStateChanged)
    assert (change.previous, change.current) == (TradingState.HALTED, TradingState.ACTIVE)
    assert state.peak_equity == D(9500)  # drawdown measured from here on
    _, out = run([proposal("y", price="10000", seconds=86402)], cfg, state)
    assert isinstance(out[-1], OrderIntent)
    # HALTED again later; the same reset re-delivered by a recovery does not lift it
    state, _ = run([mark("500", seconds=86403)], cfg, state)  # equity 9025: 5% below 9500
    assert state.trading_state is TradingState.HALTED
    state, out = run([reset], cfg, state)
    assert state.trading_state is TradingState.HALTED and not only(out, TradingStateChanged)


def test_equity_includes_realised_pnl_fees_and_peak() -> None:
    events = [
        fill("f1", "0.05", "20000", fee="1"),
        fill("f2", "0.05", "22000", side=Side.SELL, fee="1", seconds=1),
    ]
    state, out = run(events)
    assert not only(out, TradingStateChanged)
    assert state.peak_equity == D(10098)  # +100 realised - 2 fees


# -- robustness and purity ---------------------------------------------------------------------


def test_redelivered_fill_is_counted_once() -> None:
    state, _ = run([fill("f1", "0.05", "20000"), fill("f1", "0.05", "20000")])
    assert state.positions["BTCUSDT"].quantity == D("0.05")


def test_bad_input_becomes_a_dead_letter() -> None:
    state, out = run(["not an event"])
    (dead,) = out
    assert isinstance(dead, DeadLetter)
    assert dead.reason == "not a risk event: str"
    assert state.positions == {}


def test_unsupported_fee_asset_is_a_dead_letter_and_changes_nothing() -> None:
    state, out = run([fill("f1", "0.05", "20000", fee="0.01", fee_asset="BNB")])
    (dead,) = out
    assert isinstance(dead, DeadLetter)
    assert "fee in BNB" in dead.reason
    assert state.positions == {}


def test_late_events_never_move_time_backwards() -> None:
    state, _ = run([mark("20000", seconds=100), mark("20000", seconds=5)])
    assert state.now == at(100)


def test_same_events_same_outputs_and_state_pickles() -> None:
    events: list[object] = [
        fill("f1", "0.01", "20000"),
        proposal("a"),
        proposal("a", seconds=1),
        mark("19000", seconds=2),
        proposal("b", symbol="ETHUSDT", asset="ETH", price="1500", atr="10", seconds=3),
    ]
    s1, o1 = run(events)
    s2, o2 = run(events)
    assert o1 == o2
    restored = pickle.loads(pickle.dumps(s1))
    assert restored == s2
