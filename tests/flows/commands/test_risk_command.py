"""``tradewire risk reset`` on a real Kafka-protocol broker (Tansu)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.kafka import Topics, decode_account_event, ensure_topics
from operators.normalise import RawMessage
from operators.risk import ResetCommand, TradingState
from tests.conftest import drain_topic

pytestmark = pytest.mark.integration
TRADEWIRE = Path(sys.executable).parent / "tradewire"


def test_reset_is_written_to_account_events_behind_the_prefix(tansu: str) -> None:
    prefix = f"r{uuid.uuid4().hex[:8]}."
    topics = Topics.with_prefix(prefix)
    ensure_topics([tansu], topics.all(), partitions=2)
    done = subprocess.run(
        [str(TRADEWIRE), "risk", "reset", "--account", "paper", "--reason", "reviewed by ops"],
        env={"TRADEWIRE_KAFKA_BROKERS": tansu, "TRADEWIRE_TOPIC_PREFIX": prefix, "PATH": ""},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    [record] = [m for ms in drain_topic(tansu, topics.account_events, 2).values() for m in ms]
    assert record.key == b"paper"
    reset = decode_account_event(RawMessage(value=record.value), datetime.now(UTC))
    assert isinstance(reset, ResetCommand)
    assert (reset.account, reset.reason, reset.to_state) == (
        "paper",
        "reviewed by ops",
        TradingState.ACTIVE,
    )
