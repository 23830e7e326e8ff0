import argparse
from datetime import UTC, datetime

import pytest

from flows.commands.args import utc_instant


def test_a_date_or_naive_instant_is_read_as_utc() -> None:
    assert utc_instant("2022-05-01") == datetime(2022, 5, 1, tzinfo=UTC)
    assert utc_instant("2022-05-01T12:30") == datetime(2022, 5, 1, 12, 30, tzinfo=UTC)


def test_an_offset_is_converted_not_relabelled() -> None:
    at = utc_instant("2022-05-01T02:00:00+02:00")
    assert at == datetime(2022, 5, 1, tzinfo=UTC)
    assert at.tzinfo is UTC


def test_garbage_is_an_argparse_error() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not an ISO date"):
        utc_instant("last tuesday")


def test_a_parser_applies_it_to_its_string_default() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=utc_instant, default="2022-05-01")
    assert parser.parse_args([]).start == datetime(2022, 5, 1, tzinfo=UTC)
