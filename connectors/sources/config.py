"""The sources configuration file (TOML): which sources run, and how each is reached.

Only environment-variable *names* live here; secrets are read in ``build_part`` and wrapped in
``Secret``. Every struct refuses unknown keys, so a typo fails at load time with its path.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec


class ConfigError(ValueError):
    """The configuration file is unreadable or invalid; the message names the offending key."""


class Base(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Defaults(Base, frozen=True, kw_only=True):
    user_agent: str = "Tradewire/0.1 (+https://github.com/tradewire)"
    poll_interval_s: float = 60.0
    silence_after_s: float = 900.0
    """Report a source (log + ``tradewire_source_silent`` gauge) after this long without items."""
    max_bytes: int = 5_000_000
    """Largest response body or stream event read; larger ones become dead letters."""
    timeout_s: float = 30.0
    rate_per_s: float = 1.0
    """Default request rate per host (EDGAR and Etherscan set their own documented limits)."""
    remember: int = 5000
    """How many item ids a partition remembers to drop duplicates (kept in the snapshot)."""


class JsonFields(Base, frozen=True, kw_only=True):
    """Where a JSON message keeps each NewsItem field (dotted paths, e.g. ``data.headline``)."""

    id: str = "id"
    title: str = "title"
    body: str = "body"
    url: str = "url"
    author: str = "author"
    published_at: str = "published_at"
    items_path: str | None = None
    """Path of the item (or list of items) inside each message; None: the message is the item."""


class RssFeed(Base, frozen=True, kw_only=True):
    name: str
    url: str
    poll_interval_s: float | None = None
    websub: bool = False
    """Subscribe at the feed's advertised WebSub hub; pushes arrive on the webhook receiver."""
    categories: list[str] = []
    """Keep only entries with one of these category terms (empty: keep all)."""
    rate_per_s: float | None = None


class WebhookHook(Base, frozen=True, kw_only=True):
    name: str
    secret_env: str
    fields: JsonFields = JsonFields()


class WebhookConfig(Base, frozen=True, kw_only=True):
    name: str = "webhook"
    host: str = "127.0.0.1"
    port: int = 8088
    max_body_bytes: int = 1_000_000
    window_s: float = 300.0
    """Accepted clock skew of the signed timestamp; older deliveries are refused as replays."""
    signature_header: str = "X-Tradewire-Signature"
    timestamp_header: str = "X-Tradewire-Timestamp"
    hooks: list[WebhookHook] = []
    public_url: str | None = None
    """Base URL at which WebSub hubs reach this receiver (needed for ``websub = true`` feeds)."""
    websub_secret_env: str | None = None


class SseStream(Base, frozen=True, kw_only=True):
    name: str
    url: str
    events: list[str] = []
    """SSE event types to keep (empty: all)."""
    fields: JsonFields = JsonFields()
    headers_env: dict[str, str] = {}
    """Request header -> environment variable holding its value (e.g. Authorization)."""
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0


class WebSocketStream(Base, frozen=True, kw_only=True):
    name: str
    url: str
    subscribe: list[dict[str, Any]] = []
    """JSON messages sent after every (re)connect."""
    ping_interval_s: float = 20.0
    fields: JsonFields = JsonFields()
    accept_field: str | None = None
    accept_values: list[str] = []
    """Keep only messages whose ``accept_field`` is one of these (skips acks and heartbeats)."""
    resume_field: str | None = None
    """Path (in an item) of the server's sequence/cursor; enables resume after a reconnect."""
    resume_param: str | None = None
    """Query parameter that carries the last cursor when reconnecting."""
    resume_message: dict[str, Any] | None = None
    """Message sent after reconnecting; the string ``"$last_id"`` is replaced by the cursor."""
    headers_env: dict[str, str] = {}
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0


class XRule(Base, frozen=True, kw_only=True):
    value: str
    tag: str


class XStreamConfig(Base, frozen=True, kw_only=True):
    name: str = "x"
    base_url: str = "https://api.x.com"
    bearer_token_env: str = "X_BEARER_TOKEN"
    accounts: dict[str, list[str]] = {}
    """Tag -> handles (without @), e.g. ``political = ["realDonaldTrump"]``; one rule per tag."""
    rules: list[XRule] = []
    stall_timeout_s: float = 20.0
    """X sends a keep-alive every 20 s: silence longer than this means a dead connection."""
    max_429_backoff_s: float = 960.0


