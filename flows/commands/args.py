"""Argument types shared by the subcommands."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def utc_instant(text: str) -> datetime:
    """An ISO date or instant as an aware UTC datetime, for ``argparse``'s ``type=``.

    A value without an offset is read as UTC (every bundled data set is UTC); one with an offset
    is converted, never relabelled, so ``2022-05-01T02:00+02:00`` is midnight UTC.
    """
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not an ISO date or instant (e.g. 2022-05-01 or 2022-05-01T12:00Z)"
        raise argparse.ArgumentTypeError(msg) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
