"""The reaction table in the playbooks: loaded with the config, attached to each proposal, and
changing the risk engine's size end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from models import reaction_table as rt
from operators.market import MarketSnapshot
from operators.playbook import PlaybookConfig, parse_playbook_config, propose_orders
from operators.risk import RiskEngine, parse_risk_config
from operators.tomlconfig import ConfigError
from records import EventType, OrderIntent, Sentiment, Signal

D = Decimal
TOML = Path(__file__).resolve().parents[2] / "flows" / "playbooks.toml"
T = datetime(2024, 3, 1, 12, tzinfo=UTC)
MARKET = {
    "BTCUSDT": MarketSnapshot(D("20000"), D("400"), T - timedelta(minutes=10)),
    "ETHUSDT": MarketSnapshot(D("1500"), D("12"), T - timedelta(minutes=10)),
}


def stats(n: int, mean_abs: float) -> rt.Stats:
    return rt.Stats(n=n, mean=0.0, median=0.0, mean_abs=mean_abs, share_positive=0.5)


def row(event_type: EventType, asset: str, n: int, move: float, usual: float) -> rt.ReactionRow:
    return rt.ReactionRow(
        event_type=event_type,
        sentiment=None,
        asset=asset,
        horizon="1h",
        events=stats(n, move),
        baseline=stats(n * 20, usual),
    )


@pytest.fixture
def table_path(tmp_path: Path) -> Path:
    artefact = rt.ReactionArtefact(
        format=rt.FORMAT,
        version="",
        inputs={},
        seed=0,
        controls_per_event=20,
        counts={},
        rows=(
            row(EventType.HACK, "BTC", 30, 0.009, 0.006),  # x1.5
            row(EventType.FED_SPEECH, "MARKET(BTC)", 25, 0.008, 0.005),
        ),
        baselines=(),
    )
    return rt.write_artefact(artefact, tmp_path)


def config_text(reactions: str | None) -> str:
    text = re.sub(r'(?m)^reactions = ".*"\n', "", TOML.read_text())
    if reactions is None:
        return text
    return text.replace("[defaults]\n", f'[defaults]\nreactions = "{reactions}"\n', 1)


def signal(event: EventType, assets: tuple[str, ...], sentiment: Sentiment) -> Signal:
    return Signal(
        signal_id="sig-r",
        news_key="src:r",
        story_id="story-r",
        source="src",
        title="t",
        url=None,
        event_type=event,
        sentiment=sentiment,
        assets=assets,
        model_confidence=0.9,
        sentiment_confidence=0.8,
        confidence=0.9,
        model_version="m1",
        published_at=T - timedelta(seconds=5),
        received_at=T,
    )


def test_the_bundled_config_pins_a_loadable_table() -> None:
    cfg = parse_playbook_config(TOML)
    assert cfg.reaction_table is not None
    assert cfg.reaction_table.version == cfg.defaults.reactions


def test_proposals_carry_the_expected_move_of_their_event_type_and_asset(
    table_path: Path,
) -> None:
    cfg = parse_playbook_config(config_text(str(table_path)))
    (order,) = propose_orders(signal(EventType.HACK, ("BTC",), Sentiment.NEGATIVE), cfg, MARKET)
    assert (order.expected_move, order.baseline_move, order.reaction_samples) == (0.009, 0.006, 30)
    assert "expected 1h move 0.90% (usual 0.60%, n=30)" in order.reason
    # ETH was never measured for HACK: nothing attached
    (eth,) = propose_orders(signal(EventType.HACK, ("ETH",), Sentiment.NEGATIVE), cfg, MARKET)
    assert eth.expected_move is None and eth.reaction_samples == 0
    assert "expected 1h move" not in eth.reason


def test_proxy_orders_use_the_market_row(table_path: Path) -> None:
    cfg = parse_playbook_config(config_text(str(table_path)))
    (order,) = propose_orders(signal(EventType.FED_SPEECH, (), Sentiment.POSITIVE), cfg, MARKET)
    assert order.symbol == "BTCUSDT"
    assert (order.expected_move, order.baseline_move) == (0.008, 0.005)


def test_relative_table_paths_are_read_from_the_config_folder(
    table_path: Path, tmp_path: Path
) -> None:
    config = tmp_path / "trading.toml"
    config.write_text(config_text(table_path.name))
    cfg = parse_playbook_config(config)
    assert cfg.reaction_table is not None
    assert cfg.reaction_table.version == table_path.stem


@pytest.mark.parametrize("ref", ["reactions-000000000000", "/nonexistent/table.json"])
def test_a_missing_table_is_a_config_error(ref: str) -> None:
    with pytest.raises(ConfigError, match=r"defaults\.reactions.*cannot read reaction table"):
        parse_playbook_config(config_text(ref))


def intent_for(cfg: PlaybookConfig) -> OrderIntent:
    (proposal,) = propose_orders(signal(EventType.HACK, ("BTC",), Sentiment.NEGATIVE), cfg, MARKET)
    _, out = RiskEngine(parse_risk_config(TOML)).step(None, proposal)
    (intent,) = out
    assert isinstance(intent, OrderIntent)
    return intent


def test_a_signal_is_sized_differently_with_and_without_the_table(table_path: Path) -> None:
    without = intent_for(parse_playbook_config(config_text(None)))
    with_table = intent_for(parse_playbook_config(config_text(str(table_path))))
    # 50 x 0.9 / (2 x 400) = 0.05625 -> 0.056; with the table x1.5: 0.084375 -> 0.084
    assert without.quantity == D("0.056")
    assert with_table.quantity == D("0.084")
    assert "x reaction 1.5" in with_table.reason
