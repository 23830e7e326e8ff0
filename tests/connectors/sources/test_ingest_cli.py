"""``tradewire ingest --once`` against local feed servers prints the items as JSON lines."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from records import NewsItem, from_json
from tests.connectors.sources._sourcekit import (
    BAD_GATEWAY,
    LocalServer,
    fed_speeches,
    feed_app,
    good_and_broken_feeds,
    rss_document,
)

Serve = Callable[[web.Application], LocalServer]
TRADEWIRE = Path(sys.executable).parent / "tradewire"


def run_ingest(config: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(TRADEWIRE), "ingest", "--config", str(config), "--once", *extra],
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_once_prints_every_feed_item_as_a_json_line(serve: Serve, tmp_path: Path) -> None:
    rows = fed_speeches()
    good = serve(feed_app(rss_document("FRB: Speeches", "x", rows)))
    broken = serve(feed_app(BAD_GATEWAY))
    config = tmp_path / "sources.toml"
    config.write_text(good_and_broken_feeds(good, broken))
    done = run_ingest(config)
    assert done.returncode == 0, done.stderr.decode()
    items = [from_json(line, NewsItem) for line in done.stdout.splitlines()]
    assert sorted(i.id for i in items) == sorted(r["link"] for r in rows)
    assert {i.source for i in items} == {"fed-speeches"}
    assert b"dead letter from source.broken" in done.stderr
    assert b"malformed XML" in done.stderr


def test_a_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text('[[rss]]\nname = "a"\nurl = "http://127.0.0.1:9/"\npoll = 5\n')
    done = run_ingest(config)
    assert done.returncode == 2
    assert b"unknown field `poll`" in done.stderr
