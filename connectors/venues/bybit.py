"""Bybit V5 execution (linear USDT perpetuals and spot) through the real ``pybit`` client.

Why these choices:
- ``orderLinkId`` is derived from the intent id (``ids.venue_client_id``), so a re-delivered
  intent hits Bybit's duplicate check (110072 / 170141); the adapter then queries and returns
  the existing order: submit is idempotent across retries and restarts.
- pybit's own retry loop sleeps on 10006 without jitter, so it is switched off (a retry-code set
  that matches nothing) and ``RetryPolicy`` retries what ``classify`` calls retryable.
- Stop-loss / take-profit ride on the order (``stopLoss`` / ``takeProfit``), which Bybit
  supports natively; time exits (``hold_seconds``) are the execution flow's (operators.time_exit).
- Quantities are rounded down to ``qtyStep`` and prices to ``tickSize`` from instruments-info.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from connectors.venues.base import before_any_fill, decimal_or_zero
from connectors.venues.config import Network, VenueConfig
from connectors.venues.ids import venue_client_id
from connectors.venues.instruments import Instrument, round_price, round_quantity
from connectors.venues.retry import RetryPolicy, VenueError
from records import (
    Clock,
    Fill,
    Market,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Side,
    SystemClock,
    TimeInForce,
    Venue,
)

log = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset({10000, 10002, 10006, 10016, 10019, 10429, 170007, 170146})
DUPLICATE_CODES = frozenset({110072, 170141})
NO_INTERNAL_RETRY = frozenset({-1})
"""pybit retries on codes in ``retry_codes`` (and an empty set means its defaults)."""

_STATUS = {
    "New": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
    "Untriggered": OrderStatus.UNTRIGGERED,
    "Triggered": OrderStatus.NEW,
    "Deactivated": OrderStatus.CANCELED,
}
_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
_TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
_CATEGORY = {Market.LINEAR: "linear", Market.SPOT: "spot"}


def classify(exc: Exception) -> VenueError:
    """Retryable: rate limits, timestamp drift, server-side and network failures."""
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, InvalidRequestError):
        code = int(exc.status_code)
        return VenueError(code, str(exc.message), retryable=code in RETRYABLE_CODES)
    if isinstance(exc, FailedRequestError):
        status = int(exc.status_code)
        return VenueError(status, str(exc.message), retryable=status >= 500 or status in (403, 429))
    if isinstance(exc, requests.exceptions.RequestException):
        return VenueError("network", type(exc).__name__, retryable=True)
    return VenueError("unexpected", f"{type(exc).__name__}: {exc}", retryable=False)


class BybitExecutionClient:
    """ExecutionClient for Bybit; one instance serves both the linear and the spot category."""

    venue = Venue.BYBIT

    def __init__(
        self,
        config: VenueConfig,
        *,
        account: str = "bybit",
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        session: HTTP | None = None,
    ) -> None:
        self.config = config
        self.account = account
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self._session = session
        self._instruments: dict[tuple[Market, str], Instrument] = {}
        self._market_of: dict[str, Market] = {}
        self._tracked: dict[str, OrderUpdate] = {}
        self._seen_fills: set[str] = set()

    # ------------------------------------------------------------------ plumbing

    @property
    def session(self) -> HTTP:
        """Built on first use, never in the constructor (no I/O before it is needed)."""
        if self._session is None:
            session = HTTP(
                testnet=self.config.network is not Network.MAINNET,
                api_key=self.config.api_key,
                api_secret=self.config.api_secret,
                max_retries=1,
                retry_codes=set(NO_INTERNAL_RETRY),
                timeout=10,
            )
            if self.config.endpoint:
                session.endpoint = self.config.endpoint.rstrip("/")
            self._session = session
        return self._session

    def _call(self, func: Callable[..., Any], **params: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.retry.run(lambda: func(**params), classify)
        result: dict[str, Any] = response.get("result") or {}
        return result

    def instrument(self, market: Market, symbol: str) -> Instrument:
        key = (market, symbol)
        if key not in self._instruments:
            rows = self._call(
                self.session.get_instruments_info, category=_CATEGORY[market], symbol=symbol
            ).get("list", [])
            if not rows:
                raise VenueError(10001, f"unknown symbol {symbol}", retryable=False)
            row = rows[0]
            lot = row["lotSizeFilter"]
            step = decimal_or_zero(lot.get("qtyStep") or lot.get("basePrecision"))
            self._instruments[key] = Instrument(
                symbol=symbol,
                market=market,
                base=row["baseCoin"],
                quote=row["quoteCoin"],
                tick_size=decimal_or_zero(row["priceFilter"]["tickSize"]),
                lot_size=step,
                min_qty=decimal_or_zero(lot["minOrderQty"]),
                max_qty=decimal_or_zero(lot["maxOrderQty"]),
                min_notional=decimal_or_zero(lot.get("minNotionalValue") or lot.get("minOrderAmt")),
            )
        return self._instruments[key]

    def _now(self) -> datetime:
        return self.clock.now()

    def _failed(
        self, cid: str, symbol: str, error: VenueError, intent: OrderIntent | None = None
    ) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=cid,
            venue=self.venue,
            symbol=symbol,
            status=OrderStatus.REJECTED,
            side=intent.side if intent else None,
            quantity=intent.quantity if intent else Decimal(0),
            reason=f"bybit {error.code}: {error.message}",
            retryable=error.retryable,
            updated_at=self._now(),
        )

    def _update(self, row: dict[str, Any]) -> OrderUpdate:
        avg = decimal_or_zero(row.get("avgPrice"))
        updated = int(row.get("updatedTime") or 0)
        return OrderUpdate(
            client_order_id=row["orderLinkId"],
            venue=self.venue,
            symbol=row["symbol"],
            status=_STATUS.get(row["orderStatus"], OrderStatus.NEW),
            venue_order_id=row["orderId"],
            side=Side.BUY if row["side"] == "Buy" else Side.SELL,
            quantity=decimal_or_zero(row["qty"]),
            filled_quantity=decimal_or_zero(row.get("cumExecQty")),
            average_price=avg if avg else None,
            reason=row.get("rejectReason") if row["orderStatus"] == "Rejected" else None,
            updated_at=datetime.fromtimestamp(updated / 1000, UTC) if updated else self._now(),
        )

    # ------------------------------------------------------------------ ExecutionClient

    def submit(self, intent: OrderIntent) -> OrderUpdate:
        cid = venue_client_id(intent.client_order_id)
        market = intent.market
        self._market_of[cid] = market
        try:
            params = self._order_params(intent, cid)
            self._call(self.session.place_order, **params)
        except VenueError as error:
            if error.code in DUPLICATE_CODES:
                log.info("bybit order %s already exists; returning it", cid)
                return self._track(self.query(intent.symbol, cid))
            log.warning("bybit order %s failed: %s", cid, error)
            return self._failed(cid, intent.symbol, error, intent)
        placed = self.query(intent.symbol, cid)
        if placed.filled_quantity > 0:
            self._tracked[cid] = before_any_fill(placed)
            return placed
        return self._track(placed)

    def _order_params(self, intent: OrderIntent, cid: str) -> dict[str, Any]:
        market = intent.market
        inst = self.instrument(market, intent.symbol)
        buy = intent.side is Side.BUY
        qty = round_quantity(inst, intent.quantity)
        if qty <= 0:
            raise VenueError(10001, f"quantity {intent.quantity} rounds to zero", retryable=False)
        params: dict[str, Any] = {
            "category": _CATEGORY[market],
            "symbol": intent.symbol,
            "side": "Buy" if buy else "Sell",
            "orderType": "Limit" if intent.order_type is OrderType.LIMIT else "Market",
            "qty": str(qty),
            "orderLinkId": cid,
        }
        if intent.order_type is not OrderType.MARKET and intent.limit_price is None:
            raise VenueError(10001, f"{intent.order_type} needs limit_price", retryable=False)
        if intent.order_type is OrderType.LIMIT:
            assert intent.limit_price is not None
            params["price"] = str(round_price(inst, intent.limit_price, up=not buy))
            params["timeInForce"] = _TIF[intent.time_in_force]
        elif intent.order_type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
            assert intent.limit_price is not None
            rising = (intent.order_type is OrderType.STOP_MARKET) == buy
            params["triggerPrice"] = str(round_price(inst, intent.limit_price))
            params["triggerDirection"] = 1 if rising else 2
            if market is Market.SPOT:
                params["orderFilter"] = "StopOrder"
        if market is Market.SPOT and intent.order_type is not OrderType.LIMIT:
            params["marketUnit"] = "baseCoin"
        if intent.reduce_only and market is Market.LINEAR:
            params["reduceOnly"] = True
        if intent.stop_loss is not None:
            params["stopLoss"] = str(round_price(inst, intent.stop_loss))
        if intent.take_profit is not None:
            params["takeProfit"] = str(round_price(inst, intent.take_profit))
        return params

    def _track(self, update: OrderUpdate) -> OrderUpdate:
        if update.status not in _TERMINAL:
            self._tracked[update.client_order_id] = update
        else:
            self._tracked.pop(update.client_order_id, None)
        return update

    def _markets_for(self, cid: str) -> list[Market]:
        known = self._market_of.get(cid)
        return [known] if known else [Market.LINEAR, Market.SPOT]

    def query(self, symbol: str, client_order_id: str) -> OrderUpdate:
        last: VenueError | None = None
        for market in self._markets_for(client_order_id):
            try:
                rows = self._call(
                    self.session.get_open_orders,
                    category=_CATEGORY[market],
                    symbol=symbol,
                    orderLinkId=client_order_id,
                ).get("list", [])
                if not rows:
                    rows = self._call(
                        self.session.get_order_history,
                        category=_CATEGORY[market],
                        symbol=symbol,
                        orderLinkId=client_order_id,
                    ).get("list", [])
            except VenueError as error:
                last = error
                continue
            if rows:
                self._market_of[client_order_id] = market
                return self._update(rows[0])
        return self._failed(
            client_order_id,
            symbol,
            last or VenueError(110001, "Order does not exist", retryable=False),
        )

    def amend(
        self,
        symbol: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
    ) -> OrderUpdate:
        market = self._markets_for(client_order_id)[0]
        current = self.query(symbol, client_order_id)
        if current.status is OrderStatus.REJECTED:
            return current
        inst = self.instrument(market, symbol)
        params: dict[str, Any] = {
            "category": _CATEGORY[market],
            "symbol": symbol,
            "orderLinkId": client_order_id,
        }
        if quantity is not None:
            params["qty"] = str(round_quantity(inst, quantity))
        if price is not None:
            field = "triggerPrice" if current.status is OrderStatus.UNTRIGGERED else "price"
            params[field] = str(round_price(inst, price))
        try:
            self._call(self.session.amend_order, **params)
        except VenueError as error:
            return self._failed(client_order_id, symbol, error)
        # Tracking is left as it was: the next poll reports the trades since, then this state.
        return self.query(symbol, client_order_id)

    def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        market = self._markets_for(client_order_id)[0]
        try:
            self._call(
                self.session.cancel_order,
                category=_CATEGORY[market],
                symbol=symbol,
                orderLinkId=client_order_id,
            )
        except VenueError as error:
            return self._failed(client_order_id, symbol, error)
        # Tracking is left as it was: the next poll reports the trades since, then this state.
        return self.query(symbol, client_order_id)

    def open_orders(self, symbol: str | None = None) -> Sequence[OrderUpdate]:
        out: list[OrderUpdate] = []
        for market in (Market.LINEAR, Market.SPOT):
            params: dict[str, Any] = {"category": _CATEGORY[market]}
            if symbol:
                params["symbol"] = symbol
            elif market is Market.LINEAR:
                params["settleCoin"] = "USDT"
            rows = self._call(self.session.get_open_orders, **params).get("list", [])
            for row in rows:
                self._market_of[row["orderLinkId"]] = market
                out.append(self._track(self._update(row)))
        return out

    def positions(self) -> Sequence[Position]:
        rows = self._call(self.session.get_positions, category="linear", settleCoin="USDT").get(
            "list", []
        )
        out = []
        for r in rows:
            size = decimal_or_zero(r["size"])
            updated = int(r.get("updatedTime") or 0)
            out.append(
                Position(
                    account=self.account,
                    venue=self.venue,
                    symbol=r["symbol"],
                    quantity=size if r["side"] != "Sell" else -size,
                    average_entry=decimal_or_zero(r["avgPrice"]),
                    realised_pnl=decimal_or_zero(r.get("cumRealisedPnl")),
                    updated_at=datetime.fromtimestamp(updated / 1000, UTC)
                    if updated
                    else self._now(),
                )
            )
        return out

    def balances(self) -> dict[str, Decimal]:
        rows = self._call(self.session.get_wallet_balance, accountType="UNIFIED").get("list", [])
        return {
            c["coin"]: decimal_or_zero(c["walletBalance"])
            for row in rows
            for c in row.get("coin", [])
        }

    def poll_updates(self) -> Sequence[OrderUpdate | Fill]:
        """Re-query orders this client placed that were still open; report changes and fills."""
        out: list[OrderUpdate | Fill] = []
        for cid, before in list(self._tracked.items()):
            try:
                now = self.query(before.symbol, cid)
            except VenueError as error:
                log.warning("bybit poll of %s failed: %s", cid, error)
                continue
            if now.filled_quantity != before.filled_quantity:
                out.extend(self._fills(before.symbol, cid))
            if (now.status, now.filled_quantity) != (before.status, before.filled_quantity):
                out.append(now)
            self._track(now)
        return out

    def _fills(self, symbol: str, cid: str) -> list[Fill]:
        market = self._markets_for(cid)[0]
        rows = self._call(
            self.session.get_executions, category=_CATEGORY[market], symbol=symbol, orderLinkId=cid
        ).get("list", [])
        fills = []
        for r in reversed(rows):
            if r["execId"] in self._seen_fills:
                continue
            self._seen_fills.add(r["execId"])
            fills.append(
                Fill(
                    fill_id=r["execId"],
                    client_order_id=cid,
                    venue=self.venue,
                    symbol=symbol,
                    side=Side.BUY if r["side"] == "Buy" else Side.SELL,
                    quantity=decimal_or_zero(r["execQty"]),
                    price=decimal_or_zero(r["execPrice"]),
                    fee=decimal_or_zero(r["execFee"]),
                    fee_asset=r.get("feeCurrency") or "USDT",
                    filled_at=datetime.fromtimestamp(int(r["execTime"]) / 1000, UTC),
                )
            )
        return fills