class EdgarConfig(Base, frozen=True, kw_only=True):
    name: str = "sec-edgar"
    base_url: str = "https://www.sec.gov"
    user_agent: str
    """SEC requires a declared User-Agent: company name and a contact e-mail."""
    forms: list[str] = msgspec.field(default_factory=lambda: ["8-K", "S-1", "19b-4"])
    companies: list[str] = []
    """CIKs whose own filing feeds are also polled (filtered to ``forms``)."""
    poll_interval_s: float = 60.0
    rate_per_s: float = 10.0
    count: int = 40


class FedConfig(Base, frozen=True, kw_only=True):
    name: str = "fed"
    base_url: str = "https://www.federalreserve.gov"
    feeds: list[str] = msgspec.field(default_factory=lambda: ["press_all", "speeches", "testimony"])
    poll_interval_s: float = 300.0
    calendar: bool = True
    calendar_poll_interval_s: float = 21600.0


class WatchedAddress(Base, frozen=True, kw_only=True):
    address: str
    label: str


class WatchedToken(Base, frozen=True, kw_only=True):
    contract: str
    symbol: str
    decimals: int
    min_amount: Decimal


class EtherscanConfig(Base, frozen=True, kw_only=True):
    name: str = "etherscan"
    base_url: str = "https://api.etherscan.io/v2/api"
    chain_id: int = 1
    api_key_env: str = "ETHERSCAN_API_KEY"
    addresses: list[WatchedAddress] = []
    tokens: list[WatchedToken] = []
    min_eth: Decimal = Decimal(1000)
    poll_interval_s: float = 15.0
    rate_per_s: float = 5.0


class SourcesConfig(Base, frozen=True, kw_only=True):
    defaults: Defaults = Defaults()
    rss: list[RssFeed] = []
    webhook: WebhookConfig | None = None
    sse: list[SseStream] = []
    websocket: list[WebSocketStream] = []
    x: XStreamConfig | None = None
    edgar: EdgarConfig | None = None
    fed: FedConfig | None = None
    etherscan: EtherscanConfig | None = None

    def names(self) -> list[str]:
        """Every configured source (partition) name, in file order."""
        found = [feed.name for feed in self.rss] + [s.name for s in self.sse]
        found += [w.name for w in self.websocket]
        if self.webhook is not None:
            found.append(self.webhook.name)
        for single in (self.x, self.edgar, self.fed, self.etherscan):
            if single is not None:
                found.append(single.name)
        return found


def _validate(config: SourcesConfig) -> None:
    names = config.names()
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"source names must be unique, repeated: {', '.join(duplicates)}")
    if config.edgar is not None:
        if "@" not in config.edgar.user_agent:
            raise ConfigError("edgar.user_agent must declare a contact e-mail (SEC fair access)")
        if not 0 < config.edgar.rate_per_s <= 10:
            raise ConfigError("edgar.rate_per_s must be in (0, 10]: SEC allows 10 requests/s")
    if config.etherscan is not None and not 0 < config.etherscan.rate_per_s <= 5:
        raise ConfigError("etherscan.rate_per_s must be in (0, 5]")
    websub = [feed.name for feed in config.rss if feed.websub]
    if websub and (config.webhook is None or config.webhook.public_url is None):
        raise ConfigError(f"feeds {websub} use websub: set webhook.public_url")
    if websub and config.webhook is not None and config.webhook.websub_secret_env is None:
        raise ConfigError(f"feeds {websub} use websub: set webhook.websub_secret_env")


def parse_config(text: str | bytes) -> SourcesConfig:
    """Decode and validate a TOML document; raises ``ConfigError`` with the offending path."""
    try:
        config = msgspec.toml.decode(text, type=SourcesConfig)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"invalid sources config: {exc}") from exc
    _validate(config)
    return config


def load_config(path: Path) -> SourcesConfig:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read sources config {path}: {exc}") from exc
    return parse_config(text)
