"""Playbooks: per event type, what a signal should make us do (before risk decides how much).

The mapping from news to orders is configuration (``flows/playbooks.toml``), not code, so it can
be reviewed and changed without touching the flow. Every one of the nine event types must have
a playbook, even if only to say ``enabled = false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Literal

import msgspec

from models.reaction_table import ReactionTable, ReactionTableError, load_table, market_key
from operators.market import Instrument, MarketSnapshot
from operators.proposal import ProposedOrder
from operators.tomlconfig import ConfigError, convert, read_trading_toml
from records import EventType, Market, OrderType, Sentiment, Side, Signal, TimeInForce, Venue

SideChoice = Literal["BUY", "SELL", "NONE"]
BPS = Decimal(10_000)
HUNDRED = Decimal(100)


class ExitSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Distance of a stop-loss or take-profit from the entry: a percentage or ATR multiples."""

    kind: Literal["pct", "atr"]
    value: Decimal

    def __post_init__(self) -> None:
        if self.value <= 0:
            msg = f"exit value must be > 0, got {self.value}"
            raise ValueError(msg)

    def distance(self, price: Decimal, atr: Decimal | None) -> Decimal | None:
        if self.kind == "pct":
            return price * self.value / HUNDRED
        return atr * self.value if atr is not None else None


