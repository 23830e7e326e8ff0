"""The sources config: the shipped example loads, typos and duplicates fail, secrets stay masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.sources.config import ConfigError, load_config, parse_config
from connectors.sources.registry import build_sources
from connectors.sources.secrets import MissingSecretError, header_secrets, secret_from_env
from records import SystemClock

EXAMPLE = Path(__file__).resolve().parents[3] / "flows" / "sources.example.toml"


def test_the_example_config_builds_every_source_family() -> None:
    config = load_config(EXAMPLE)
    assert set(build_sources(config, SystemClock())) == {
        "feeds",
        "sse",
        "websocket",
        "webhook",
        "fomc_calendar",
        "etherscan",
        "x_stream",
    }
    assert "webhook" not in build_sources(config, SystemClock(), once=True)


def test_duplicate_names_and_websub_without_public_url_are_refused() -> None:
    with pytest.raises(ConfigError, match="repeated: a"):
        parse_config('[[rss]]\nname = "a"\nurl = "u"\n[[sse]]\nname = "a"\nurl = "u"\n')
    with pytest.raises(ConfigError, match=r"webhook\.public_url"):
        parse_config('[[rss]]\nname = "a"\nurl = "u"\nwebsub = true\n')


def test_secrets_are_masked_and_missing_ones_named() -> None:
    secret = secret_from_env("K", "test", {"K": "hunter2"})
    assert (
        "hunter2" not in repr(secret)
        and "hunter2" not in str(secret)
        and "hunter2" not in f"{secret}"
    )
    assert secret.reveal() == "hunter2"
    with pytest.raises(MissingSecretError, match="environment variable K must be set"):
        secret_from_env("K", "test", {})


def test_header_secrets_come_from_the_environment_and_name_a_missing_one() -> None:
    env = {"TW_TOKEN": "hunter2"}
    headers = {"Authorization": "TW_TOKEN"}
    assert header_secrets(headers, "SSE stream 'wire'", env) == {"Authorization": "hunter2"}
    assert header_secrets({}, "SSE stream 'wire'", {}) == {}
    with pytest.raises(MissingSecretError, match=r"TW_TOKEN must be set \(Authorization header of"):
        header_secrets(headers, "SSE stream 'wire'", {})
