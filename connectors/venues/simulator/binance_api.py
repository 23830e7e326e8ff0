"""Binance spot (``/api/v3``) and USDS-M futures (``/fapi``) REST, the subset ``binance.Client``
calls for trading, in its wire format.

Signed requests carry ``timestamp``, ``recvWindow`` and ``signature`` (hex HMAC-SHA256 of the
other parameters, query string then body, as sent) and the ``X-MBX-APIKEY`` header. Errors are
``{"code": -NNNN, "msg": ...}`` with Binance's HTTP statuses: -1022 bad signature, -2015 bad key
(401), -1021 stale timestamp, -1003 rate limit (429 with ``Retry-After``), -2010/-2019
insufficient balance, -1013/-4014/-4023/-4164 filter failures, -2011/-2013 unknown order.

Conditional futures orders: the installed python-binance sends STOP_MARKET / TAKE_PROFIT_MARKET
to ``/fapi/v1/algoOrder`` (``clientAlgoId``, ``triggerPrice``), so that endpoint family is
served too; ``/fapi/v1/order`` still accepts them with ``stopPrice`` for older clients.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from connectors.venues.simulator.engine import (
    MatchingEngine,
    OrderRejectedError,
    OrderRequest,
    RejectCode,
    SimFill,
    SimOrder,
)
from connectors.venues.simulator.exchange import ExchangeSimulator, hmac_sha256
from connectors.venues.simulator.wire import fmt, ms
from records import Market, OrderStatus, OrderType, Side, TimeInForce

VENUE = "binance"


class BinanceError(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


_SPOT_CODES = {
    RejectCode.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    RejectCode.INVALID_QUANTITY: (-1013, "Filter failure: LOT_SIZE"),
    RejectCode.INVALID_PRICE: (-1013, "Filter failure: PRICE_FILTER"),
    RejectCode.MIN_NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
    RejectCode.INSUFFICIENT_BALANCE: (
        -2010,
        "Account has insufficient balance for requested action.",
    ),
    RejectCode.REDUCE_ONLY: (-2010, "Order would not reduce the position."),
    RejectCode.POST_ONLY_WOULD_TAKE: (-2010, "Order would immediately match and take."),
    RejectCode.IMMEDIATE_TRIGGER: (-2010, "Stop price would trigger immediately."),
    RejectCode.NO_PRICE: (-1013, "No market price."),
    RejectCode.UNKNOWN_ORDER: (-2011, "Unknown order sent."),
    RejectCode.ORDER_NOT_OPEN: (-2011, "Unknown order sent."),
    RejectCode.INVALID_REQUEST: (-1102, "Mandatory parameter was not sent, or was malformed."),
}
_FUTURES_CODES = {
    **_SPOT_CODES,
    RejectCode.INVALID_QUANTITY: (-4023, "Qty not increased by step size."),
    RejectCode.INVALID_PRICE: (-4014, "Price not increased by tick size."),
    RejectCode.MIN_NOTIONAL: (
        -4164,
        "Order's notional must be no smaller than 5 (unless you choose reduce only).",
    ),
    RejectCode.INSUFFICIENT_BALANCE: (-2019, "Margin is insufficient."),
    RejectCode.REDUCE_ONLY: (-2022, "ReduceOnly Order is rejected."),
    RejectCode.POST_ONLY_WOULD_TAKE: (
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    ),
    RejectCode.IMMEDIATE_TRIGGER: (-2021, "Order would immediately trigger."),
}

_SPOT_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "STOP_LOSS": OrderType.STOP_MARKET,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_MARKET,
}
_FUTURES_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
}
_SPOT_NAMES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT",
}
_FUTURES_NAMES = {v: k for k, v in _FUTURES_TYPES.items()}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TIF["GTX"] = TimeInForce.POST_ONLY


Params = dict[str, str]


def _rejection(market: Market, exc: OrderRejectedError) -> BinanceError:
    code, msg = (_SPOT_CODES if market is Market.SPOT else _FUTURES_CODES)[exc.code]
    return BinanceError(code, msg)


def _dec(p: Params, name: str, *, required: bool = False) -> Decimal | None:
    raw = p.get(name)
    if raw in (None, ""):
        if required:
            raise BinanceError(-1102, f"Mandatory parameter '{name}' was not sent.")
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.") from None


def _side(raw: str | None) -> Side:
    if raw in ("BUY", "SELL"):
        return Side(raw)
    raise BinanceError(-1102, "Mandatory parameter 'side' was not sent.")


def _status(o: SimOrder) -> str:
    return "NEW" if o.status is OrderStatus.UNTRIGGERED else str(o.status)


def spot_order_json(o: SimOrder, *, full: bool = False) -> dict[str, Any]:
    kind = _SPOT_NAMES[o.order_type]
    if o.order_type is OrderType.LIMIT and o.time_in_force is TimeInForce.POST_ONLY:
        kind = "LIMIT_MAKER"
    row: dict[str, Any] = {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "price": fmt(o.price or Decimal(0)),
        "origQty": fmt(o.quantity),
        "executedQty": fmt(o.filled_quantity),
        "cummulativeQuoteQty": fmt(o.cumulative_quote),
        "status": _status(o),
        "timeInForce": "GTC" if o.time_in_force is TimeInForce.POST_ONLY else str(o.time_in_force),
        "type": kind,
        "side": str(o.side),
        "stopPrice": fmt(o.trigger_price or Decimal(0)),
        "icebergQty": "0",
        "time": ms(o.created_at),
        "updateTime": ms(o.updated_at),
        "isWorking": o.status is not OrderStatus.UNTRIGGERED,
        "workingTime": ms(o.created_at),
        "origQuoteOrderQty": "0",
        "selfTradePreventionMode": "NONE",
    }
    if full:
        row["transactTime"] = ms(o.updated_at)
        row["fills"] = []
    return row


def futures_order_json(o: SimOrder) -> dict[str, Any]:
    kind = _FUTURES_NAMES[o.order_type]
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": _status(o),
        "clientOrderId": o.client_order_id,
        "price": fmt(o.price or Decimal(0)),
        "avgPrice": fmt(o.average_price or Decimal(0)),
        "origQty": fmt(o.quantity),
        "executedQty": fmt(o.filled_quantity),
        "cumQty": fmt(o.filled_quantity),
        "cumQuote": fmt(o.cumulative_quote),
        "timeInForce": "GTX" if o.time_in_force is TimeInForce.POST_ONLY else str(o.time_in_force),
        "type": kind,
        "origType": kind,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": str(o.side),
        "positionSide": "BOTH",
        "stopPrice": fmt(o.trigger_price or Decimal(0)),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": ms(o.created_at),
        "updateTime": ms(o.updated_at),
    }


_ALGO_STATUS = {
    OrderStatus.UNTRIGGERED: "NEW",
    OrderStatus.NEW: "TRIGGERED",
    OrderStatus.PARTIALLY_FILLED: "TRIGGERED",
    OrderStatus.FILLED: "FINISHED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "REJECTED",
}


def algo_order_json(o: SimOrder) -> dict[str, Any]:
    return {
        "algoId": o.order_id,
        "clientAlgoId": o.client_order_id,
        "algoType": "CONDITIONAL",
        "orderType": _FUTURES_NAMES[o.order_type],
        "symbol": o.symbol,
        "side": str(o.side),
        "positionSide": "BOTH",
        "timeInForce": "GTC",
        "quantity": fmt(o.quantity),
        "algoStatus": _ALGO_STATUS[o.status],
        "actualOrderId": str(o.order_id) if o.filled_quantity else "",
        "actualPrice": fmt(o.average_price or Decimal(0)),
        "executedQty": fmt(o.filled_quantity),
        "triggerPrice": fmt(o.trigger_price or Decimal(0)),
        "price": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "createTime": ms(o.created_at),
        "updateTime": ms(o.updated_at),
        "triggerTime": 0,
        "goodTillDate": 0,
    }


def _build(
    engine: MatchingEngine, market: Market, p: Params, cid: str, *, algo: bool = False
) -> OrderRequest:
    types = _SPOT_TYPES if market is Market.SPOT else _FUTURES_TYPES
    kind = p.get("type", "")
    order_type = types.get(kind)
    if order_type is None:
        raise BinanceError(-1116, "Invalid orderType.")
    tif = _TIF.get(p.get("timeInForce", "GTC"))
    if tif is None:
        raise BinanceError(-1115, "Invalid timeInForce.")
    if kind == "LIMIT_MAKER":
        tif = TimeInForce.POST_ONLY
    if order_type is OrderType.LIMIT and "price" not in p:
        raise BinanceError(-1102, "Mandatory parameter 'price' was not sent.")
    trigger_name = "triggerPrice" if algo else "stopPrice"
    qty = _dec(p, "quantity", required=True)
    assert qty is not None
    return OrderRequest(
        client_order_id=cid,
        symbol=p.get("symbol", ""),
        side=_side(p.get("side")),
        order_type=order_type,
        quantity=qty,
        price=_dec(p, "price") if order_type is OrderType.LIMIT else None,
        trigger_price=(
            _dec(p, trigger_name, required=True)
            if order_type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
            else None
        ),
        time_in_force=tif if order_type is OrderType.LIMIT else TimeInForce.GTC,
        reduce_only=p.get("reduceOnly", "false").lower() == "true",
    )


def _new(sim: ExchangeSimulator, market: Market, p: Params, *, algo: bool = False) -> SimOrder:
    engine = sim.engine(VENUE, market)
    id_name = "clientAlgoId" if algo else "newClientOrderId"
    cid = p.get(id_name) or f"sim{len(engine.orders()) + 1}"
    if len(cid) > 36:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{id_name}'.")
    if engine.order(cid) is not None:
        if market is Market.SPOT:
            raise BinanceError(-2010, "Duplicate order sent.")
        raise BinanceError(-4116, "ClientOrderId is duplicated.")
    try:
        return engine.submit(_build(engine, market, p, cid, algo=algo))
    except OrderRejectedError as exc:
        raise _rejection(market, exc) from None


def _find(sim: ExchangeSimulator, market: Market, p: Params, *, algo: bool = False) -> SimOrder:
    engine = sim.engine(VENUE, market)
    o: SimOrder | None = None
    cid = p.get("clientAlgoId" if algo else "origClientOrderId")
    oid = p.get("algoId" if algo else "orderId")
    if cid:
        o = engine.order(cid)
    elif oid and oid.isdigit():
        o = engine.order_by_id(int(oid))
    elif not oid:
        raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent.")
    if o is None or (not algo and o.symbol != p.get("symbol")):
        raise BinanceError(-2013, "Order does not exist.")
    return o


def _cancel(sim: ExchangeSimulator, market: Market, p: Params, *, algo: bool = False) -> SimOrder:
    try:
        o = _find(sim, market, p, algo=algo)
    except BinanceError as exc:
        if exc.code == -2013:
            raise BinanceError(-2011, "Unknown order sent.") from None
        raise
    try:
        return sim.engine(VENUE, market).cancel(o.symbol, o.client_order_id)
    except OrderRejectedError:
        raise BinanceError(-2011, "Unknown order sent.") from None


# ---------------------------------------------------------------------- spot


def spot_new(sim: ExchangeSimulator, p: Params) -> Any:
    return spot_order_json(_new(sim, Market.SPOT, p), full=True)


def spot_get(sim: ExchangeSimulator, p: Params) -> Any:
    return spot_order_json(_find(sim, Market.SPOT, p))


def spot_cancel(sim: ExchangeSimulator, p: Params) -> Any:
    o = _cancel(sim, Market.SPOT, p)
    row = spot_order_json(o)
    row["origClientOrderId"] = o.client_order_id
    row["transactTime"] = ms(o.updated_at)
    return row


def spot_open(sim: ExchangeSimulator, p: Params) -> Any:
    engine = sim.engine(VENUE, Market.SPOT)
    return [spot_order_json(o) for o in engine.orders(p.get("symbol"), open_only=True)]


def spot_account(sim: ExchangeSimulator, p: Params) -> Any:
    engine = sim.engine(VENUE, Market.SPOT)
    taker = engine.config.taker_fee_bps / 10_000
    maker = engine.config.maker_fee_bps / 10_000
    return {
        "makerCommission": int(engine.config.maker_fee_bps),
        "takerCommission": int(engine.config.taker_fee_bps),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": fmt(maker), "taker": fmt(taker), "buyer": "0", "seller": "0"},
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": ms(engine.now),
        "accountType": "SPOT",
        "balances": [
            {
                "asset": asset,
                "free": fmt(amount - engine.locked(asset)),
                "locked": fmt(engine.locked(asset)),
            }
            for asset, amount in sorted(engine.balances().items())
        ],
        "permissions": ["SPOT"],
        "uid": 1,
    }


def _filters(engine: MatchingEngine, symbol: str, futures: bool) -> list[dict[str, Any]]:
    inst = engine.instruments[symbol]
    lot = {"minQty": fmt(inst.min_qty), "maxQty": fmt(inst.max_qty), "stepSize": fmt(inst.lot_size)}
    notional = (
        {"filterType": "MIN_NOTIONAL", "notional": fmt(inst.min_notional)}
        if futures
        else {
            "filterType": "NOTIONAL",
            "minNotional": fmt(inst.min_notional),
            "applyMinToMarket": True,
            "maxNotional": "9000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        }
    )
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(inst.tick_size),
            "maxPrice": "1000000",
            "tickSize": fmt(inst.tick_size),
        },
        {"filterType": "LOT_SIZE", **lot},
        {"filterType": "MARKET_LOT_SIZE", **lot},
        notional,
    ]


def _exchange_info(sim: ExchangeSimulator, p: Params, market: Market) -> Any:
    engine = sim.engine(VENUE, market)
    futures = market is Market.LINEAR
    symbols = []
    for symbol, inst in engine.instruments.items():
        if p.get("symbol") and p["symbol"] != symbol:
            continue
        row: dict[str, Any] = {
            "symbol": symbol,
            "status": "TRADING",
            "baseAsset": inst.base,
            "quoteAsset": inst.quote,
            "filters": _filters(engine, symbol, futures),
        }
        if futures:
            row.update(
                pair=symbol,
                contractType="PERPETUAL",
                marginAsset=inst.quote,
                pricePrecision=max(0, -inst.tick_size.normalize().as_tuple().exponent),  # type: ignore[operator]
                quantityPrecision=max(0, -inst.lot_size.normalize().as_tuple().exponent),  # type: ignore[operator]
                orderTypes=list(_FUTURES_TYPES),
                timeInForce=["GTC", "IOC", "FOK", "GTX"],
            )
        else:
            row.update(
                baseAssetPrecision=8,
                quotePrecision=8,
                quoteAssetPrecision=8,
                orderTypes=list(_SPOT_TYPES),
                isSpotTradingAllowed=True,
                permissions=["SPOT"],
            )
        symbols.append(row)
    if p.get("symbol") and not symbols:
        raise BinanceError(-1121, "Invalid symbol.")
    return {
        "timezone": "UTC",
        "serverTime": ms(sim.wall.now()),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": sim.limiter.limit.capacity,
            }
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    }


def _ticker(sim: ExchangeSimulator, p: Params, market: Market) -> Any:
    engine = sim.engine(VENUE, market)
    rows = []
    for symbol in engine.instruments:
        price = engine.mark_price(symbol)
        if price is None or (p.get("symbol") and p["symbol"] != symbol):
            continue
        row: dict[str, Any] = {"symbol": symbol, "price": fmt(price)}
        if market is Market.LINEAR:
            row["time"] = ms(engine.now)
        rows.append(row)
    if p.get("symbol"):
        if not rows:
            raise BinanceError(-1121, "Invalid symbol.")
        return rows[0]
    return rows


# ---------------------------------------------------------------------- futures


def fut_new(sim: ExchangeSimulator, p: Params) -> Any:
    return futures_order_json(_new(sim, Market.LINEAR, p))


def fut_get(sim: ExchangeSimulator, p: Params) -> Any:
    return futures_order_json(_find(sim, Market.LINEAR, p))


def fut_cancel(sim: ExchangeSimulator, p: Params) -> Any:
    return futures_order_json(_cancel(sim, Market.LINEAR, p))


def fut_modify(sim: ExchangeSimulator, p: Params) -> Any:
    o = _find(sim, Market.LINEAR, p)
    if o.order_type is not OrderType.LIMIT:
        raise BinanceError(-4028, "Only limit orders can be modified.")
    try:
        amended = sim.engine(VENUE, Market.LINEAR).amend(
            o.symbol, o.client_order_id, quantity=_dec(p, "quantity"), price=_dec(p, "price")
        )
    except OrderRejectedError as exc:
        raise _rejection(Market.LINEAR, exc) from None
    return futures_order_json(amended)


def fut_open(sim: ExchangeSimulator, p: Params) -> Any:
    engine = sim.engine(VENUE, Market.LINEAR)
    return [
        futures_order_json(o)
        for o in engine.orders(p.get("symbol"), open_only=True)
        if o.order_type not in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
        or o.status is not OrderStatus.UNTRIGGERED
    ]


def algo_new(sim: ExchangeSimulator, p: Params) -> Any:
    if p.get("algoType") != "CONDITIONAL":
        raise BinanceError(-1102, "Mandatory parameter 'algoType' was not sent.")
    return algo_order_json(_new(sim, Market.LINEAR, p, algo=True))


def algo_get(sim: ExchangeSimulator, p: Params) -> Any:
    return algo_order_json(_find(sim, Market.LINEAR, p, algo=True))


def algo_cancel(sim: ExchangeSimulator, p: Params) -> Any:
    o = _cancel(sim, Market.LINEAR, p, algo=True)
    return {
        "algoId": o.order_id,
        "clientAlgoId": o.client_order_id,
        "code": "200",
        "msg": "success",
    }


def algo_open(sim: ExchangeSimulator, p: Params) -> Any:
    engine = sim.engine(VENUE, Market.LINEAR)
    return [
        algo_order_json(o)
        for o in engine.orders(p.get("symbol"), open_only=True)
        if o.status is OrderStatus.UNTRIGGERED
    ]


def fut_positions(sim: ExchangeSimulator, p: Params) -> Any:
    engine = sim.engine(VENUE, Market.LINEAR)
    rows = []
    for pos in engine.positions():
        if p.get("symbol") and pos.symbol != p["symbol"]:
            continue
        mark = pos.mark_price or Decimal(0)
        rows.append(
            {
                "symbol": pos.symbol,
                "positionSide": "BOTH",
                "positionAmt": fmt(pos.quantity),
                "entryPrice": fmt(pos.average_entry),
                "breakEvenPrice": fmt(pos.average_entry),
                "markPrice": fmt(mark),
                "unRealizedProfit": fmt(pos.unrealised_pnl),
                "liquidationPrice": "0",
                "isolatedMargin": "0",
                "notional": fmt(pos.quantity * mark),
                "marginAsset": "USDT",
                "isolatedWallet": "0",
                "initialMargin": fmt(abs(pos.quantity) * mark / engine.config.leverage),
                "maintMargin": "0",
                "positionInitialMargin": fmt(abs(pos.quantity) * mark / engine.config.leverage),
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "leverage": fmt(engine.config.leverage),
                "marginType": "cross",
                "updateTime": ms(pos.updated_at),
            }
        )
    return rows


def fut_balance(sim: ExchangeSimulator, p: Params) -> Any:
    engine = sim.engine(VENUE, Market.LINEAR)
    upl = engine.unrealised_pnl()
    return [
        {
            "accountAlias": "sim",
            "asset": asset,
            "balance": fmt(amount),
            "crossWalletBalance": fmt(amount),
            "crossUnPnl": fmt(upl if asset == "USDT" else Decimal(0)),
            "availableBalance": fmt(engine.available(asset)),
            "maxWithdrawAmount": fmt(engine.available(asset)),
            "marginAvailable": True,
            "updateTime": ms(engine.now),
        }
        for asset, amount in sorted(engine.balances().items())
    ]


# ---------------------------------------------------------------------- trade lists


def spot_trade_json(trade_id: int, f: SimFill) -> dict[str, Any]:
    return {
        "symbol": f.symbol,
        "id": trade_id,
        "orderId": f.order_id,
        "orderListId": -1,
        "price": fmt(f.price),
        "qty": fmt(f.quantity),
        "quoteQty": fmt(f.quantity * f.price),
        "commission": fmt(f.fee),
        "commissionAsset": f.fee_asset,
        "time": ms(f.filled_at),
        "isBuyer": f.side is Side.BUY,
        "isMaker": f.is_maker,
        "isBestMatch": True,
    }


def futures_trade_json(trade_id: int, f: SimFill) -> dict[str, Any]:
    return {
        "buyer": f.side is Side.BUY,
        "commission": fmt(f.fee),
        "commissionAsset": f.fee_asset,
        "id": trade_id,
        "maker": f.is_maker,
        "orderId": f.order_id,
        "price": fmt(f.price),
        "qty": fmt(f.quantity),
        "quoteQty": fmt(f.quantity * f.price),
        "realizedPnl": fmt(f.realised_pnl),
        "side": str(f.side),
        "positionSide": "BOTH",
        "symbol": f.symbol,
        "time": ms(f.filled_at),
    }


def _trades(sim: ExchangeSimulator, p: Params, market: Market) -> list[dict[str, Any]]:
    """Account trade list, oldest first; trade ids count up per account and market."""
    symbol = p.get("symbol")
    if not symbol:
        raise BinanceError(-1102, "Mandatory parameter 'symbol' was not sent.")
    order_id = p.get("orderId")
    try:
        from_id = int(p.get("fromId") or 0)
        limit = min(int(p.get("limit") or 500), 1000)
    except ValueError:
        raise BinanceError(-1100, "Illegal characters found in a parameter.") from None
    as_json = spot_trade_json if market is Market.SPOT else futures_trade_json
    rows = [
        as_json(trade_id, f)
        for trade_id, f in enumerate(sim.engine(VENUE, market).fills(), start=1)
        if f.symbol == symbol
        and (not order_id or str(f.order_id) == order_id)
        and trade_id >= from_id
    ]
    return rows[:limit]


Handler = Callable[[ExchangeSimulator, Params], Any]

SIGNED: dict[tuple[str, str], Handler] = {
    ("POST", "/api/v3/order"): spot_new,
    ("GET", "/api/v3/order"): spot_get,
    ("DELETE", "/api/v3/order"): spot_cancel,
    ("GET", "/api/v3/openOrders"): spot_open,
    ("GET", "/api/v3/account"): spot_account,
    ("GET", "/api/v3/myTrades"): lambda s, p: _trades(s, p, Market.SPOT),
    ("POST", "/fapi/v1/order"): fut_new,
    ("GET", "/fapi/v1/order"): fut_get,
    ("DELETE", "/fapi/v1/order"): fut_cancel,
    ("PUT", "/fapi/v1/order"): fut_modify,
    ("GET", "/fapi/v1/openOrders"): fut_open,
    ("GET", "/fapi/v1/userTrades"): lambda s, p: _trades(s, p, Market.LINEAR),
    ("POST", "/fapi/v1/algoOrder"): algo_new,
    ("GET", "/fapi/v1/algoOrder"): algo_get,
    ("DELETE", "/fapi/v1/algoOrder"): algo_cancel,
    ("GET", "/fapi/v1/openAlgoOrders"): algo_open,
    ("GET", "/fapi/v2/positionRisk"): fut_positions,
    ("GET", "/fapi/v3/positionRisk"): fut_positions,
    ("GET", "/fapi/v2/balance"): fut_balance,
    ("GET", "/fapi/v3/balance"): fut_balance,
}
PUBLIC: dict[tuple[str, str], Handler] = {
    ("GET", "/api/v3/exchangeInfo"): lambda s, p: _exchange_info(s, p, Market.SPOT),
    ("GET", "/api/v3/ticker/price"): lambda s, p: _ticker(s, p, Market.SPOT),
    ("GET", "/api/v3/time"): lambda s, p: {"serverTime": ms(s.wall.now())},
    ("GET", "/api/v3/ping"): lambda s, p: {},
    ("GET", "/fapi/v1/exchangeInfo"): lambda s, p: _exchange_info(s, p, Market.LINEAR),
    ("GET", "/fapi/v1/ticker/price"): lambda s, p: _ticker(s, p, Market.LINEAR),
    ("GET", "/fapi/v2/ticker/price"): lambda s, p: _ticker(s, p, Market.LINEAR),
    ("GET", "/fapi/v1/time"): lambda s, p: {"serverTime": ms(s.wall.now())},
    ("GET", "/fapi/v1/ping"): lambda s, p: {},
}


def _verify(sim: ExchangeSimulator, request: web.Request, query: str, body: str) -> str:
    key = request.headers.get("X-MBX-APIKEY", "")
    secret = sim.secret(key)
    if secret is None:
        raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    parts = [x for raw in (query, body) for x in raw.split("&") if x]
    signature = next((x[len("signature=") :] for x in parts if x.startswith("signature=")), "")
    payload = "&".join(x for x in parts if not x.startswith("signature="))
    if signature not in (hmac_sha256(secret, payload), hmac_sha256(secret, unquote(payload))):
        raise BinanceError(-1022, "Signature for this request is not valid.")
    params = dict(parse_qsl(payload))
    try:
        timestamp = int(params["timestamp"])
        window = int(params.get("recvWindow", "5000"))
    except (KeyError, ValueError):
        raise BinanceError(-1102, "Mandatory parameter 'timestamp' was not sent.") from None
    now = ms(sim.wall.now())
    if window > 60_000 or not (timestamp < now + 1000 and now - timestamp <= window):
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
    return key


def _error(exc: BinanceError) -> web.Response:
    return web.json_response({"code": exc.code, "msg": exc.message}, status=exc.status)


def handler(
    sim: ExchangeSimulator, method: str, path: str, signed: bool
) -> Callable[[web.Request], Awaitable[web.Response]]:
    func = (SIGNED if signed else PUBLIC)[(method, path)]

    async def handle(request: web.Request) -> web.Response:
        body = await request.text() if request.can_read_body else ""
        query = request.rel_url.raw_query_string
        try:
            caller = request.remote or "anon"
            if signed:
                caller = _verify(sim, request, query, body)
            allowed, reset = sim.limiter.allow(caller)
            if not allowed:
                retry = max(1, int((reset - sim.wall.now()).total_seconds() + 0.999))
                resp = _error(
                    BinanceError(-1003, "Too many requests; current limit is exceeded.", 429)
                )
                resp.headers["Retry-After"] = str(retry)
                return resp
            params = dict(parse_qsl(query))
            params.update(parse_qsl(body))
            params.pop("signature", None)
            with sim.lock:
                result = func(sim, params)
            return web.json_response(result)
        except BinanceError as exc:
            return _error(exc)

    return handle


def add_routes(app: web.Application, sim: ExchangeSimulator) -> None:
    for signed, table in ((True, SIGNED), (False, PUBLIC)):
        for method, path in table:
            app.router.add_route(method, path, handler(sim, method, path, signed))
