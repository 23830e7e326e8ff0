"""Position maths from fills: exact ``Decimal``, no I/O, the same for live, paper and backtest.

A position keeps its cost basis (what the open quantity cost, in quote) rather than only an
average price: a round trip that fully closes then realises exactly ``proceeds - cost``, with
no rounding left behind by the average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from records import Fill, Position, Side, Venue

ZERO = Decimal(0)
HUNDRED = Decimal(100)
QUOTE_ASSETS = ("USDT", "USDC", "FDUSD", "BUSD", "USD")


class UnsupportedFeeAssetError(ValueError):
    """A fee paid in an asset that is neither the symbol's base nor its quote."""


def split_symbol(symbol: str) -> tuple[str, str]:
    """``BTCUSDT`` -> ``("BTC", "USDT")``; raises ``ValueError`` for an unknown quote."""
    for quote in QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    msg = f"cannot split {symbol!r}: quote is none of {QUOTE_ASSETS}"
    raise ValueError(msg)


def fee_in_quote(fill: Fill) -> Decimal:
    """The fill's fee in quote currency (base-asset fees are valued at the fill price)."""
    base, quote = split_symbol(fill.symbol)
    if fill.fee_asset == quote:
        return fill.fee
    if fill.fee_asset == base:
        return fill.fee * fill.price
    msg = f"fill {fill.fill_id}: fee in {fill.fee_asset}, neither {base} nor {quote}"
    raise UnsupportedFeeAssetError(msg)


def signed_quantity(side: Side, quantity: Decimal) -> Decimal:
    return quantity if side is Side.BUY else -quantity


@dataclass(frozen=True, slots=True)
class PositionState:
    """Net position in one symbol; ``quantity`` is signed (short < 0), money is in quote."""

    symbol: str
    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    """Cost basis of the open quantity (always >= 0)."""
    realised_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    """Funding received (> 0) or paid (< 0)."""

    @property
    def average_entry(self) -> Decimal:
        return self.cost / abs(self.quantity) if self.quantity else ZERO

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        if self.quantity > 0:
            return self.quantity * mark - self.cost
        if self.quantity < 0:
            return self.cost + self.quantity * mark
        return ZERO

    def net_pnl(self, mark: Decimal) -> Decimal:
        """Realised + unrealised - fees + funding."""
        return self.realised_pnl + self.unrealised_pnl(mark) - self.fees + self.funding

    def notional(self, mark: Decimal) -> Decimal:
        return abs(self.quantity) * mark


def apply_fill(
    pos: PositionState, side: Side, quantity: Decimal, price: Decimal, fee: Decimal = ZERO
) -> PositionState:
    """Add, reduce, close or flip a position with one fill (``fee`` already in quote)."""
    if quantity <= 0 or price <= 0:
        msg = f"fill needs quantity > 0 and price > 0, got {quantity} @ {price}"
        raise ValueError(msg)
    delta = signed_quantity(side, quantity)
    fees = pos.fees + fee
    if pos.quantity == 0 or (pos.quantity > 0) == (delta > 0):
        return replace(
            pos, quantity=pos.quantity + delta, cost=pos.cost + quantity * price, fees=fees
        )
    held = abs(pos.quantity)
    closing = min(quantity, held)
    cost_closed = pos.cost if closing == held else pos.cost * closing / held
    proceeds = closing * price
    gain = proceeds - cost_closed if pos.quantity > 0 else cost_closed - proceeds
    realised = pos.realised_pnl + gain
    if quantity < held:
        return replace(
            pos,
            quantity=pos.quantity + delta,
            cost=pos.cost - cost_closed,
            realised_pnl=realised,
            fees=fees,
        )
    opened = quantity - held
    return replace(
        pos,
        quantity=signed_quantity(side, opened),
        cost=opened * price,
        realised_pnl=realised,
        fees=fees,
    )


def apply_fill_record(pos: PositionState, fill: Fill) -> PositionState:
    """``apply_fill`` for a venue ``Fill``; raises ``UnsupportedFeeAssetError`` (e.g. BNB fees)."""
    if fill.symbol != pos.symbol:
        msg = f"fill {fill.fill_id} is for {fill.symbol}, position is {pos.symbol}"
        raise ValueError(msg)
    return apply_fill(pos, fill.side, fill.quantity, fill.price, fee_in_quote(fill))


def apply_funding(pos: PositionState, amount: Decimal) -> PositionState:
    """Book a funding payment: positive received, negative paid."""
    return replace(pos, funding=pos.funding + amount)


def position_from_fills(symbol: str, fills: Iterable[Fill]) -> PositionState:
    pos = PositionState(symbol)
    for fill in fills:
        pos = apply_fill_record(pos, fill)
    return pos


def to_record(pos: PositionState, account: str, venue: Venue, at: datetime) -> Position:
    return Position(
        account=account,
        venue=venue,
        symbol=pos.symbol,
        quantity=pos.quantity,
        average_entry=pos.average_entry,
        realised_pnl=pos.realised_pnl,
        fees=pos.fees,
        funding=pos.funding,
        updated_at=at,
    )


def from_record(record: Position) -> PositionState:
    return PositionState(
        symbol=record.symbol,
        quantity=record.quantity,
        cost=abs(record.quantity) * record.average_entry,
        realised_pnl=record.realised_pnl,
        fees=record.fees,
        funding=record.funding,
    )


def equity(
    initial: Decimal, positions: Iterable[PositionState], marks: Mapping[str, Decimal]
) -> Decimal:
    """Starting capital plus every position's net PnL; unmarked positions count at entry."""
    total = initial
    for pos in positions:
        total += pos.net_pnl(marks.get(pos.symbol, pos.average_entry))
    return total


def drawdown_pct(peak: Decimal, current: Decimal) -> Decimal:
    """Percentage below the peak (0 at or above it; 100 when a positive peak is all lost)."""
    if peak <= 0 or current >= peak:
        return ZERO
    return (peak - current) * HUNDRED / peak


def max_drawdown_pct(curve: Iterable[Decimal]) -> Decimal:
    """Largest peak-to-trough fall of an equity curve, in percent."""
    peak: Decimal | None = None
    worst = ZERO
    for value in curve:
        peak = value if peak is None else max(peak, value)
        worst = max(worst, drawdown_pct(peak, value))
    return worst


def position_after_fill(account: str, current: Position | None, fill: Fill) -> Position:
    """The stored position after one more fill (the update a portfolio store applies)."""
    pos = from_record(current) if current is not None else PositionState(fill.symbol)
    return to_record(apply_fill_record(pos, fill), account, fill.venue, fill.filled_at)


@dataclass(frozen=True, slots=True)
class PnlSummary:
    """Account totals at one instant, in quote currency."""

    equity: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    fees: Decimal
    funding: Decimal


def summarise(
    initial: Decimal, positions: Iterable[PositionState], marks: Mapping[str, Decimal]
) -> PnlSummary:
    """Totals over positions; unmarked positions count at their entry (no unrealised PnL)."""
    realised = unrealised = fees = funding = ZERO
    for pos in positions:
        realised += pos.realised_pnl
        unrealised += pos.unrealised_pnl(marks.get(pos.symbol, pos.average_entry))
        fees += pos.fees
        funding += pos.funding
    return PnlSummary(
        equity=initial + realised + unrealised - fees + funding,
        realised_pnl=realised,
        unrealised_pnl=unrealised,
        fees=fees,
        funding=funding,
    )
