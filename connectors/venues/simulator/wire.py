"""Number and time formats shared by the simulated venues' wire payloads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal


def fmt(value: Decimal) -> str:
    """Plain decimal text (never exponent notation), as exchanges print numbers."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def ms(instant: datetime) -> int:
    """Milliseconds since the epoch."""
    return int(instant.timestamp() * 1000)
