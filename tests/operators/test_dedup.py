from datetime import UTC, datetime, timedelta

from operators.dedup import observe, story_fingerprint
from tests.doubles import news

T0 = datetime(2022, 5, 9, 12, tzinfo=UTC)
W = timedelta(minutes=30)


def test_fingerprint_ignores_order_case_punctuation_and_stop_words() -> None:
    a = story_fingerprint("SEC sues Coinbase over unregistered securities")
    b = story_fingerprint("Coinbase, SEC sues -- over the Unregistered Securities!")
    assert a == b
    assert a != story_fingerprint("SEC sues Binance over unregistered securities")


def test_first_sighting_passes_repeats_from_same_source_are_dropped() -> None:
    state, out = observe(None, news("x", source="a", at=T0), W, T0)
    assert out is not None and out.corroboration == 1
    state2, out2 = observe(
        state, news("x", source="a", item_id="other", at=T0 + timedelta(minutes=1)), W, T0
    )
    assert out2 is None
    assert state2.sources == frozenset({"a"})


def test_new_sources_corroborate_within_window_and_share_story_id() -> None:
    state, first = observe(None, news("x", source="a", at=T0), W, T0)
    state, second = observe(state, news("x", source="b", at=T0 + timedelta(minutes=5)), W, T0)
    state, third = observe(state, news("x", source="c", at=T0 + timedelta(minutes=29)), W, T0)
    assert first is not None and second is not None and third is not None
    assert (second.corroboration, third.corroboration) == (2, 3)
    assert first.story_id == second.story_id == third.story_id


def test_after_the_window_the_story_starts_again() -> None:
    state, first = observe(None, news("x", source="a", at=T0), W, T0)
    _, later = observe(
        state, news("x", source="a", item_id="2", at=T0 + W + timedelta(seconds=1)), W, T0
    )
    assert first is not None and later is not None
    assert later.corroboration == 1
    assert later.story_id != first.story_id
