"""Bybit V5 REST, the subset ``pybit.unified_trading.HTTP`` calls for trading, in its wire format.

Signature (V5 HMAC): ``hex(hmac_sha256(secret, timestamp + api_key + recv_window + payload))``
where the payload is the raw query string (GET) or the raw JSON body (POST), sent in the
``X-BAPI-*`` headers. Errors use Bybit's ``retCode`` values (HTTP 200 with a non-zero code, as
Bybit does), e.g. 10004 bad signature, 10006 rate limit, 110007/170131 insufficient balance.

Simplifications (documented, deliberate): the unified account is two engines (spot and linear)
whose balances ``accountType=UNIFIED`` sums (``SPOT``/``CONTRACT`` show each); positions are
one-way (``positionIdx`` 0); a spot market Buy's ``qty`` is in quote coin unless
``marketUnit=baseCoin``, as on Bybit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from connectors.venues.instruments import round_quantity
from connectors.venues.simulator.engine import (
    MatchingEngine,
    OrderRejectedError,
    OrderRequest,
    RejectCode,
    SimOrder,
)
from connectors.venues.simulator.exchange import ExchangeSimulator, hmac_sha256
from connectors.venues.simulator.wire import fmt, ms
from records import Market, OrderStatus, OrderType, Side, TimeInForce

VENUE = "bybit"
CATEGORIES = {"spot": Market.SPOT, "linear": Market.LINEAR}

_LINEAR_CODES = {
    RejectCode.UNKNOWN_SYMBOL: (10001, "params error: symbol invalid"),
    RejectCode.INVALID_QUANTITY: (10001, "Qty invalid"),
    RejectCode.INVALID_PRICE: (10001, "Price invalid"),
    RejectCode.MIN_NOTIONAL: (110094, "Order notional value below the lower limit"),
    RejectCode.INSUFFICIENT_BALANCE: (110007, "Available balance is insufficient"),
    RejectCode.REDUCE_ONLY: (110017, "orderQty will be truncated to zero"),
    RejectCode.POST_ONLY_WOULD_TAKE: (10001, "PostOnly order would take liquidity"),
    RejectCode.IMMEDIATE_TRIGGER: (110092, "trigger price on the wrong side of last price"),
    RejectCode.NO_PRICE: (10001, "no market price"),
    RejectCode.UNKNOWN_ORDER: (110001, "Order does not exist"),
    RejectCode.ORDER_NOT_OPEN: (110008, "The order has been completed or cancelled."),
    RejectCode.INVALID_REQUEST: (10001, "Request parameter error"),
}
_SPOT_CODES = {
    **_LINEAR_CODES,
    RejectCode.UNKNOWN_SYMBOL: (170121, "Invalid symbol."),
    RejectCode.INVALID_QUANTITY: (170137, "Order volume decimal too long"),
    RejectCode.INVALID_PRICE: (170134, "Order price decimal too long."),
    RejectCode.MIN_NOTIONAL: (170140, "Order value exceeded lower limit"),
    RejectCode.INSUFFICIENT_BALANCE: (170131, "Balance insufficient"),
    RejectCode.POST_ONLY_WOULD_TAKE: (170210, "New order rejected."),
    RejectCode.UNKNOWN_ORDER: (170213, "Order does not exist."),
}
_STATUS = {
    OrderStatus.NEW: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
    OrderStatus.EXPIRED: "Cancelled",
    OrderStatus.REJECTED: "Rejected",
    OrderStatus.UNTRIGGERED: "Untriggered",
}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TIF["PostOnly"] = TimeInForce.POST_ONLY
_TIF_OUT = {v: k for k, v in _TIF.items()}


class BybitError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Params = dict[str, Any]
Handler = Callable[[ExchangeSimulator, Params], Any]


def _envelope(sim: ExchangeSimulator, code: int, msg: str, result: Any) -> dict[str, Any]:
    return {
        "retCode": code,
        "retMsg": msg,
        "result": result,
        "retExtInfo": {},
        "time": ms(sim.wall.now()),
    }


def _rejection(market: Market, exc: OrderRejectedError) -> BybitError:
    code, msg = (_SPOT_CODES if market is Market.SPOT else _LINEAR_CODES)[exc.code]
    return BybitError(code, f"{msg} ({exc.message})")


def _dec(params: Params, name: str, *, required: bool = False) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise BybitError(10001, f"params error: {name} is required")
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise BybitError(10001, f"params error: {name} invalid") from None


def _market(params: Params) -> Market:
    market = CATEGORIES.get(str(params.get("category", "")))
    if market is None:
        raise BybitError(10001, "params error: category only supports spot and linear")
    return market


def _side(raw: Any) -> Side:
    if raw == "Buy":
        return Side.BUY
    if raw == "Sell":
        return Side.SELL
    raise BybitError(10001, "params error: side invalid")


def _bool(raw: Any) -> bool:
    return raw is True or str(raw).lower() == "true"


def order_json(o: SimOrder, market: Market) -> dict[str, Any]:
    conditional = o.order_type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
    rising = (o.order_type is OrderType.STOP_MARKET) == (o.side is Side.BUY)
    stop_type = ""
    if conditional:
        stop_type = "Stop"
        if o.parent_id is not None:
            stop_type = "StopLoss" if o.order_type is OrderType.STOP_MARKET else "TakeProfit"
    leaves = o.quantity - o.filled_quantity if o.is_open else Decimal(0)
    return {
        "orderId": str(o.order_id),
        "orderLinkId": o.client_order_id,
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": fmt(o.price or Decimal(0)),
        "qty": fmt(o.quantity),
        "side": "Buy" if o.side is Side.BUY else "Sell",
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": _STATUS[o.status],
        "cancelType": "UNKNOWN" if o.status is not OrderStatus.CANCELED else "CancelByUser",
        "rejectReason": "EC_NoError",
        "avgPrice": fmt(o.average_price) if o.average_price is not None else "0",
        "leavesQty": fmt(leaves),
        "leavesValue": fmt(leaves * (o.price or Decimal(0))),
        "cumExecQty": fmt(o.filled_quantity),
        "cumExecValue": fmt(o.cumulative_quote),
        "cumExecFee": fmt(o.fees),
        "timeInForce": _TIF_OUT[o.time_in_force],
        "orderType": "Limit" if o.order_type is OrderType.LIMIT else "Market",
        "stopOrderType": stop_type,
        "orderIv": "",
        "triggerPrice": fmt(o.trigger_price or Decimal(0)),
        "takeProfit": "0",
        "stopLoss": "0",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": (1 if rising else 2) if conditional else 0,
        "triggerBy": "LastPrice" if conditional else "",
        "lastPriceOnCreated": "",
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": False,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "placeType": "",
        "createdTime": str(ms(o.created_at)),
        "updatedTime": str(ms(o.updated_at)),
        "category": "spot" if market is Market.SPOT else "linear",
    }


def _request(engine: MatchingEngine, market: Market, p: Params, link_id: str) -> OrderRequest:
    symbol = str(p.get("symbol", ""))
    side = _side(p.get("side"))
    kind = p.get("orderType")
    qty = _dec(p, "qty", required=True)
    assert qty is not None
    trigger = _dec(p, "triggerPrice")
    mark = engine.mark_price(symbol)
    quote_qty = trigger is None and p.get("marketUnit", "quoteCoin") != "baseCoin"
    if market is Market.SPOT and kind == "Market" and side is Side.BUY and quote_qty:
        inst = engine.instruments.get(symbol)
        if inst is None or mark is None:
            raise BybitError(170121, "Invalid symbol.")
        qty = round_quantity(inst, qty / mark)
    if kind not in ("Market", "Limit"):
        raise BybitError(10001, "params error: orderType invalid")
    tif = _TIF.get(str(p.get("timeInForce", "GTC")))
    if tif is None:
        raise BybitError(10001, "params error: timeInForce invalid")
    if trigger is not None:
        if kind != "Market":
            raise BybitError(10001, "params error: only conditional market orders are simulated")
        direction = int(p.get("triggerDirection", 0) or 0)
        rising = direction == 1 if direction else (mark is not None and trigger > mark)
        order_type = (
            OrderType.STOP_MARKET if rising == (side is Side.BUY) else OrderType.TAKE_PROFIT_MARKET
        )
    else:
        order_type = OrderType.LIMIT if kind == "Limit" else OrderType.MARKET
    return OrderRequest(
        client_order_id=link_id,
        symbol=symbol,
        side=side,
        order_type=order_type,
        quantity=qty,
        price=_dec(p, "price") if order_type is OrderType.LIMIT else None,
        trigger_price=trigger,
        time_in_force=tif if order_type is OrderType.LIMIT else TimeInForce.GTC,
        reduce_only=_bool(p.get("reduceOnly", False)),
        stop_loss=_dec(p, "stopLoss"),
        take_profit=_dec(p, "takeProfit"),
    )


def create(sim: ExchangeSimulator, p: Params) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    link_id = str(p.get("orderLinkId") or f"sim-{len(engine.orders()) + 1}")
    if len(link_id) > 36:
        raise BybitError(10001, "params error: orderLinkId longer than 36")
    if engine.order(link_id) is not None:
        if market is Market.SPOT:
            raise BybitError(170141, "Duplicate clientOrderId")
        raise BybitError(110072, "OrderLinkedID is duplicate")
    try:
        o = engine.submit(_request(engine, market, p, link_id))
    except OrderRejectedError as exc:
        raise _rejection(market, exc) from None
    return {"orderId": str(o.order_id), "orderLinkId": o.client_order_id}


def _lookup(engine: MatchingEngine, p: Params) -> SimOrder | None:
    if p.get("orderLinkId"):
        return engine.order(str(p["orderLinkId"]))
    if p.get("orderId"):
        try:
            return engine.order_by_id(int(str(p["orderId"])))
        except ValueError:
            return None
    return None


def _find(engine: MatchingEngine, market: Market, p: Params) -> SimOrder:
    o = _lookup(engine, p)
    if o is None or o.symbol != p.get("symbol"):
        code, msg = (_SPOT_CODES if market is Market.SPOT else _LINEAR_CODES)[
            RejectCode.UNKNOWN_ORDER
        ]
        raise BybitError(code, msg)
    return o


def amend(sim: ExchangeSimulator, p: Params) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    o = _find(engine, market, p)
    try:
        o = engine.amend(
            o.symbol,
            o.client_order_id,
            quantity=_dec(p, "qty"),
            price=_dec(p, "price"),
            trigger_price=_dec(p, "triggerPrice"),
        )
    except OrderRejectedError as exc:
        raise _rejection(market, exc) from None
    return {"orderId": str(o.order_id), "orderLinkId": o.client_order_id}


def cancel(sim: ExchangeSimulator, p: Params) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    o = _find(engine, market, p)
    try:
        o = engine.cancel(o.symbol, o.client_order_id)
    except OrderRejectedError as exc:
        raise _rejection(market, exc) from None
    return {"orderId": str(o.order_id), "orderLinkId": o.client_order_id}


def cancel_all(sim: ExchangeSimulator, p: Params) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    symbol = str(p["symbol"]) if p.get("symbol") else None
    done = engine.cancel_all(symbol)
    return {
        "list": [{"orderId": str(o.order_id), "orderLinkId": o.client_order_id} for o in done],
        "success": "1",
    }


def _orders(sim: ExchangeSimulator, p: Params, *, open_only: bool) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    symbol = str(p["symbol"]) if p.get("symbol") else None
    if p.get("orderLinkId") or p.get("orderId"):
        o = _lookup(engine, p)
        found = [o] if o is not None and symbol in (None, o.symbol) else []
    else:
        found = engine.orders(symbol, open_only=open_only)
    limit = int(p.get("limit", 50) or 50)
    return {
        "list": [order_json(o, market) for o in reversed(found)][:limit],
        "nextPageCursor": "",
        "category": p["category"],
    }


def realtime(sim: ExchangeSimulator, p: Params) -> Any:
    return _orders(sim, p, open_only=str(p.get("openOnly", "0")) == "0")


def history(sim: ExchangeSimulator, p: Params) -> Any:
    return _orders(sim, p, open_only=False)


def positions(sim: ExchangeSimulator, p: Params) -> Any:
    if p.get("category") != "linear":
        raise BybitError(10001, "params error: category only supports linear")
    engine = sim.engine(VENUE, Market.LINEAR)
    wanted = p.get("symbol")
    rows = []
    for pos in engine.positions():
        if wanted and pos.symbol != wanted:
            continue
        size = abs(pos.quantity)
        rows.append(
            {
                "positionIdx": 0,
                "riskId": 1,
                "riskLimitValue": "2000000",
                "symbol": pos.symbol,
                "side": "" if pos.quantity == 0 else ("Buy" if pos.quantity > 0 else "Sell"),
                "size": fmt(size),
                "avgPrice": fmt(pos.average_entry),
                "positionValue": fmt(size * pos.average_entry),
                "tradeMode": 0,
                "positionStatus": "Normal",
                "autoAddMargin": 0,
                "adlRankIndicator": 0,
                "leverage": fmt(engine.config.leverage),
                "positionBalance": "0",
                "markPrice": fmt(pos.mark_price or Decimal(0)),
                "liqPrice": "",
                "bustPrice": "",
                "positionMM": "0",
                "positionIM": fmt(size * pos.average_entry / engine.config.leverage),
                "tpslMode": "Full",
                "takeProfit": "0",
                "stopLoss": "0",
                "trailingStop": "0",
                "unrealisedPnl": fmt(pos.unrealised_pnl),
                "curRealisedPnl": fmt(pos.realised_pnl - pos.fees),
                "cumRealisedPnl": fmt(pos.realised_pnl - pos.fees),
                "seq": 0,
                "isReduceOnly": False,
                "createdTime": str(ms(pos.updated_at)),
                "updatedTime": str(ms(pos.updated_at)),
            }
        )
    return {"list": rows, "nextPageCursor": "", "category": "linear"}


def wallet(sim: ExchangeSimulator, p: Params) -> Any:
    kind = str(p.get("accountType", "UNIFIED"))
    markets = {"UNIFIED": (Market.SPOT, Market.LINEAR), "SPOT": (Market.SPOT,)}
    markets["CONTRACT"] = (Market.LINEAR,)
    if kind not in markets:
        raise BybitError(10001, "accountType only supports UNIFIED, SPOT and CONTRACT")
    coins: dict[str, dict[str, Decimal]] = {}
    for market in markets[kind]:
        engine = sim.engine(VENUE, market)
        for asset, amount in engine.balances().items():
            row = coins.setdefault(asset, {"wallet": Decimal(0), "locked": Decimal(0)})
            row["wallet"] += amount
            row["locked"] += engine.locked(asset)
            if market is Market.LINEAR and asset == "USDT":
                row["upl"] = row.get("upl", Decimal(0)) + engine.unrealised_pnl()
    coin_rows = []
    total = Decimal(0)
    for asset, row in sorted(coins.items()):
        upl = row.get("upl", Decimal(0))
        equity = row["wallet"] + upl
        if asset == "USDT":
            total += equity
        coin_rows.append(
            {
                "coin": asset,
                "equity": fmt(equity),
                "walletBalance": fmt(row["wallet"]),
                "locked": fmt(row["locked"]),
                "unrealisedPnl": fmt(upl),
                "availableToWithdraw": fmt(row["wallet"] - row["locked"]),
                "totalOrderIM": "0",
                "totalPositionIM": "0",
                "totalPositionMM": "0",
                "usdValue": fmt(equity) if asset == "USDT" else "0",
                "cumRealisedPnl": "0",
                "borrowAmount": "0",
                "accruedInterest": "0",
                "bonus": "0",
                "marginCollateral": True,
                "collateralSwitch": True,
            }
        )
    return {
        "list": [
            {
                "accountType": kind,
                "totalEquity": fmt(total),
                "totalWalletBalance": fmt(total),
                "totalMarginBalance": fmt(total),
                "totalAvailableBalance": fmt(total),
                "totalPerpUPL": "0",
                "totalInitialMargin": "0",
                "totalMaintenanceMargin": "0",
                "accountIMRate": "0",
                "accountMMRate": "0",
                "accountLTV": "0",
                "coin": coin_rows,
            }
        ]
    }


def instruments(sim: ExchangeSimulator, p: Params) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    rows = []
    for inst in engine.instruments.values():
        if p.get("symbol") and inst.symbol != p["symbol"]:
            continue
        row: dict[str, Any] = {
            "symbol": inst.symbol,
            "status": "Trading",
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "priceFilter": {"tickSize": fmt(inst.tick_size)},
        }
        if market is Market.SPOT:
            row["lotSizeFilter"] = {
                "basePrecision": fmt(inst.lot_size),
                "quotePrecision": "0.00000001",
                "minOrderQty": fmt(inst.min_qty),
                "maxOrderQty": fmt(inst.max_qty),
                "minOrderAmt": fmt(inst.min_notional),
                "maxOrderAmt": "2000000",
            }
        else:
            row.update(contractType="LinearPerpetual", settleCoin=inst.quote, priceScale="2")
            row["priceFilter"].update(minPrice=fmt(inst.tick_size), maxPrice="1999999")
            row["lotSizeFilter"] = {
                "maxOrderQty": fmt(inst.max_qty),
                "minOrderQty": fmt(inst.min_qty),
                "qtyStep": fmt(inst.lot_size),
                "minNotionalValue": fmt(inst.min_notional),
            }
        rows.append(row)
    return {"category": p["category"], "list": rows, "nextPageCursor": ""}


def tickers(sim: ExchangeSimulator, p: Params) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    rows = []
    for symbol in engine.instruments:
        price = engine.mark_price(symbol)
        if price is None or (p.get("symbol") and symbol != p["symbol"]):
            continue
        rows.append(
            {
                "symbol": symbol,
                "lastPrice": fmt(price),
                "markPrice": fmt(price),
                "indexPrice": fmt(price),
                "bid1Price": fmt(price),
                "ask1Price": fmt(price),
            }
        )
    return {"category": p["category"], "list": rows}


def kline(sim: ExchangeSimulator, p: Params) -> Any:
    """Bars up to market time, newest first. The bar still forming shows only its open (its
    later prices are the future in a replay); bars of another interval are not simulated."""
    _market(p)
    symbol = str(p.get("symbol") or "")
    series = sim.prices.series.get(symbol)
    if series is None:
        raise BybitError(10001, "params error: symbol invalid")
    minutes = int(series.interval.total_seconds() // 60)
    if str(p.get("interval")) != str(minutes):
        raise BybitError(10001, f"params error: the simulator serves interval {minutes} only")
    limit = min(1000, int(p.get("limit") or 200))
    now = sim.clock.now()
    closed = series.closed_before(now, limit)
    rows = [
        [
            str(ms(b.open_time)),
            fmt(b.open),
            fmt(b.high),
            fmt(b.low),
            fmt(b.close),
            fmt(b.volume),
            "0",
        ]
        for b in closed
    ]
    forming = (
        series.first_open_at_or_after(closed[-1].open_time + series.interval) if closed else None
    )
    if forming is not None and forming.open_time <= now:
        o = fmt(forming.open)
        rows.append([str(ms(forming.open_time)), o, o, o, o, "0", "0"])
    return {"category": p["category"], "symbol": symbol, "list": list(reversed(rows[-limit:]))}


def server_time(sim: ExchangeSimulator, p: Params) -> Any:
    now = ms(sim.wall.now())
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


def executions(sim: ExchangeSimulator, p: Params) -> Any:
    market = _market(p)
    engine = sim.engine(VENUE, market)
    rows = []
    for f in reversed(engine.fills(str(p["symbol"]) if p.get("symbol") else None)):
        if p.get("orderLinkId") and f.client_order_id != p["orderLinkId"]:
            continue
        o = engine.order(f.client_order_id)
        assert o is not None
        rows.append(
            {
                "symbol": f.symbol,
                "orderId": str(f.order_id),
                "orderLinkId": f.client_order_id,
                "side": "Buy" if f.side is Side.BUY else "Sell",
                "orderPrice": fmt(o.price or Decimal(0)),
                "orderQty": fmt(o.quantity),
                "leavesQty": fmt(o.quantity - o.filled_quantity),
                "orderType": "Limit" if o.order_type is OrderType.LIMIT else "Market",
                "stopOrderType": "",
                "execFee": fmt(f.fee),
                "execId": f.fill_id,
                "execPrice": fmt(f.price),
                "execQty": fmt(f.quantity),
                "execType": "Trade",
                "execValue": fmt(f.quantity * f.price),
                "execTime": str(ms(f.filled_at)),
                "feeCurrency": f.fee_asset,
                "isMaker": f.is_maker,
                "feeRate": fmt(f.fee / (f.quantity * f.price)),
                "markPrice": fmt(f.price),
                "closedSize": "0",
                "seq": 0,
            }
        )
    return {
        "list": rows[: int(p.get("limit", 50) or 50)],
        "nextPageCursor": "",
        "category": p["category"],
    }


PRIVATE: dict[tuple[str, str], Handler] = {
    ("POST", "/v5/order/create"): create,
    ("POST", "/v5/order/amend"): amend,
    ("POST", "/v5/order/cancel"): cancel,
    ("POST", "/v5/order/cancel-all"): cancel_all,
    ("GET", "/v5/order/realtime"): realtime,
    ("GET", "/v5/order/history"): history,
    ("GET", "/v5/position/list"): positions,
    ("GET", "/v5/account/wallet-balance"): wallet,
    ("GET", "/v5/execution/list"): executions,
}
PUBLIC: dict[tuple[str, str], Handler] = {
    ("GET", "/v5/market/instruments-info"): instruments,
    ("GET", "/v5/market/tickers"): tickers,
    ("GET", "/v5/market/kline"): kline,
    ("GET", "/v5/market/time"): server_time,
}


def _authenticate(sim: ExchangeSimulator, request: web.Request, payload: str) -> str:
    key = request.headers.get("X-BAPI-API-KEY", "")
    secret = sim.secret(key)
    if secret is None:
        raise BybitError(10003, "API key is invalid.")
    ts = request.headers.get("X-BAPI-TIMESTAMP", "")
    window = request.headers.get("X-BAPI-RECV-WINDOW", "5000")
    try:
        skew = ms(sim.wall.now()) - int(ts)
        if not (-1000 <= skew <= int(window)):
            raise BybitError(10002, "The request time exceeds the time window range.")
    except ValueError:
        raise BybitError(10002, "invalid request timestamp") from None
    prefix = ts + key + window
    valid = {hmac_sha256(secret, prefix + payload), hmac_sha256(secret, prefix + unquote(payload))}
    if request.headers.get("X-BAPI-SIGN", "") not in valid:
        raise BybitError(10004, "Error sign, please check your signature generation algorithm.")
    return key


def handler(
    sim: ExchangeSimulator, method: str, path: str, private: bool
) -> Callable[[web.Request], Awaitable[web.Response]]:
    func = (PRIVATE if private else PUBLIC)[(method, path)]

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        payload = request.rel_url.raw_query_string if method == "GET" else body
        try:
            caller = request.remote or "anon"
            if private:
                caller = _authenticate(sim, request, payload)
            allowed, reset = sim.limiter.allow(caller)
            if not allowed:
                resp = web.json_response(
                    _envelope(sim, 10006, "Too many visits. Exceeded the API Rate Limit.", {})
                )
                resp.headers["X-Bapi-Limit-Status"] = "0"
                resp.headers["X-Bapi-Limit-Reset-Timestamp"] = str(ms(reset))
                return resp
            params: Params = dict(request.query) if method == "GET" else json.loads(body or "{}")
            with sim.lock:
                result = func(sim, params)
            return web.json_response(_envelope(sim, 0, "OK", result))
        except BybitError as exc:
            return web.json_response(_envelope(sim, exc.code, exc.message, {}))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            return web.json_response(_envelope(sim, 10001, f"Request parameter error: {exc}", {}))

    return handle


def add_routes(app: web.Application, sim: ExchangeSimulator) -> None:
    for private, table in ((True, PRIVATE), (False, PUBLIC)):
        for method, path in table:
            app.router.add_route(method, path, handler(sim, method, path, private))
