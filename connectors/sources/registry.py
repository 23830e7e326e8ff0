"""Build the Bytewax sources named in a ``SourcesConfig`` (no I/O: clients open in build_part)."""

from __future__ import annotations

import logging

from bytewax.inputs import Source

from connectors.sources import edgar, etherscan, fed, rss, sse, webhook, websocket, x_stream
from connectors.sources.config import SourcesConfig
from connectors.sources.runtime import SourceItem
from records import Clock

log = logging.getLogger(__name__)


def build_sources(
    config: SourcesConfig, clock: Clock, *, once: bool = False
) -> dict[str, Source[SourceItem]]:
    """One Bytewax source per source family, keyed by a step-id-safe name.

    With ``once`` every source reads what is there now and ends; the webhook receiver, which
    only ever waits for pushes, is left out.
    """
    d = config.defaults
    sources: dict[str, Source[SourceItem]] = {}
    feeds = [rss.spec_from_config(feed, d, config.webhook) for feed in config.rss]
    feeds += _family_feeds(config)
    if feeds:
        sources["feeds"] = rss.FeedSource(feeds, clock, once=once)
    if config.sse:
        specs = [
            sse.spec_from_config(
                s,
                user_agent=d.user_agent,
                max_bytes=d.max_bytes,
                remember=d.remember,
                silence_after_s=d.silence_after_s,
            )
            for s in config.sse
        ]
        sources["sse"] = sse.SseSource(specs, clock, once=once)
    if config.websocket:
        ws_specs = [
            websocket.spec_from_config(
                w,
                user_agent=d.user_agent,
                max_bytes=d.max_bytes,
                remember=d.remember,
                silence_after_s=d.silence_after_s,
            )
            for w in config.websocket
        ]
        sources["websocket"] = websocket.WebSocketSource(ws_specs, clock, once=once)
    if config.webhook is not None:
        if once:
            log.info("--once: webhook receiver %s not started (it only waits)", config.webhook.name)
        else:
            spec = webhook.spec_from_config(
                config.webhook, config.rss, remember=d.remember, silence_after_s=d.silence_after_s
            )
            sources["webhook"] = webhook.WebhookSource(spec, clock)
    sources.update(_family_sources(config, clock, once=once))
    return sources


def _family_feeds(config: SourcesConfig) -> list[rss.FeedSpec]:
    """Feed partitions of the families that are RSS/Atom underneath (EDGAR, Fed)."""
    specs: list[rss.FeedSpec] = []
    if config.edgar is not None:
        specs += edgar.feed_specs(config.edgar, config.defaults)
    if config.fed is not None:
        specs += fed.feed_specs(config.fed, config.defaults)
    return specs


def _family_sources(
    config: SourcesConfig, clock: Clock, *, once: bool
) -> dict[str, Source[SourceItem]]:
    out: dict[str, Source[SourceItem]] = {}
    if config.fed is not None and config.fed.calendar:
        out["fomc_calendar"] = fed.FomcCalendarSource(config.fed, config.defaults, clock, once=once)
    if config.etherscan is not None:
        out["etherscan"] = etherscan.EtherscanSource(
            config.etherscan, config.defaults, clock, once=once
        )
    if config.x is not None:
        out["x_stream"] = x_stream.XStreamSource(config.x, config.defaults, clock, once=once)
    return out
