"""De-duplicate the same story across sources inside an event-time window, counting corroboration.

Stories are keyed by a fingerprint of their title's content words (order, case, punctuation and
stop words ignored), so syndicated copies of one wire story from several outlets share a key. The
first sighting passes at once (latency matters more than waiting for company); each *new* source
within the window passes again with a higher corroboration count, so a story that was too weak
alone can still trade once others confirm it. Repeats from a source already counted are dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bytewax.operators import StatefulLogic

from records import Clock, NewsItem, StoryItem

_WORD = re.compile(r"[a-z0-9$]+(?:[.,][0-9]+)*")
_STOP_WORDS = """
a an the of to in on for and or but as at by with from into over after before is are was were
be been it its this that these those will would could should may might can has have had not no
new says said report reports via amid
"""
_STOP = frozenset(_STOP_WORDS.split())


def story_fingerprint(title: str) -> str:
    """Order-independent digest of a title's content words."""
    words = sorted({w for w in _WORD.findall(title.lower()) if w not in _STOP})
    return hashlib.blake2b(" ".join(words).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class StoryState:
    """What one story key remembers: immutable, so it is its own snapshot."""

    story_id: str
    first_seen: datetime
    sources: frozenset[str]
    evict_after: datetime
    """Wall-clock instant after which the state may be dropped (memory bound only)."""


def observe(
    state: StoryState | None, item: NewsItem, window: timedelta, evict_after: datetime
) -> tuple[StoryState, StoryItem | None]:
    """Pure transition: the new state, and the item to pass downstream (or None for a repeat)."""
    seen_at = item.received_at
    if state is None or seen_at - state.first_seen > window or seen_at < state.first_seen - window:
        story_id = hashlib.blake2b(item.key.encode(), digest_size=8).hexdigest()
        fresh = StoryState(story_id, seen_at, frozenset({item.source}), evict_after)
        return fresh, StoryItem(item=item, story_id=story_id, corroboration=1)
    if item.source in state.sources:
        return replace(state, evict_after=evict_after), None
    grown = replace(state, sources=state.sources | {item.source}, evict_after=evict_after)
    return grown, StoryItem(item=item, story_id=state.story_id, corroboration=len(grown.sources))


class DedupLogic(StatefulLogic[NewsItem, StoryItem, StoryState | None]):
    """Bytewax wrapper around :func:`observe`; drops a key's state once it can no longer match."""

    def __init__(self, state: StoryState | None, window: timedelta, wall: Clock) -> None:
        self._state = state
        self._window = window
        self._wall = wall

    def on_item(self, value: NewsItem) -> tuple[Iterable[StoryItem], bool]:
        evict_after = self._wall.now() + self._window
        self._state, out = observe(self._state, value, self._window, evict_after)
        return ([out] if out is not None else [], StatefulLogic.RETAIN)

    def on_notify(self) -> tuple[Iterable[StoryItem], bool]:
        return ([], StatefulLogic.DISCARD)

    def notify_at(self) -> datetime | None:
        return self._state.evict_after if self._state is not None else None

    def snapshot(self) -> StoryState | None:
        return self._state
