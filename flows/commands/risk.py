"""``tradewire risk reset``: resume trading after the kill switch, as an operator's decision.

Writes a ``ResetCommand`` to ``account.events`` (keyed by account), which the signal flow's risk
engine reads beside fills and order updates: peak and day-start equity restart from now and the
account goes back to ACTIVE (or to REDUCING with ``--to REDUCING``).
"""

from __future__ import annotations

import argparse
import os

from confluent_kafka import Producer

from connectors.kafka import Topics, reset_message
from operators.risk import ResetCommand, TradingState
from records import SystemClock


def send_reset(brokers: str, topic: str, reset: ResetCommand) -> None:
    """Produce the reset and wait for the broker's acknowledgement (raises if not delivered)."""
    producer = Producer({"bootstrap.servers": brokers, "enable.idempotence": True})
    failures: list[str] = []

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    message = reset_message(reset)
    producer.produce(topic, key=message.key, value=message.value, on_delivery=delivered)
    if producer.flush(30) or failures:
        msg = f"reset for {reset.account!r} not delivered to {topic}: {failures or 'timeout'}"
        raise RuntimeError(msg)


def run(args: argparse.Namespace) -> int:
    reset = ResetCommand(
        account=args.account,
        at=SystemClock().now(),
        reason=args.reason,
        to_state=TradingState(args.to),
    )
    send_reset(args.brokers, args.topic, reset)
    print(f"reset of account {args.account} to {args.to} sent to {args.topic}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("risk", help="operator commands for the risk engine")
    actions = parser.add_subparsers(dest="action", required=True)
    reset = actions.add_parser("reset", help="resume trading on an account after the kill switch")
    reset.add_argument("--account", required=True, help="the playbooks' account (e.g. paper)")
    reset.add_argument("--reason", required=True, help="why (kept in the state change record)")
    reset.add_argument(
        "--to",
        choices=[TradingState.ACTIVE.value, TradingState.REDUCING.value],
        default=TradingState.ACTIVE.value,
    )
    reset.add_argument(
        "--brokers",
        default=os.environ.get("TRADEWIRE_KAFKA_BROKERS", "127.0.0.1:9092"),
        help="bootstrap servers (default: TRADEWIRE_KAFKA_BROKERS)",
    )
    reset.add_argument(
        "--topic",
        default=Topics.with_prefix(os.environ.get("TRADEWIRE_TOPIC_PREFIX", "")).account_events,
        help="default: account.events behind TRADEWIRE_TOPIC_PREFIX",
    )
    reset.set_defaults(func=run)
