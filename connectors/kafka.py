"""Kafka edges of the signal flow: bytes in, keyed JSON records out, errors as dead letters.

Plain Kafka protocol through confluent-kafka (via bytewax's connector); nothing here depends on a
particular broker. Output keys keep one asset's records in one partition, so its decisions stay
ordered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from bytewax.connectors.kafka import KafkaError, KafkaSinkMessage, KafkaSourceMessage
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from operators.normalise import RawMessage
from operators.risk import AccountFill, AccountOrderUpdate, CancelRequest, ResetCommand
from records import (
    DeadLetter,
    Fill,
    NewsItem,
    OrderIntent,
    OrderUpdate,
    RiskRejection,
    Signal,
    to_json,
)

NO_ASSET_KEY = b"_none"


@dataclass(frozen=True)
class Topics:
    """Topic names of the architecture (see README: topics)."""

    news_raw: str = "news.raw"
    signals: str = "signals"
    intents: str = "orders.intents"
    rejections: str = "orders.rejections"
    dlq: str = "dlq"
    account_events: str = "account.events"

    @classmethod
    def with_prefix(cls, prefix: str) -> Topics:
        """Every topic name behind ``prefix`` (several deployments on one cluster)."""
        return cls(*(prefix + name for name in cls().all()))

    def all(self) -> tuple[str, ...]:
        return (
            self.news_raw,
            self.signals,
            self.intents,
            self.rejections,
            self.dlq,
            self.account_events,
        )


def source_ref(topic: str, partition: int, offset: int) -> str:
    return f"kafka://{topic}/{partition}@{offset}"


def from_kafka(
    msg: KafkaSourceMessage[bytes | None, bytes | None] | KafkaError[bytes | None, bytes | None],
    now: datetime,
) -> RawMessage | DeadLetter:
    """A consumed record as a raw message; a consumer error as a dead letter (never a crash)."""
    if isinstance(msg, KafkaError):
        bad = msg.msg
        return DeadLetter(
            stage="kafka_in",
            reason=f"consumer error: {msg.err}",
            key=source_ref(bad.topic or "?", bad.partition or -1, bad.offset or -1),
            payload=bad.value or b"",
            failed_at=now,
        )
    stamp = None
    if msg.timestamp is not None and msg.timestamp[0] != TIMESTAMP_NOT_AVAILABLE:
        stamp = datetime.fromtimestamp(msg.timestamp[1] / 1000, tz=UTC)
    return RawMessage(
        value=msg.value or b"",
        key=msg.key,
        ref=source_ref(msg.topic or "?", msg.partition or 0, msg.offset or 0),
        timestamp=stamp,
    )


def asset_key(assets: Iterable[str]) -> bytes:
    """The partition key of a signal: its first asset, so one asset stays in one partition."""
    for asset in assets:
        return asset.encode()
    return NO_ASSET_KEY


def news_message(item: NewsItem) -> KafkaSinkMessage[bytes, bytes]:
    """``news.raw`` as ``tradewire topics load`` writes it: keyed ``source:id``, stamped with
    ``received_at``, so replays by time read live and archived news alike."""
    stamp = int(item.received_at.timestamp() * 1000)
    return KafkaSinkMessage(key=item.key.encode(), value=to_json(item), timestamp=stamp)


def signal_message(signal: Signal) -> KafkaSinkMessage[bytes, bytes]:
    return KafkaSinkMessage(key=asset_key(signal.assets), value=to_json(signal))


def order_message(order: OrderIntent | CancelRequest) -> KafkaSinkMessage[bytes, bytes]:
    """``orders.intents`` carries intents and the kill switch's cancel requests, both keyed by
    symbol, from one producer: a cancel stays behind its order in the partition."""
    return KafkaSinkMessage(key=order.symbol.encode(), value=to_json(order))


def rejection_message(rejection: RiskRejection) -> KafkaSinkMessage[bytes, bytes]:
    return KafkaSinkMessage(key=rejection.symbol.encode(), value=to_json(rejection))


def dead_letter_message(dead: DeadLetter) -> KafkaSinkMessage[bytes | None, bytes]:
    return KafkaSinkMessage(key=dead.key.encode() if dead.key else None, value=to_json(dead))


def account_event_message(
    event: AccountFill | AccountOrderUpdate,
) -> KafkaSinkMessage[bytes, bytes]:
    """Keyed by account: the risk engine keeps one account's state in one place."""
    return KafkaSinkMessage(key=event.account.encode(), value=to_json(event))


class _AccountEnvelope(msgspec.Struct, frozen=True):
    account: str
    fill: Fill | None = None
    update: OrderUpdate | None = None
    reset: ResetCommand | None = None


_account_decoder = msgspec.json.Decoder(_AccountEnvelope)


def reset_message(reset: ResetCommand) -> KafkaSinkMessage[bytes, bytes]:
    """An operator's kill-switch reset, on ``account.events`` keyed by account like fills."""
    envelope = _AccountEnvelope(reset.account, reset=reset)
    return KafkaSinkMessage(key=reset.account.encode(), value=to_json(envelope))


def decode_account_event(
    raw: RawMessage, now: datetime
) -> AccountFill | AccountOrderUpdate | ResetCommand | DeadLetter:
    """An ``account.events`` record back into the risk engine's event, or a dead letter."""
    try:
        env = _account_decoder.decode(raw.value)
    except msgspec.MsgspecError as exc:
        reason = f"invalid account event: {exc}"
    else:
        if env.fill is not None:
            return AccountFill(account=env.account, fill=env.fill)
        if env.update is not None:
            return AccountOrderUpdate(account=env.account, update=env.update)
        if env.reset is not None:
            if env.reset.account == env.account:
                return env.reset
            reason = f"reset for {env.reset.account!r} sent as account {env.account!r}"
        else:
            reason = "account event has neither fill, update nor reset"
    return DeadLetter(
        stage="account_events", reason=reason, key=raw.ref, payload=raw.value, failed_at=now
    )


def ensure_topics(
    brokers: list[str], topics: Iterable[str], partitions: int, timeout: float = 15.0
) -> None:
    """Create missing topics (idempotent): deployments and tests call it before starting flows."""
    admin = AdminClient({"bootstrap.servers": ",".join(brokers)})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [NewTopic(t, num_partitions=partitions) for t in topics if t not in existing]
    if not wanted:
        return
    for future in admin.create_topics(wanted, operation_timeout=timeout).values():
        try:
            future.result(timeout=timeout)
        except Exception as exc:  # a concurrent creator may have won the race: that is fine
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
