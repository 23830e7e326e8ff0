from datetime import UTC, datetime

import pytest

from operators.normalise import MAX_PAYLOAD_BYTES, RawMessage, clean_text, normalise
from records import DeadLetter, NewsItem

NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _ok(value: bytes, **kw: object) -> NewsItem:
    out = normalise(RawMessage(value=value, **kw), NOW)  # type: ignore[arg-type]
    assert isinstance(out, NewsItem), out
    return out


def _refused(value: bytes) -> DeadLetter:
    out = normalise(RawMessage(value=value, key=b"k1"), NOW)
    assert isinstance(out, DeadLetter), out
    assert out.payload == value
    assert out.key == "k1"
    assert out.failed_at == NOW
    return out


def test_valid_item_is_cleaned_and_keeps_times() -> None:
    item = _ok(
        b'{"source":"CoinTelegraph","id":"42","title":"  Bitcoin &amp; <b>Ether</b>\\n rally ",'
        b'"published_at":"2022-05-09T12:00:00Z","received_at":"2022-05-09T12:00:03Z"}'
    )
    assert item.title == "Bitcoin & Ether rally"
    assert item.key == "CoinTelegraph:42"
    assert item.published_at == datetime(2022, 5, 9, 12, tzinfo=UTC)
    assert item.received_at == datetime(2022, 5, 9, 12, 0, 3, tzinfo=UTC)


def test_missing_received_at_falls_back_to_transport_time_then_now() -> None:
    body = b'{"source":"s","id":"1","title":"t","published_at":"2022-05-09T12:00:00+00:00"}'
    ts = datetime(2022, 5, 9, 12, 0, 1, tzinfo=UTC)
    assert _ok(body, timestamp=ts).received_at == ts
    assert _ok(body).received_at == NOW


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b'{"source":"s","id":"1","published_at":"2022-05-09T12:00:00Z"}', "invalid news item"),
        (b'{"source":"s","id":"1","title":"t","published_at":"2022-05-09T12:00:00"}', "invalid"),
        (
            b'{"source":"s","id":"1","title":"  ","published_at":"2022-05-09T12:00:00Z"}',
            "empty title",
        ),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1,2,3]", "invalid news item"),
        (b"", "malformed JSON"),
    ],
)
def test_bad_input_is_dead_lettered_with_reason(value: bytes, reason: str) -> None:
    assert reason in _refused(value).reason


def test_huge_payload_and_title_are_refused() -> None:
    huge = b'{"source":"s","id":"1","title":"' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    assert "payload too large" in _refused(huge).reason
    long_title = (
        b'{"source":"s","id":"1","published_at":"2022-05-09T12:00:00Z","title":"'
        + b"y" * 5000
        + b'"}'
    )
    assert "title too long" in _refused(long_title).reason


def test_clean_text_normalises_unicode_and_space() -> None:
    assert clean_text("Cafe\u0301\t\t news <i>x</i>") == "Caf\u00e9 news x"
