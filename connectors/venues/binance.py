"""Binance execution (spot and USDS-M futures) through the real ``python-binance`` client.

Why these choices:
- ``newClientOrderId`` / ``clientAlgoId`` come from the intent id, so a re-delivered intent hits
  Binance's duplicate check (-2010 "Duplicate order sent." / -4116); the adapter then queries
  and returns the existing order (idempotent across retries and restarts).
- The installed client sends futures STOP_MARKET / TAKE_PROFIT_MARKET to the algo-order
  endpoint, keyed by ``clientAlgoId``; the adapter remembers which ids are conditional.
- Binance has no attached SL/TP on a plain order: the adapter places reduce-only exits
  (``<id>-sl`` / ``<id>-tp``; spot: STOP_LOSS / TAKE_PROFIT sells) once ``poll_updates`` sees
  the entry filled. Time exits (``hold_seconds``) are the execution flow's (operators.time_exit).
- Errors are classified (``classify``): -1003 / 429 / 418 / 5xx / -1021 / network are retried
  with jittered backoff; everything else is final and becomes a REJECTED update with its code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import requests
from binance import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException

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

RETRYABLE_CODES = frozenset({-1000, -1001, -1003, -1006, -1007, -1008, -1015, -1021})
_STATUS = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
_ALGO_STATUS = {
    "NEW": OrderStatus.UNTRIGGERED,
    "TRIGGERING": OrderStatus.NEW,
    "TRIGGERED": OrderStatus.NEW,
    "FINISHED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}
_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
_CONDITIONAL = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})
_SPOT_TYPE = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT",
}


def classify(exc: Exception) -> VenueError:
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, BinanceAPIException):
        status = int(exc.status_code)
        code = int(exc.code or status)
        retryable = code in RETRYABLE_CODES or status in (418, 429) or status >= 500
        return VenueError(code, str(exc.message), retryable=retryable)
    if isinstance(exc, BinanceRequestException):
        return VenueError("invalid-response", str(exc.message), retryable=True)
    if isinstance(exc, requests.exceptions.RequestException):
        return VenueError("network", type(exc).__name__, retryable=True)
    return VenueError("unexpected", f"{type(exc).__name__}: {exc}", retryable=False)


UNKNOWN_ORDER = -2013


def _is_duplicate(error: VenueError) -> bool:
    return error.code == -4116 or (error.code == -2010 and "Duplicate" in error.message)


class BinanceExecutionClient:
    """ExecutionClient for Binance spot and USDS-M futures (one-way position mode)."""

    venue = Venue.BINANCE

    def __init__(
        self,
        config: VenueConfig,
        *,
        account: str = "binance",
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        client: Client | None = None,
    ) -> None:
        self.config = config
        self.account = account
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self._client = client
        self._instruments: dict[tuple[Market, str], Instrument] = {}
        self._market_of: dict[str, Market] = {}
        self._conditional: set[str] = set()
        self._tracked: dict[str, OrderUpdate] = {}
        self._pending_exits: dict[str, OrderIntent] = {}
        self._seen_fills: set[str] = set()

    @property
    def client(self) -> Client:
        """Built on first use with ``ping=False``: no I/O in the constructor."""
        if self._client is None:
            client = Client(
                self.config.api_key,
                self.config.api_secret,
                testnet=self.config.network is Network.TESTNET,
                ping=False,
            )
            if self.config.endpoint:
                base = self.config.endpoint.rstrip("/")
                client.testnet = False
                client.API_URL = base + "/api"
                client.FUTURES_URL = base + "/fapi"
            self._client = client
        return self._client

    def _call(self, func: Callable[..., Any], **params: Any) -> Any:
        return self.retry.run(lambda: func(**params), classify)

    def instrument(self, market: Market, symbol: str) -> Instrument:
        key = (market, symbol)
        if key not in self._instruments:
            if market is Market.SPOT:
                info = self._call(self.client.get_exchange_info)
            else:
                info = self._call(self.client.futures_exchange_info)
            row = next((s for s in info["symbols"] if s["symbol"] == symbol), None)
            if row is None:
                raise VenueError(-1121, "Invalid symbol.", retryable=False)
            filters = {f["filterType"]: f for f in row["filters"]}
            notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
            self._instruments[key] = Instrument(
                symbol=symbol,
                market=market,
                base=row["baseAsset"],
                quote=row["quoteAsset"],
                tick_size=decimal_or_zero(filters["PRICE_FILTER"]["tickSize"]),
                lot_size=decimal_or_zero(filters["LOT_SIZE"]["stepSize"]),
                min_qty=decimal_or_zero(filters["LOT_SIZE"]["minQty"]),
                max_qty=decimal_or_zero(filters["LOT_SIZE"]["maxQty"]),
                min_notional=decimal_or_zero(
                    notional.get("minNotional") or notional.get("notional")
                ),
            )
        return self._instruments[key]

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
            reason=f"binance {error.code}: {error.message}",
            retryable=error.retryable,
            updated_at=self.clock.now(),
        )

    def _update(self, row: dict[str, Any], *, algo: bool = False) -> OrderUpdate:
        updated = int(row.get("updateTime") or row.get("time") or 0)
        if algo:
            status = _ALGO_STATUS.get(row["algoStatus"], OrderStatus.NEW)
            filled = decimal_or_zero(row.get("executedQty"))
            avg = decimal_or_zero(row.get("actualPrice"))
            qty = decimal_or_zero(row["quantity"])
            cid = row["clientAlgoId"]
            venue_id = str(row["algoId"])
        else:
            status = _STATUS.get(row["status"], OrderStatus.NEW)
            if not row.get("isWorking", True):
                status = OrderStatus.UNTRIGGERED
            filled = decimal_or_zero(row.get("executedQty"))
            quote = decimal_or_zero(row.get("cummulativeQuoteQty") or row.get("cumQuote"))
            avg = quote / filled if filled else Decimal(0)
            qty = decimal_or_zero(row["origQty"])
            cid = row["clientOrderId"]
            venue_id = str(row["orderId"])
        return OrderUpdate(
            client_order_id=cid,
            venue=self.venue,
            symbol=row["symbol"],
            status=status,
            venue_order_id=venue_id,
            side=Side(row["side"]),
            quantity=qty,
            filled_quantity=filled,
            average_price=avg or None,
            updated_at=datetime.fromtimestamp(updated / 1000, UTC) if updated else self.clock.now(),
        )

    # ------------------------------------------------------------------ ExecutionClient

    def submit(self, intent: OrderIntent) -> OrderUpdate:
        cid = venue_client_id(intent.client_order_id)
        self._market_of[cid] = intent.market
        if intent.market is Market.LINEAR and intent.order_type in _CONDITIONAL:
            self._conditional.add(cid)
        # Binance refuses a repeated client id only among *open* orders: a re-delivered intent
        # whose order already filled would be placed again. Look first, and place only when
        # the venue says there is no such order (a failed look places nothing).
        try:
            self._fetch(intent.symbol, cid)
            duplicate = True
        except VenueError as error:
            if error.code != UNKNOWN_ORDER:
                log.warning("binance order %s not placed, lookup failed: %s", cid, error)
                return self._failed(cid, intent.symbol, error, intent)
            duplicate = False
        if duplicate:
            log.info("binance order %s already exists; returning it", cid)
        else:
            try:
                self._place(intent, cid)
            except VenueError as error:
                if not _is_duplicate(error):
                    log.warning("binance order %s failed: %s", cid, error)
                    return self._failed(cid, intent.symbol, error, intent)
                log.info("binance order %s already exists; returning it", cid)
                duplicate = True
        if intent.stop_loss is not None or intent.take_profit is not None:
            self._pending_exits[cid] = intent
        placed = self.query(intent.symbol, cid)
        if placed.filled_quantity > 0 and not duplicate:
            self._tracked[cid] = before_any_fill(placed)
            return placed
        return self._track(placed)

    def _place(self, intent: OrderIntent, cid: str) -> None:
        inst = self.instrument(intent.market, intent.symbol)
        buy = intent.side is Side.BUY
        qty = round_quantity(inst, intent.quantity)
        if qty <= 0:
            raise VenueError(-1013, "Filter failure: LOT_SIZE", retryable=False)
        if intent.order_type is not OrderType.MARKET and intent.limit_price is None:
            raise VenueError(-1102, f"{intent.order_type} needs limit_price", retryable=False)
        params: dict[str, Any] = {
            "symbol": intent.symbol,
            "side": str(intent.side),
            "quantity": str(qty),
        }
        futures = intent.market is Market.LINEAR
        if intent.order_type is OrderType.LIMIT:
            assert intent.limit_price is not None
            params["price"] = str(round_price(inst, intent.limit_price, up=not buy))
            if intent.time_in_force is TimeInForce.POST_ONLY and futures:
                params.update(type="LIMIT", timeInForce="GTX")
            elif intent.time_in_force is TimeInForce.POST_ONLY:
                params["type"] = "LIMIT_MAKER"
            else:
                params.update(type="LIMIT", timeInForce=str(intent.time_in_force))
        elif intent.order_type in _CONDITIONAL:
            assert intent.limit_price is not None
            trigger = str(round_price(inst, intent.limit_price))
            if futures:
                params.update(
                    type=str(intent.order_type), algoType="CONDITIONAL", triggerPrice=trigger
                )
            else:
                params.update(type=_SPOT_TYPE[intent.order_type], stopPrice=trigger)
        else:
            params["type"] = "MARKET"
        if futures:
            if intent.reduce_only:
                params["reduceOnly"] = "true"
            id_field = "clientAlgoId" if intent.order_type in _CONDITIONAL else "newClientOrderId"
            params[id_field] = cid
            self._call(self.client.futures_create_order, **params)
        else:
            params["newClientOrderId"] = cid
            params["newOrderRespType"] = "RESULT"
            self._call(self.client.create_order, **params)

    def _track(self, update: OrderUpdate) -> OrderUpdate:
        if update.status in _TERMINAL:
            self._tracked.pop(update.client_order_id, None)
        else:
            self._tracked[update.client_order_id] = update
        return update

    def query(self, symbol: str, client_order_id: str) -> OrderUpdate:
        try:
            return self._fetch(symbol, client_order_id)
        except VenueError as error:
            return self._failed(client_order_id, symbol, error)

    def _fetch(self, symbol: str, client_order_id: str) -> OrderUpdate:
        market = self._market_of.get(client_order_id, Market.LINEAR)
        if market is Market.SPOT:
            row = self._call(
                self.client.get_order, symbol=symbol, origClientOrderId=client_order_id
            )
            return self._update(row)
        if client_order_id in self._conditional:
            row = self._call(
                self.client.futures_get_order, symbol=symbol, clientAlgoId=client_order_id
            )
            return self._update(row, algo=True)
        row = self._call(
            self.client.futures_get_order, symbol=symbol, origClientOrderId=client_order_id
        )
        return self._update(row)

    def amend(
        self,
        symbol: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
    ) -> OrderUpdate:
        """USDS-M limit orders only (spot has no in-place amend of price)."""
        market = self._market_of.get(client_order_id, Market.LINEAR)
        current = self.query(symbol, client_order_id)
        if current.status is OrderStatus.REJECTED:
            return current
        if market is Market.SPOT or client_order_id in self._conditional:
            error = VenueError(-4028, "only USDS-M limit orders can be amended", retryable=False)
            return self._failed(client_order_id, symbol, error)
        inst = self.instrument(market, symbol)
        row = self._call(
            self.client.futures_get_order, symbol=symbol, origClientOrderId=client_order_id
        )
        new_qty = (
            round_quantity(inst, quantity)
            if quantity is not None
            else decimal_or_zero(row["origQty"])
        )
        new_price = round_price(inst, price) if price is not None else decimal_or_zero(row["price"])
        try:
            self._call(
                self.client.futures_modify_order,
                symbol=symbol,
                origClientOrderId=client_order_id,
                side=row["side"],
                quantity=str(new_qty),
                price=str(new_price),
            )
        except VenueError as error:
            return self._failed(client_order_id, symbol, error)
        # Tracking is left as it was: the next poll reports the trades since, then this state.
        return self.query(symbol, client_order_id)

    def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        market = self._market_of.get(client_order_id, Market.LINEAR)
        try:
            if market is Market.SPOT:
                self._call(
                    self.client.cancel_order, symbol=symbol, origClientOrderId=client_order_id
                )
            elif client_order_id in self._conditional:
                self._call(
                    self.client.futures_cancel_order, symbol=symbol, clientAlgoId=client_order_id
                )
            else:
                self._call(
                    self.client.futures_cancel_order,
                    symbol=symbol,
                    origClientOrderId=client_order_id,
                )
        except VenueError as error:
            return self._failed(client_order_id, symbol, error)
        # Tracking is left as it was: the next poll reports the trades since, then this state.
        return self.query(symbol, client_order_id)

    def open_orders(self, symbol: str | None = None) -> Sequence[OrderUpdate]:
        params = {"symbol": symbol} if symbol else {}
        spot = self._call(self.client.get_open_orders, **params)
        futures = self._call(self.client.futures_get_open_orders, **params)
        algo = self._call(self.client.futures_get_open_orders, conditional=True, **params)
        out: list[OrderUpdate] = []
        for rows, market, algo_rows in (
            (spot, Market.SPOT, False),
            (futures, Market.LINEAR, False),
            (algo, Market.LINEAR, True),
        ):
            for row in rows:
                update = self._track(self._update(row, algo=algo_rows))
                self._market_of[update.client_order_id] = market
                if algo_rows:
                    self._conditional.add(update.client_order_id)
                out.append(update)
        return out

    def positions(self) -> Sequence[Position]:
        rows = self._call(self.client.futures_position_information)
        return [
            Position(
                account=self.account,
                venue=self.venue,
                symbol=r["symbol"],
                quantity=decimal_or_zero(r["positionAmt"]),
                average_entry=decimal_or_zero(r["entryPrice"]),
                updated_at=datetime.fromtimestamp(int(r["updateTime"]) / 1000, UTC),
            )
            for r in rows
        ]

    def balances(self) -> dict[str, Decimal]:
        """Spot free + locked plus USDS-M wallet balance, per asset."""
        out: dict[str, Decimal] = {}
        for b in self._call(self.client.get_account)["balances"]:
            out[b["asset"]] = (
                out.get(b["asset"], Decimal(0))
                + decimal_or_zero(b["free"])
                + decimal_or_zero(b["locked"])
            )
        for b in self._call(self.client.futures_account_balance):
            out[b["asset"]] = out.get(b["asset"], Decimal(0)) + decimal_or_zero(b["balance"])
        return out

    def poll_updates(self) -> Sequence[OrderUpdate | Fill]:
        """Fills and order updates for orders still open at the last look; attaches pending
        exits. Fills come from the account trade lists (``myTrades`` / ``userTrades``), each
        reported once; if a list cannot be read, the order keeps its last state and the next
        poll asks again, so no fill is lost."""
        out: list[OrderUpdate | Fill] = []
        for cid, before in list(self._tracked.items()):
            now = self.query(before.symbol, cid)
            if now.status is OrderStatus.REJECTED and now.reason:
                continue
            if now.filled_quantity != before.filled_quantity:
                try:
                    out.extend(self._fills(now))
                except VenueError as error:
                    log.warning("binance trade list for %s failed: %s", cid, error)
                    continue
            if (now.status, now.filled_quantity) != (before.status, before.filled_quantity):
                out.append(now)
            self._track(now)
        for cid, intent in list(self._pending_exits.items()):
            entry = self.query(intent.symbol, cid)
            if entry.filled_quantity > 0 and entry.status in _TERMINAL:
                del self._pending_exits[cid]
                out.extend(self._place_exits(intent, cid, entry.filled_quantity))
        return out

    def _fills(self, update: OrderUpdate) -> list[Fill]:
        """The order's trades not reported yet, oldest first."""
        cid, symbol = update.client_order_id, update.symbol
        market = self._market_of.get(cid, Market.LINEAR)
        if market is Market.SPOT:
            rows = self._call(
                self.client.get_my_trades, symbol=symbol, orderId=update.venue_order_id
            )
        else:
            order_id = update.venue_order_id
            if cid in self._conditional:
                # A triggered algo order trades under the plain order it placed.
                algo = self._call(self.client.futures_get_order, symbol=symbol, clientAlgoId=cid)
                order_id = algo.get("actualOrderId") or None
                if order_id is None:
                    return []
            rows = self._call(self.client.futures_account_trades, symbol=symbol, orderId=order_id)
        fills = []
        for r in rows:
            fill_id = f"{market}-{symbol}-{r['id']}"
            if fill_id in self._seen_fills:
                continue
            self._seen_fills.add(fill_id)
            buy = r["isBuyer"] if market is Market.SPOT else r["side"] == "BUY"
            fills.append(
                Fill(
                    fill_id=fill_id,
                    client_order_id=cid,
                    venue=self.venue,
                    symbol=symbol,
                    side=Side.BUY if buy else Side.SELL,
                    quantity=decimal_or_zero(r["qty"]),
                    price=decimal_or_zero(r["price"]),
                    fee=decimal_or_zero(r["commission"]),
                    fee_asset=r["commissionAsset"],
                    filled_at=datetime.fromtimestamp(int(r["time"]) / 1000, UTC),
                )
            )
        return fills

    def _place_exits(self, intent: OrderIntent, cid: str, filled: Decimal) -> list[OrderUpdate]:
        exit_side = Side.SELL if intent.side is Side.BUY else Side.BUY
        placed = []
        for suffix, kind, level in (
            ("-sl", OrderType.STOP_MARKET, intent.stop_loss),
            ("-tp", OrderType.TAKE_PROFIT_MARKET, intent.take_profit),
        ):
            if level is None:
                continue
            child = msgspec.structs.replace(
                intent,
                client_order_id=cid + suffix,
                side=exit_side,
                order_type=kind,
                quantity=filled,
                limit_price=level,
                stop_loss=None,
                take_profit=None,
                reduce_only=True,
            )
            placed.append(self.submit(child))
        return placed