class Playbook(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    positive: SideChoice = "BUY"
    negative: SideChoice = "SELL"
    neutral: SideChoice = "NONE"
    order_type: Literal["market", "limit"] = "market"
    limit_offset_bps: Decimal = Decimal(0)
    """Limit price offset from the last price: positive goes through the market (a marketable
    limit that caps slippage), negative rests behind it."""
    time_in_force: TimeInForce = TimeInForce.GTC
    stop_loss: ExitSpec | None = None
    take_profit: ExitSpec | None = None
    hold_seconds: int | None = None
    min_confidence: float = 0.0
    min_sentiment_confidence: float = 0.0
    """Floor on the model's calibrated sentiment probability: the side comes from the
    sentiment, so a coin-flip sentiment is a coin-flip side."""
    assets: tuple[str, ...] = ("*",)
    """Assets this playbook may trade; ``"*"`` means any asset with a symbol."""
    use_proxy: bool = False
    """Send signals on assets without a tradable symbol (or on no asset) to the proxy symbol."""
    max_orders: int = 3

    def __post_init__(self) -> None:
        if self.hold_seconds is not None and self.hold_seconds <= 0:
            msg = "hold_seconds must be > 0"
            raise ValueError(msg)
        for name in ("min_confidence", "min_sentiment_confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                msg = f"{name} must be within [0, 1]"
                raise ValueError(msg)
        if self.max_orders < 1:
            msg = "max_orders must be >= 1"
            raise ValueError(msg)
        sl = self.stop_loss
        if sl is not None and sl.kind == "pct" and sl.value >= HUNDRED:
            msg = "a percentage stop_loss must be < 100"
            raise ValueError(msg)

    def side_for(self, sentiment: Sentiment) -> Side | None:
        choice = {
            Sentiment.POSITIVE: self.positive,
            Sentiment.NEGATIVE: self.negative,
            Sentiment.NEUTRAL: self.neutral,
        }[sentiment]
        return None if choice == "NONE" else Side(choice)


class Defaults(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    account: str = "paper"
    venue: Venue = Venue.SIMULATOR
    market: Market = Market.LINEAR
    proxy_symbol: str | None = None
    """Broad-market symbol for playbooks with ``use_proxy`` (must be a value of ``symbols``)."""
    atr_period: int = 14
    """Bars the flow should average for the ATR in each ``MarketSnapshot``."""
    reactions: str | None = None
    """Price-reaction table for sizing: a version in ``models/reactions/`` or a ``.json`` path
    (relative to the config file). None: sizes ignore history."""


class PlaybookConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    defaults: Defaults
    symbols: dict[str, str]
    """Asset (as on signals, e.g. ``BTC``) to tradable symbol (``BTCUSDT``)."""
    instruments: dict[str, Instrument]
    playbooks: dict[EventType, Playbook]
    reaction_table: ReactionTable | None = None
    """Loaded once from ``defaults.reactions`` by ``parse_playbook_config``."""

    def __post_init__(self) -> None:
        missing = [e.value for e in EventType if e not in self.playbooks]
        if missing:
            msg = f"no playbook for event type(s) {missing}"
            raise ValueError(msg)
        unpriced = sorted(s for s in set(self.symbols.values()) if s not in self.instruments)
        if unpriced:
            msg = f"symbols without an [instruments] entry: {unpriced}"
            raise ValueError(msg)
        proxy = self.defaults.proxy_symbol
        if proxy is not None and proxy not in self.symbols.values():
            msg = f"proxy_symbol {proxy!r} is not a value of [symbols]"
            raise ValueError(msg)

    def asset_of(self, symbol: str) -> str:
        return next(a for a, s in self.symbols.items() if s == symbol)


def parse_playbook_config(source: str | Path) -> PlaybookConfig:
    """Load the playbook view of the trading TOML (text or path); raises ``ConfigError``."""
    data = read_trading_toml(source)
    view = {k: data.get(k, {}) for k in ("defaults", "symbols", "instruments", "playbooks")}
    config = convert(view, PlaybookConfig, "playbooks")
    ref = config.defaults.reactions
    if ref is None:
        return config
    base = source.parent if isinstance(source, Path) else None
    try:
        table = load_table(ref, base)
    except ReactionTableError as exc:
        msg = f"invalid trading config (playbooks.defaults.reactions): {exc}"
        raise ConfigError(msg) from exc
    return msgspec.structs.replace(config, reaction_table=table)


def targets_for(signal: Signal, config: PlaybookConfig) -> tuple[tuple[str, str, bool], ...]:
    """``(symbol, asset, via_proxy)`` the signal's playbook may trade, in order, deduplicated.

    The flow calls this (through ``symbols_for``) to learn which prices to fetch.
    """
    pb = config.playbooks[signal.event_type]
    if not pb.enabled:
        return ()
    proxy = config.defaults.proxy_symbol if pb.use_proxy else None
    out: list[tuple[str, str, bool]] = []
    seen: set[str] = set()

    def add(symbol: str, asset: str, via_proxy: bool) -> None:
        if symbol not in seen and len(out) < pb.max_orders:
            seen.add(symbol)
            out.append((symbol, asset, via_proxy))

    for raw in signal.assets:
        asset = raw.upper()
        symbol = config.symbols.get(asset)
        if symbol is not None and ("*" in pb.assets or asset in pb.assets):
            add(symbol, asset, False)
        elif symbol is None and proxy is not None:
            add(proxy, config.asset_of(proxy), True)
    if not signal.assets and proxy is not None:
        add(proxy, config.asset_of(proxy), True)
    return tuple(out)


def symbols_for(signal: Signal, config: PlaybookConfig) -> tuple[str, ...]:
    """Symbols whose ``MarketSnapshot`` ``propose_orders`` will want for this signal."""
    return tuple(t[0] for t in targets_for(signal, config))


def propose_orders(
    signal: Signal, config: PlaybookConfig, market: Mapping[str, MarketSnapshot]
) -> list[ProposedOrder]:
    """Turn a signal into pre-risk orders per its playbook; pure (market data is passed in).

    No proposal at all means the playbook does not trade this signal (disabled, neutral
    sentiment, no allowed symbol). Missing market data still yields a proposal, flagged, so
    that the risk engine records the refusal.
    """
    pb = config.playbooks[signal.event_type]
    side = pb.side_for(signal.sentiment)
    if side is None:
        return []
    orders: list[ProposedOrder] = []
    for leg, (symbol, asset, via_proxy) in enumerate(targets_for(signal, config)):
        instrument = config.instruments[symbol]
        snap = market.get(symbol)
        ref = snap.last_price if snap else None
        atr = snap.atr if snap else None
        limit = stop = take = None
        issue: str | None = None
        if snap is None:
            issue = f"no market snapshot for {symbol}"
        elif snap.last_price <= 0:
            issue = f"non-positive last price {snap.last_price} for {symbol}"
        else:
            sign = 1 if side is Side.BUY else -1
            if pb.order_type == "limit":
                limit = instrument.round_price(
                    snap.last_price * (1 + sign * pb.limit_offset_bps / BPS)
                )
            stop, take, issue = _exits(pb, side, snap, instrument, symbol)
        via = f" via proxy {symbol}" if via_proxy else ""
        reaction = (
            config.reaction_table.expected_move(
                signal.event_type, market_key(asset) if via_proxy else asset
            )
            if config.reaction_table is not None
            else None
        )
        reason = (
            f"{signal.event_type.value} {signal.sentiment.value} "
            f"conf={signal.confidence:.2f}{_sentiment_conf(signal)} on {asset}{via}"
        )
        if reaction is not None:
            usual = f"{reaction.baseline:.2%}" if reaction.baseline is not None else "unknown"
            reason += (
                f"; expected 1h move {reaction.move:.2%} (usual {usual}, n={reaction.samples})"
            )
        orders.append(
            ProposedOrder(
                signal_id=signal.signal_id,
                news_key=signal.news_key,
                story_id=signal.story_id,
                model_version=signal.model_version,
                playbook=signal.event_type.value,
                event_type=signal.event_type,
                account=config.defaults.account,
                venue=config.defaults.venue,
                market=config.defaults.market,
                symbol=symbol,
                asset=asset,
                leg=leg,
                side=side,
                order_type=OrderType.LIMIT if pb.order_type == "limit" else OrderType.MARKET,
                time_in_force=pb.time_in_force,
                limit_price=limit,
                stop_loss=stop,
                take_profit=take,
                hold_seconds=pb.hold_seconds,
                confidence=signal.confidence,
                min_confidence=pb.min_confidence,
                sentiment_confidence=signal.sentiment_confidence,
                min_sentiment_confidence=pb.min_sentiment_confidence,
                reference_price=ref,
                atr=atr,
                price_as_of=snap.as_of if snap else None,
                market_data_issue=issue,
                expected_move=reaction.move if reaction else None,
                baseline_move=reaction.baseline if reaction else None,
                reaction_samples=reaction.samples if reaction else 0,
                reason=reason,
                created_at=signal.received_at,
            )
        )
    return orders


def _sentiment_conf(signal: Signal) -> str:
    conf = signal.sentiment_confidence
    return "" if conf is None else f" sentiment_conf={conf:.2f}"


def _exits(
    pb: Playbook, side: Side, snap: MarketSnapshot, instrument: Instrument, symbol: str
) -> tuple[Decimal | None, Decimal | None, str | None]:
    """Stop-loss and take-profit prices, or why they cannot be set (never silently dropped)."""
    sign = 1 if side is Side.BUY else -1
    prices: list[Decimal | None] = []
    for name, spec, direction in (
        ("stop_loss", pb.stop_loss, -1),
        ("take_profit", pb.take_profit, 1),
    ):
        if spec is None:
            prices.append(None)
            continue
        dist = spec.distance(snap.last_price, snap.atr)
        if dist is None:
            return None, None, f"no ATR for {symbol}: cannot place {name}"
        price = instrument.round_price(snap.last_price + sign * direction * dist)
        if price <= 0:
            return None, None, f"{name} for {symbol} would be {price} (<= 0)"
        prices.append(price)
    return prices[0], prices[1], None
