"""Run an async source worker beside Bytewax: a background event loop feeds a queue.

``next_batch`` must never block, yet sources wait on sockets. Each partition therefore runs its
worker coroutine on its own event loop in a daemon thread. The worker hands over
``(items, state_after_items)`` pairs; ``next_batch`` drains them and adopts the state of the last
pair, so ``snapshot()`` always describes exactly what has been emitted downstream: items still in
the queue at a crash are fetched again on resume, never skipped and never emitted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from bytewax.inputs import StatefulSourcePartition

from connectors.sources import metrics
from connectors.sources.backoff import ExponentialBackoff
from records import Clock, DeadLetter, NewsItem, SystemClock

log = logging.getLogger(__name__)

SourceItem = NewsItem | DeadLetter
"""What every source emits: a normalised item, or the bytes it could not parse and why."""

S = TypeVar("S")

Worker = Callable[[S, "Emitter[S]"], Awaitable[None]]
"""``worker(resume_state, emitter)``: runs until done (``--once``) or cancelled."""

_RESTART = ExponentialBackoff(initial_s=1.0, maximum_s=60.0)


class Emitter(Generic[S]):
    """Thread-safe hand-off from a worker's loop to Bytewax's thread, with silence tracking."""

    def __init__(self, source: str, initial: S, *, maxsize: int = 10_000) -> None:
        self.source = source
        self._queue: queue.Queue[tuple[tuple[SourceItem, ...], S]] = queue.Queue(maxsize)
        self._last_state = initial
        self._last_item = time.monotonic()
        self._silent = False

    @property
    def last_state(self) -> S:
        """State after the last hand-over (emitted or still queued): where a restart continues."""
        return self._last_state

    def offer(self, items: Sequence[SourceItem], state: S) -> bool:
        """Hand over without waiting; False when the queue is full (caller can answer 503)."""
        try:
            self._queue.put_nowait((tuple(items), state))
        except queue.Full:
            return False
        self._last_state = state
        self._count(items)
        return True

    async def emit(self, items: Sequence[SourceItem], state: S) -> None:
        """Hand over, waiting (without blocking the loop) while the flow catches up."""
        while not self.offer(items, state):
            await asyncio.sleep(0.01)

    def drain(self, limit: int = 1000) -> list[tuple[tuple[SourceItem, ...], S]]:
        out: list[tuple[tuple[SourceItem, ...], S]] = []
        while len(out) < limit:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def empty(self) -> bool:
        return self._queue.empty()

    def _count(self, items: Sequence[SourceItem]) -> None:
        news = sum(1 for item in items if isinstance(item, NewsItem))
        if news:
            metrics.ITEMS.labels(self.source).inc(news)
            metrics.LAST_ITEM.labels(self.source).set_to_current_time()
            self._last_item = time.monotonic()
            if self._silent:
                log.info("source %s is producing again", self.source)
                self._silent = False
                metrics.SILENT.labels(self.source).set(0)
        if len(items) > news:
            metrics.DEAD_LETTERS.labels(self.source).inc(len(items) - news)

    def check_silence(self, after_s: float) -> None:
        """Report (log once + gauge) a source that has produced nothing for ``after_s``."""
        quiet = time.monotonic() - self._last_item
        if quiet >= after_s and not self._silent:
            self._silent = True
            metrics.SILENT.labels(self.source).set(1)
            log.warning("source %s silent for %.0f s", self.source, quiet)


class AsyncPartition(StatefulSourcePartition[SourceItem, S]):
    """A Bytewax partition whose items come from an async worker on a background loop.

    A worker that crashes is logged and restarted from the last state it handed over, with
    back-off: one broken source never stops the flow or the other sources.
    """

    def __init__(
        self,
        source: str,
        state: S,
        worker: Worker[S],
        *,
        silence_after_s: float = 0.0,
        pace: timedelta = timedelta(milliseconds=50),
        wall: Clock | None = None,
    ) -> None:
        self._source = source
        self._state = state
        self._worker = worker
        self._silence_after_s = silence_after_s
        self._pace = pace
        self._wall = wall or SystemClock()
        self._emitter: Emitter[S] = Emitter(source, state)
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(self._supervise())
        self._done = threading.Event()
        self._idle = False
        self._thread = threading.Thread(target=self._run, name=f"source-{source}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
            self._done.set()

    async def _supervise(self) -> None:
        watch = asyncio.create_task(self._watch_silence()) if self._silence_after_s > 0 else None
        rng = random.Random()
        attempt = 0
        try:
            while True:
                try:
                    await self._worker(self._emitter.last_state, self._emitter)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    delay = _RESTART.delay(attempt, rng)
                    attempt += 1
                    metrics.ERRORS.labels(self._source, "worker_crash").inc()
                    log.exception(
                        "source %s worker failed; restarting in %.1f s", self._source, delay
                    )
                    await asyncio.sleep(delay)
        finally:
            if watch is not None:
                watch.cancel()

    async def _watch_silence(self) -> None:
        interval = min(self._silence_after_s, 5.0)
        while True:
            await asyncio.sleep(interval)
            self._emitter.check_silence(self._silence_after_s)

    def next_batch(self) -> list[SourceItem]:
        finished = self._done.is_set()
        batch: list[SourceItem] = []
        for items, state in self._emitter.drain():
            batch.extend(items)
            self._state = state
        if not batch and finished and self._emitter.empty():
            raise StopIteration
        self._idle = not batch
        return batch

    def next_awake(self) -> datetime | None:
        # Pacing is scheduler time (Bytewax compares it with the wall clock), not event time.
        return self._wall.now() + self._pace if self._idle else None

    def snapshot(self) -> S:
        return self._state

    def close(self) -> None:
        if not self._done.is_set():
            # The loop may close between the check and the call: then there is nothing to cancel.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=10)
