"""Venue credentials and network choice: testnet unless mainnet is asked for twice.

Keys come from the environment (``TRADEWIRE_<VENUE>_API_KEY`` / ``_API_SECRET``) or a secrets
file of ``NAME=value`` lines; the config is frozen and its repr masks both, so a logged config
never leaks a key. Mainnet needs ``TRADEWIRE_<VENUE>_NETWORK=mainnet`` *and*
``TRADEWIRE_<VENUE>_MAINNET_CONFIRM=yes-real-money``: one flag alone is refused. An endpoint
override (``_ENDPOINT``) is accepted only on the simulator network, and only on loopback.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from records import Venue

MAINNET_CONFIRMATION = "yes-real-money"


class Network(enum.StrEnum):
    TESTNET = "testnet"
    MAINNET = "mainnet"
    SIMULATOR = "simulator"


class ConfigError(ValueError):
    """Missing or unsafe venue configuration."""


def _mask(value: str) -> str:
    return "***" if value else "<unset>"


@dataclass(frozen=True, slots=True)
class VenueConfig:
    venue: Venue
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    network: Network = Network.TESTNET
    endpoint: str | None = None
    """Base URL override: the simulator network only, loopback URLs only."""

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_secret:
            msg = f"{self.venue} API key and secret are required"
            raise ConfigError(msg)
        if self.network is Network.SIMULATOR and not _is_loopback(self.endpoint):
            msg = "the simulator network needs a loopback endpoint (http://127.0.0.1:PORT)"
            raise ConfigError(msg)
        if self.network is not Network.SIMULATOR and self.endpoint is not None:
            # Signed requests must go to the venue's own hosts, never to a configured URL.
            msg = f"an endpoint override is for the simulator network only, not {self.network}"
            raise ConfigError(msg)

    def __repr__(self) -> str:
        return (
            f"VenueConfig(venue={self.venue!s}, network={self.network!s}, "
            f"endpoint={self.endpoint!r}, api_key={_mask(self.api_key)}, "
            f"api_secret={_mask(self.api_secret)})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(
        cls, venue: Venue, env: Mapping[str, str], secrets_file: Path | None = None
    ) -> VenueConfig:
        """Read ``TRADEWIRE_<VENUE>_*`` from ``env``, falling back to ``secrets_file``."""
        values = dict(_read_secrets(secrets_file)) if secrets_file else {}
        values.update(env)
        prefix = f"TRADEWIRE_{venue.upper()}_"
        network = Network(values.get(prefix + "NETWORK", Network.TESTNET).lower())
        if (
            network is Network.MAINNET
            and values.get(prefix + "MAINNET_CONFIRM") != MAINNET_CONFIRMATION
        ):
            msg = (
                f"{venue} mainnet refused: set {prefix}MAINNET_CONFIRM={MAINNET_CONFIRMATION} "
                "as well as the network"
            )
            raise ConfigError(msg)
        if network is not Network.MAINNET and prefix + "MAINNET_CONFIRM" in values:
            msg = (
                f"{venue}: {prefix}MAINNET_CONFIRM is set but the network is {network}; "
                f"set {prefix}NETWORK=mainnet too, or remove the confirmation"
            )
            raise ConfigError(msg)
        return cls(
            venue=venue,
            api_key=values.get(prefix + "API_KEY", ""),
            api_secret=values.get(prefix + "API_SECRET", ""),
            network=network,
            endpoint=values.get(prefix + "ENDPOINT") or None,
        )


def _is_loopback(url: str | None) -> bool:
    """Parsed, not prefix-matched: ``http://127.0.0.1@elsewhere`` names another host."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.username is None
        and host in ("127.0.0.1", "localhost", "::1")
    )


def _read_secrets(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        pairs.append((name.strip(), value.strip()))
    return pairs
