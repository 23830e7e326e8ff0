"""Sizing scaled by the reaction table: clamp(expected / usual 1h move, min, max)."""

from __future__ import annotations

from typing import Any

import pytest

from operators.risk import RiskConfig, RiskEngine
from operators.risk.config import parse_risk_config
from operators.tomlconfig import ConfigError
from records import OrderIntent
from tests.operators.risk.helpers import CONFIG, D, config, proposal

# default proposal: 20 x 0.5 / (2 x 200) = 0.025 BTC (500 USDT), under every cap


def sized(cfg: RiskConfig = CONFIG, **changes: Any) -> OrderIntent:
    _, out = RiskEngine(cfg).step(None, proposal(**changes))
    (intent,) = out
    assert isinstance(intent, OrderIntent)
    return intent


def test_without_a_reaction_the_size_is_unchanged() -> None:
    got = sized()
    assert got.quantity == D("0.025")
    assert "reaction" not in got.reason


def test_a_bigger_than_usual_move_scales_the_size_up() -> None:
    # 0.012 / 0.01 = 1.2 -> 0.025 x 1.2 = 0.03
    got = sized(expected_move=0.012, baseline_move=0.01, reaction_samples=40)
    assert got.quantity == D("0.030")
    assert "x reaction 1.2 (1.2000% vs 1.0000%, n=40)" in got.reason


@pytest.mark.parametrize(
    ("move", "expected"),
    [
        (0.05, D("0.037")),  # x5 clamps to 1.5: 0.0375 floored to the lot step
        (0.001, D("0.012")),  # x0.1 clamps to 0.5: 0.0125 floored
        (0.008, D("0.020")),  # x0.8
    ],
)
def test_the_factor_is_clamped_to_the_configured_range(move: float, expected: D) -> None:
    got = sized(expected_move=move, baseline_move=0.01, reaction_samples=40)
    assert got.quantity == expected


def test_the_range_comes_from_the_config() -> None:
    cfg = config(reaction_scale_min=D("0.9"), reaction_scale_max=D("1.1"))
    got = sized(cfg, expected_move=0.05, baseline_move=0.01, reaction_samples=40)
    assert got.quantity == D("0.027")  # 0.025 x 1.1 = 0.0275


def test_too_few_samples_or_no_baseline_means_factor_one() -> None:
    few = sized(expected_move=0.05, baseline_move=0.01, reaction_samples=19)
    assert few.quantity == D("0.025")
    assert "reaction n=19 < 20: x1" in few.reason
    assert sized(
        config(reaction_min_samples=10), expected_move=0.05, baseline_move=0.01, reaction_samples=19
    ).quantity == D("0.037")
    for base in (None, 0.0):
        got = sized(expected_move=0.05, baseline_move=base, reaction_samples=40)
        assert got.quantity == D("0.025")


def test_caps_still_bind_after_scaling() -> None:
    # 20 x 0.8 x 1.5 / (2 x 100) = 0.12 BTC = 2400 USDT > 1000 -> 0.05
    got = sized(
        confidence=0.8, atr="100", expected_move=0.05, baseline_move=0.01, reaction_samples=40
    )
    assert got.quantity == D("0.05")
    assert "capped by max_order_notional" in got.reason


def test_explicit_quantities_are_not_scaled() -> None:
    got = sized(quantity=D("0.01"), expected_move=0.05, baseline_move=0.01, reaction_samples=40)
    assert got.quantity == D("0.01")


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('reaction_scale_min = "0"', "reaction_scale_min <= reaction_scale_max"),
        ('reaction_scale_min = "2"', "reaction_scale_min <= reaction_scale_max"),
        ("reaction_min_samples = 0", "reaction_min_samples must be >= 1"),
    ],
)
def test_bad_reaction_settings_are_refused(extra: str, match: str) -> None:
    text = f"""[risk]
initial_equity = "1"
max_order_notional = "1"
max_position_notional = "1"
max_gross_exposure = "1"
max_open_orders = 1
order_rate_limit = 1
order_rate_window_seconds = 1
cooldown_seconds = 0
duplicate_window_seconds = 1
daily_loss_limit = "1"
max_drawdown_pct = "1"
risk_per_trade = "1"
sizing_atr_multiple = "1"
max_price_age_seconds = 1
{extra}
"""
    with pytest.raises(ConfigError, match=match):
        parse_risk_config(text)
