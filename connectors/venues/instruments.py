"""Instrument filters (tick, lot, min notional) and the rounding every order must pass through.

The simulator rejects what a real venue would reject, and the adapters round quantities and
prices to the venue's grid before sending, so both sides share these few exact helpers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from records import Market


@dataclass(frozen=True, slots=True)
class Instrument:
    """Trading rules of one symbol on one market."""

    symbol: str
    market: Market
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal


def on_grid(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of ``step``."""
    return value % step == 0


def round_to_step(value: Decimal, step: Decimal, *, up: bool = False) -> Decimal:
    """Round ``value`` to a multiple of ``step`` (down unless ``up``), in the step's exponent."""
    units = (value / step).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return (units * step).quantize(step)


def round_quantity(instrument: Instrument, quantity: Decimal) -> Decimal:
    """Quantities always round toward zero: never trade more than was decided."""
    units = (quantity / instrument.lot_size).to_integral_value(rounding=ROUND_DOWN)
    return (units * instrument.lot_size).quantize(instrument.lot_size)


def round_price(instrument: Instrument, price: Decimal, *, up: bool = False) -> Decimal:
    return round_to_step(price, instrument.tick_size, up=up)


def _spec(
    symbol: str, market: Market, base: str, tick: str, lot: str, max_qty: str, notional: str
) -> Instrument:
    return Instrument(
        symbol=symbol,
        market=market,
        base=base,
        quote="USDT",
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        min_qty=Decimal(lot),
        max_qty=Decimal(max_qty),
        min_notional=Decimal(notional),
    )


DEFAULT_INSTRUMENTS: Mapping[Market, Mapping[str, Instrument]] = {
    Market.SPOT: {
        "BTCUSDT": _spec("BTCUSDT", Market.SPOT, "BTC", "0.01", "0.00001", "9000", "5"),
        "ETHUSDT": _spec("ETHUSDT", Market.SPOT, "ETH", "0.01", "0.0001", "9000", "5"),
    },
    Market.LINEAR: {
        "BTCUSDT": _spec("BTCUSDT", Market.LINEAR, "BTC", "0.1", "0.001", "1190", "5"),
        "ETHUSDT": _spec("ETHUSDT", Market.LINEAR, "ETH", "0.01", "0.01", "7240", "20"),
    },
}
"""Filters as the venues publish them for BTCUSDT and ETHUSDT (Binance spot and USDS-M values;
Bybit's are the same grid), so simulated rejections match real ones."""
