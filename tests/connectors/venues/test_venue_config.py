"""Venue config safety, client-id mapping and retry policy: pure unit tests."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from connectors.venues.config import MAINNET_CONFIRMATION, ConfigError, Network, VenueConfig
from connectors.venues.ids import venue_client_id
from connectors.venues.retry import RetryPolicy, VenueError
from operators.proposal import client_order_id
from records import Venue


def test_repr_masks_secrets() -> None:
    cfg = VenueConfig.from_env(
        Venue.BYBIT, {"TRADEWIRE_BYBIT_API_KEY": "AKIAKEY", "TRADEWIRE_BYBIT_API_SECRET": "s3cr3t"}
    )
    assert cfg.network is Network.TESTNET
    assert "AKIAKEY" not in repr(cfg)
    assert "s3cr3t" not in str(cfg)


def test_mainnet_needs_setting_and_confirmation() -> None:
    env = {
        "TRADEWIRE_BINANCE_API_KEY": "k",
        "TRADEWIRE_BINANCE_API_SECRET": "s",
        "TRADEWIRE_BINANCE_NETWORK": "mainnet",
    }
    with pytest.raises(ConfigError, match="MAINNET_CONFIRM"):
        VenueConfig.from_env(Venue.BINANCE, env)
    env["TRADEWIRE_BINANCE_MAINNET_CONFIRM"] = MAINNET_CONFIRMATION
    assert VenueConfig.from_env(Venue.BINANCE, env).network is Network.MAINNET
    del env["TRADEWIRE_BINANCE_NETWORK"]
    with pytest.raises(ConfigError, match="MAINNET_CONFIRM is set but the network is testnet"):
        VenueConfig.from_env(Venue.BINANCE, env)


def test_keys_from_secrets_file_and_missing_keys_fail(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# venue keys\nTRADEWIRE_BYBIT_API_KEY=k\nTRADEWIRE_BYBIT_API_SECRET = s\n")
    assert VenueConfig.from_env(Venue.BYBIT, {}, secrets).api_key == "k"
    with pytest.raises(ConfigError, match="required"):
        VenueConfig.from_env(Venue.BYBIT, {})


def test_endpoint_overrides_only_for_the_simulator_on_loopback() -> None:
    for elsewhere in (
        "http://10.0.0.1:80",
        "http://127.0.0.1@evil.example:80",
        "http://localhost.evil.example",
        "https://127.0.0.1:80",
    ):
        with pytest.raises(ConfigError, match="loopback"):
            VenueConfig(Venue.BYBIT, "k", "s", Network.SIMULATOR, elsewhere)
    for local in ("http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:2"):
        assert VenueConfig(Venue.BYBIT, "k", "s", Network.SIMULATOR, local).endpoint == local
    for network in (Network.TESTNET, Network.MAINNET):
        with pytest.raises(ConfigError, match="simulator network only"):
            VenueConfig(Venue.BYBIT, "k", "s", network, "http://127.0.0.1:8080")
    env = {
        "TRADEWIRE_BYBIT_API_KEY": "k",
        "TRADEWIRE_BYBIT_API_SECRET": "s",
        "TRADEWIRE_BYBIT_ENDPOINT": "https://proxy.example",
    }
    with pytest.raises(ConfigError, match="simulator network only"):
        VenueConfig.from_env(Venue.BYBIT, env)
    env |= {
        "TRADEWIRE_BYBIT_NETWORK": "simulator",
        "TRADEWIRE_BYBIT_ENDPOINT": "http://127.0.0.1:9",
    }
    assert VenueConfig.from_env(Venue.BYBIT, env).endpoint == "http://127.0.0.1:9"


def test_risk_made_ids_reach_the_venue_unchanged() -> None:
    """Fills and updates come back under the venue's id: for risk's ids it is their own."""
    cid = client_order_id("sig:" + "x" * 80, "HACK", "BTCUSDT", 3)
    assert len(cid) == 33 and venue_client_id(cid) == cid
    assert venue_client_id(cid + "-sl") == cid + "-sl"  # its exits keep its name
    assert len(venue_client_id("x" * 40 + "-tp")) <= 36


def test_client_ids_are_deterministic_and_venue_safe() -> None:
    assert venue_client_id("abc-123_x") == "abc-123_x"
    long_id = "sig:" + "x" * 60
    mapped = venue_client_id(long_id)
    assert mapped == venue_client_id(long_id)
    assert len(mapped) == 33
    assert mapped.isalnum()


def test_retry_retries_only_retryable_errors_with_bounded_jitter() -> None:
    delays: list[float] = []
    policy = RetryPolicy(attempts=3, base_delay=1.0, sleep=delays.append, rng=random.Random(1))
    calls = iter([VenueError(1, "busy", retryable=True), VenueError(1, "busy", retryable=True)])

    def flaky() -> str:
        error = next(calls, None)
        if error:
            raise error
        return "ok"

    assert (
        policy.run(
            flaky, lambda e: e if isinstance(e, VenueError) else VenueError(0, "", retryable=False)
        )
        == "ok"
    )
    assert len(delays) == 2
    assert 0 <= delays[0] <= 1.0
    assert 0 <= delays[1] <= 2.0

    def final() -> str:
        raise VenueError(2, "no", retryable=False)

    with pytest.raises(VenueError):
        policy.run(
            final, lambda e: e if isinstance(e, VenueError) else VenueError(0, "", retryable=False)
        )
    assert len(delays) == 2
