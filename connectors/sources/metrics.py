"""Prometheus metrics for sources: throughput, errors, reconnects and silence, per source name."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ITEMS = Counter("tradewire_source_items", "News items emitted by a source", ["source"])
DEAD_LETTERS = Counter(
    "tradewire_source_dead_letters", "Payloads a source could not parse", ["source"]
)
ERRORS = Counter(
    "tradewire_source_errors",
    "Fetch/connection errors by kind (http_5xx, network, ...)",
    ["source", "kind"],
)
RECONNECTS = Counter("tradewire_source_reconnects", "Stream reconnect attempts", ["source"])
SILENT = Gauge(
    "tradewire_source_silent", "1 while a source has produced nothing for too long", ["source"]
)
LAST_ITEM = Gauge(
    "tradewire_source_last_item_timestamp_seconds",
    "Unix time of the last item a source emitted",
    ["source"],
)
