"""Walk-forward evaluation: tune on one window, trade the next, and judge only what was unseen.

A fold's parameters are chosen on its in-sample window alone; the headline joins the
out-of-sample windows, which never overlap and never precede their own tuning window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import msgspec

from records import UtcDatetime

K = TypeVar("K")


class Fold(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    train_start: UtcDatetime
    train_end: UtcDatetime
    test_start: UtcDatetime
    test_end: UtcDatetime


def folds(start: datetime, end: datetime, train: timedelta, test: timedelta) -> list[Fold]:
    """Rolling folds: train ``[t, t+train)``, test ``[t+train, t+train+test)``, step ``test``.

    The last test window is cut at ``end``; no fold is made whose test window would be empty.
    """
    if train <= timedelta(0) or test <= timedelta(0):
        msg = "train and test windows must be positive"
        raise ValueError(msg)
    out: list[Fold] = []
    t = start
    while t + train < end:
        test_start = t + train
        out.append(
            Fold(
                index=len(out),
                train_start=t,
                train_end=test_start,
                test_start=test_start,
                test_end=min(test_start + test, end),
            )
        )
        t += test
    return out


def choose(scores: Mapping[K, float | None], order: Sequence[K]) -> K:
    """The best-scoring candidate; undefined scores lose; ties go to the earliest in ``order``
    (list the most conservative candidate first: it also wins when nothing scores)."""
    best: K | None = None
    best_score = float("-inf")
    for cand in order:
        score = scores.get(cand)
        if score is not None and score > best_score:
            best, best_score = cand, score
    if best is None:
        if not order:
            msg = "no candidates to choose from"
            raise ValueError(msg)
        return order[0]
    return best
