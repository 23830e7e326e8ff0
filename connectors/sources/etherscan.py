"""Etherscan: large transfers from watched addresses and token contracts, as news items.

One partition per watched address (``account/txlist``) and per token (``account/tokentx``).
The snapshot holds the last block read and the transfer ids already emitted in it; the next
query starts *at* that block, so transfers landing in it later are not skipped, and the ids
drop what was already sent. The API key comes from the environment and is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from bytewax.inputs import FixedPartitionedSource

from connectors.sources import metrics
from connectors.sources.backoff import ExponentialBackoff
from connectors.sources.config import Defaults, EtherscanConfig, WatchedAddress, WatchedToken
from connectors.sources.httpio import Fetched, FetchFailed, get, open_session
from connectors.sources.jsonmap import dead_letter, decode_json
from connectors.sources.ratelimit import limiter_for
from connectors.sources.runtime import AsyncPartition, Emitter, SourceItem
from connectors.sources.secrets import Secret, secret_from_env
from connectors.sources.seen import SeenIds
from connectors.sources.text import parse_instant
from records import Clock, NewsItem

log = logging.getLogger(__name__)

PAGE = 100
BACKOFF = ExponentialBackoff(initial_s=2.0, maximum_s=300.0)


@dataclass(frozen=True)
class EthState:
    last_block: int = 0
    seen: tuple[str, ...] = ()


class EtherscanError(ValueError):
    """The API answered, but not with a transfer list (rate limit, bad key, HTML page...)."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


def parse_response(body: bytes) -> list[dict[str, Any]]:
    """The ``result`` list of a txlist/tokentx answer; ``EtherscanError`` for anything else."""
    try:
        payload = decode_json(body)
    except ValueError as exc:
        raise EtherscanError(str(exc)) from exc
    if not isinstance(payload, dict):
        raise EtherscanError("answer is not a JSON object")
    result = payload.get("result")
    if payload.get("status") == "1" and isinstance(result, list):
        return [r for r in result if isinstance(r, dict)]
    message = str(payload.get("message", ""))
    if message.startswith("No transactions found") or result == []:
        return []
    detail = result if isinstance(result, str) else message
    raise EtherscanError(f"Etherscan: {detail}", rate_limited="rate limit" in detail.lower())


def _short(address: str, labels: dict[str, str]) -> str:
    return labels.get(address.lower(), f"{address[:8]}…{address[-4:]}" if address else "?")


def transfer_item(
    tx: dict[str, Any],
    *,
    source: str,
    symbol: str,
    decimals: int,
    labels: dict[str, str],
    received: datetime,
) -> NewsItem:
    """One transfer as a NewsItem; ``ValueError`` if a field is missing or malformed."""
    try:
        amount = Decimal(str(tx["value"])).scaleb(-decimals)
        tx_hash = str(tx["hash"])
        block = int(tx["blockNumber"])
    except (KeyError, InvalidOperation, ValueError) as exc:
        raise ValueError(f"malformed transfer: {exc!r}") from exc
    published = parse_instant(str(tx.get("timeStamp", "")))
    if published is None:
        raise ValueError("malformed transfer: no timeStamp")
    item_id = f"{tx_hash}:{tx['logIndex']}" if "logIndex" in tx else tx_hash
    sender, receiver = str(tx.get("from", "")), str(tx.get("to", ""))
    return NewsItem(
        source=source,
        id=item_id,
        title=(
            f"Large transfer: {amount.normalize():,f} {symbol} "
            f"from {_short(sender, labels)} to {_short(receiver, labels)}"
        ),
        body=f"block {block}, tx {tx_hash}, from {sender} to {receiver}",
        url=f"https://etherscan.io/tx/{tx_hash}",
        published_at=published,
        received_at=received,
        raw_ref=f"etherscan:{block}:{item_id}",
    )


@dataclass(frozen=True)
class _Watch:
    part: str
    params: dict[str, str]
    symbol: str
    decimals: int
    minimum: Decimal


