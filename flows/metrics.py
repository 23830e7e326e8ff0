"""Throughput metrics of the flows, in the default Prometheus registry.

Bytewax serves that registry on its API port (``BYTEWAX_DATAFLOW_API_ENABLED=true``, port 3030,
``/metrics``), next to its own per-step metrics, so one scrape sees both.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

NEWS_IN = Counter("tradewire_news_items", "News items read, by outcome of validation", ["outcome"])
DEAD_LETTERS = Counter("tradewire_dead_letters", "Items sent to the dead-letter sink", ["stage"])
SIGNALS = Counter("tradewire_signals", "Signals emitted", ["event_type"])
INTENTS = Counter("tradewire_order_intents", "Order intents emitted", ["symbol"])
REJECTIONS = Counter("tradewire_risk_rejections", "Orders refused by risk", ["rule"])
NLP_BATCH = Histogram(
    "tradewire_nlp_batch_size",
    "Items per batched model call",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
OTHER_ORDERS = Counter(
    "tradewire_execution_other_orders",
    "Orders on the shared intents topic left to another account's or venue's execution flow",
    ["account", "venue"],
)
