"""Account ledger from fills: cash, netted positions, funding, and round-trip trades.

A trade is a round trip of the *net* position of a symbol: it opens when the position leaves
zero and closes when it returns to zero (a fill that flips the side closes one trade and opens
the next). That definition always adds up to the account's equity, whatever mix of entries,
stops and opposite signals produced the fills. The trade is credited to the order that opened it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from operators.analytics.trades import ClosedTrade
from records import Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TradeMeta:
    """Where an entry order came from, for the breakdowns."""

    symbol: str
    asset: str
    event_type: str
    source: str
    playbook: str
    signal_id: str
    decided_at: datetime


@dataclass(slots=True)
class _Open:
    meta: TradeMeta
    trade_id: str
    side: Side
    entry_time: datetime
    qty_in: Decimal = ZERO
    cost_in: Decimal = ZERO
    qty_out: Decimal = ZERO
    cost_out: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO


@dataclass
class Ledger:
    cash: Decimal
    positions: dict[str, Decimal] = field(default_factory=dict)
    """Signed net quantity per symbol."""
    trades: list[ClosedTrade] = field(default_factory=list)
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    _open: dict[str, _Open] = field(default_factory=dict)

    def fill(
        self,
        *,
        order_id: str,
        symbol: str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
        at: datetime,
        meta: TradeMeta | None,
        reason: str,
    ) -> None:
        """Apply one fill; ``meta`` describes the order if it may open a trade, ``reason`` how
        it would close one (``stop_loss``, ``take_profit``, ``time_exit``, ``signal``, ``end``)."""
        if quantity <= 0:
            msg = f"fill quantity must be > 0, got {quantity}"
            raise ValueError(msg)
        signed = quantity if side is Side.BUY else -quantity
        self.cash -= signed * price + fee
        self.fees += fee
        pos = self.positions.get(symbol, ZERO)
        closing = min(quantity, abs(pos)) if pos * signed < 0 else ZERO
        opening = quantity - closing
        if closing:
            trade = self._open[symbol]
            trade.qty_out += closing
            trade.cost_out += closing * price
            trade.fees += fee * closing / quantity
            if closing == abs(pos):
                self._finish(symbol, at, reason)
        if opening:
            trade_or_none = self._open.get(symbol)
            if trade_or_none is None:
                origin = meta or TradeMeta(symbol, symbol, "UNKNOWN", "", "", "", at)
                trade_or_none = _Open(origin, order_id, side, at)
                self._open[symbol] = trade_or_none
            trade_or_none.qty_in += opening
            trade_or_none.cost_in += opening * price
            trade_or_none.fees += fee * opening / quantity
        new = pos + signed
        if new:
            self.positions[symbol] = new
        else:
            self.positions.pop(symbol, None)

    def _finish(self, symbol: str, at: datetime, reason: str) -> None:
        t = self._open.pop(symbol)
        m = t.meta
        self.trades.append(
            ClosedTrade(
                trade_id=t.trade_id,
                symbol=symbol,
                asset=m.asset,
                side=t.side,
                quantity=t.qty_in,
                entry_time=t.entry_time,
                entry_price=t.cost_in / t.qty_in,
                exit_time=at,
                exit_price=t.cost_out / t.qty_out,
                fees=t.fees,
                funding=t.funding,
                exit_reason=reason,
                event_type=m.event_type,
                source=m.source,
                playbook=m.playbook,
                signal_id=m.signal_id,
                decided_at=m.decided_at,
            )
        )

    def charge_funding(self, marks: Mapping[str, Decimal], rate: Decimal) -> Decimal:
        """One perpetual funding exchange: longs pay ``rate x notional`` to shorts (rate > 0)."""
        total = ZERO
        for symbol, qty in sorted(self.positions.items()):
            mark = marks.get(symbol)
            if mark is None:
                continue
            paid = qty * mark * rate
            total += paid
            self._open[symbol].funding += paid
        self.cash -= total
        self.funding += total
        return total

    def equity(self, marks: Mapping[str, Decimal]) -> Decimal:
        """Cash plus positions at ``marks`` (a linear account: cash already holds the PnL)."""
        return self.cash + sum(
            (qty * marks.get(sym, ZERO) for sym, qty in self.positions.items()), ZERO
        )

    def open_symbols(self) -> tuple[str, ...]:
        return tuple(sorted(self.positions))