class EtherscanSource(FixedPartitionedSource[SourceItem, EthState]):
    def __init__(
        self,
        config: EtherscanConfig,
        defaults: Defaults,
        clock: Clock,
        *,
        once: bool = False,
        backoff: ExponentialBackoff = BACKOFF,
    ) -> None:
        self._backoff = backoff
        self._config = config
        self._defaults = defaults
        self._clock = clock
        self._once = once
        self._watches = {w.part: w for w in self._build_watches()}
        self._labels = {a.address.lower(): a.label for a in config.addresses}

    def _build_watches(self) -> list[_Watch]:
        name = self._config.name
        watches = [_address_watch(name, a, self._config.min_eth) for a in self._config.addresses]
        watches += [_token_watch(name, t) for t in self._config.tokens]
        return watches

    def list_parts(self) -> list[str]:
        return list(self._watches)

    def build_part(
        self, step_id: str, for_part: str, resume_state: EthState | None
    ) -> AsyncPartition[EthState]:
        key = secret_from_env(self._config.api_key_env, "Etherscan API key")
        watch = self._watches[for_part]

        async def run(state: EthState, emitter: Emitter[EthState]) -> None:
            await self._poll(watch, key, state, emitter)

        return AsyncPartition(
            for_part,
            resume_state or EthState(),
            run,
            silence_after_s=0.0 if self._once else self._defaults.silence_after_s,
        )

    async def _poll(
        self, watch: _Watch, key: Secret, state: EthState, emitter: Emitter[EthState]
    ) -> None:
        config, defaults = self._config, self._defaults
        limiter = limiter_for(config.base_url, config.rate_per_s)
        seen = SeenIds(state.seen, defaults.remember)
        rng = random.Random()
        failures = 0
        async with open_session(
            defaults.user_agent,
            total_timeout_s=defaults.timeout_s,
            read_timeout_s=defaults.timeout_s,
        ) as session:
            while True:
                await limiter.acquire()
                params = {
                    "chainid": str(config.chain_id),
                    **watch.params,
                    "startblock": str(state.last_block),
                    "endblock": "99999999",
                    "page": "1",
                    "offset": str(PAGE),
                    "sort": "asc",
                    "apikey": key.reveal(),
                }
                result = await get(
                    session,
                    config.base_url,
                    max_bytes=defaults.max_bytes,
                    now=self._clock.now(),
                    params=params,
                )
                delay, full = config.poll_interval_s, False
                try:
                    if isinstance(result, FetchFailed):
                        raise EtherscanError(result.message, rate_limited=result.kind == "http_429")
                    assert isinstance(result, Fetched)
                    txs = parse_response(result.body)
                    state = await self._publish(watch, txs, state, seen, emitter)
                    failures, full = 0, len(txs) >= PAGE
                except EtherscanError as exc:
                    kind = "rate_limited" if exc.rate_limited else "api"
                    metrics.ERRORS.labels(watch.part, kind).inc()
                    log.warning("etherscan %s: %s", watch.part, exc)
                    delay = self._backoff.delay(failures, rng)
                    failures += 1
                if self._once and not full:
                    return
                await asyncio.sleep(0 if full else delay)

    async def _publish(
        self,
        watch: _Watch,
        txs: list[dict[str, Any]],
        state: EthState,
        seen: SeenIds,
        emitter: Emitter[EthState],
    ) -> EthState:
        now = self._clock.now()
        out: list[SourceItem] = []
        last_block = state.last_block
        for tx in txs:
            try:
                item = transfer_item(
                    tx,
                    source=self._config.name,
                    symbol=watch.symbol,
                    decimals=watch.decimals,
                    labels=self._labels,
                    received=now,
                )
            except ValueError as exc:
                out.append(dead_letter(watch.part, str(exc), msgspec.json.encode(tx), now))
                continue
            last_block = max(last_block, int(tx["blockNumber"]))
            if tx.get("isError", "0") != "0" or not seen.add(item.id):
                continue
            amount = Decimal(str(tx["value"])).scaleb(-watch.decimals)
            if amount >= watch.minimum:
                out.append(item)
        state = EthState(last_block=last_block, seen=seen.snapshot())
        await emitter.emit(out, state)
        return state


def _address_watch(name: str, address: WatchedAddress, minimum: Decimal) -> _Watch:
    params = {"module": "account", "action": "txlist", "address": address.address}
    return _Watch(f"{name}:{address.label}", params, "ETH", 18, minimum)


def _token_watch(name: str, token: WatchedToken) -> _Watch:
    params = {"module": "account", "action": "tokentx", "contractaddress": token.contract}
    return _Watch(f"{name}:{token.symbol}", params, token.symbol, token.decimals, token.min_amount)
