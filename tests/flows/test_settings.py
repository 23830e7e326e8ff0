"""Flow settings: where the trading config comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.settings import DEFAULT_TRADING_PATH, FlowSettings
from operators.tomlconfig import ConfigError
from records import Venue


def test_without_a_trading_key_the_shipped_playbooks_apply(tmp_path: Path) -> None:
    (tmp_path / "tradewire.toml").write_text("[flow]\ndedup_window_minutes = 10\n")
    settings = FlowSettings.load(tmp_path / "tradewire.toml")
    assert settings.trading_path == DEFAULT_TRADING_PATH
    assert settings.signal.trading.playbooks.playbooks


def test_a_named_trading_config_is_read_relative_to_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "tradewire.toml").write_text('[trading]\nconfig = "mine.toml"\n')
    with pytest.raises(ConfigError, match=r"mine\.toml"):
        FlowSettings.load(tmp_path / "tradewire.toml")
    (tmp_path / "mine.toml").write_text(DEFAULT_TRADING_PATH.read_text())
    assert FlowSettings.load(tmp_path / "tradewire.toml").trading_path == tmp_path / "mine.toml"


def test_a_deployment_names_the_account_and_venue_without_copying_the_playbooks(
    tmp_path: Path,
) -> None:
    (tmp_path / "tradewire.toml").write_text('[trading]\naccount = "desk-1"\nvenue = "bybit"\n')
    defaults = FlowSettings.load(tmp_path / "tradewire.toml").signal.trading.playbooks.defaults
    assert (defaults.account, defaults.venue) == ("desk-1", Venue.BYBIT)
    (tmp_path / "tradewire.toml").write_text('[trading]\nvenue = "kraken"\n')
    with pytest.raises(ValueError, match="kraken"):
        FlowSettings.load(tmp_path / "tradewire.toml")
