"""Venue-safe client order ids: a pure function of the intent's id, so re-delivery dedups.

Bybit ``orderLinkId`` and Binance ``newClientOrderId`` both allow at most 36 characters of
``[A-Za-z0-9_-]`` (Binance allows a few more, which we avoid because python-binance signs
them unencoded). Ids that already fit are used as they are; others become a hash.
"""

from __future__ import annotations

import hashlib
import re

MAX_LEN = 36
_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")
EXIT_SUFFIXES = ("-sl", "-tp")


def venue_client_id(client_order_id: str, *, reserve: int = 3) -> str:
    """Map an intent id to a venue id with ``reserve`` characters left for exit suffixes."""
    # An exit of an id that fitted (``<id>-sl``) fits the reserve it was kept for.
    exit_of_fitting = client_order_id.endswith(EXIT_SUFFIXES)
    limit = MAX_LEN if exit_of_fitting else MAX_LEN - reserve
    if _SAFE.match(client_order_id) and len(client_order_id) <= limit:
        return client_order_id
    digest = hashlib.sha256(client_order_id.encode()).hexdigest()
    return "tw" + digest[: limit - 2]
