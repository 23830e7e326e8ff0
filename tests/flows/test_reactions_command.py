"""``tradewire reactions`` on a few real-dated headlines and the bundled Binance bars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.cli import main
from models.reaction_table import load_table
from records import EventType

ROWS = [
    # 2022: hourly bars only (1h and 4h); 2023: 5-minute bars too (15m)
    ("a", "2022-05-09T14:37:00Z", "MACRO", "negative", ["BTC"]),
    ("b", "2022-05-10T09:05:00Z", "HACK", "negative", ["SOL"]),
    ("c", "2023-03-10T15:12:00Z", "REGULATION", "negative", []),
    ("d", "2022-05-11T00:00:00Z", "OTHER", "neutral", []),  # a day only: left out
    ("e", None, "OTHER", "neutral", []),
]


def write_labelled(folder: Path) -> None:
    folder.mkdir()
    with (folder / "set.jsonl").open("w") as fh:
        for rid, when, event, sentiment, assets in ROWS:
            row = {
                "id": rid,
                "text": f"headline {rid}",
                "published_at": when,
                "event_type": event,
                "sentiment": sentiment,
                "assets": assets,
            }
            fh.write(json.dumps(row) + "\n")


def test_builds_a_deterministic_versioned_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_labelled(tmp_path / "labelled")
    args = ["reactions", "--labelled", str(tmp_path / "labelled"), "--controls", "5"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--out", str(tmp_path / "two")]) == 0
    (one,) = (tmp_path / "one").glob("reactions-*.json")
    (two,) = (tmp_path / "two").glob("reactions-*.json")
    assert one.read_bytes() == two.read_bytes()
    printed = capsys.readouterr().out
    assert one.stem in printed and "MACRO" in printed

    table = load_table(str(one))
    counts = table.artefact.counts
    assert (counts["labelled"], counts["timed"], counts["no_time"]) == (5, 3, 1)
    assert counts["midnight_only"] == 1
    assert counts["events_measured"] == 3
    assert set(table.artefact.inputs) >= {"events", "BTCUSDT-1h.csv.gz", "ETHUSDT-5m-2023.csv.gz"}
    macro = table.row(EventType.MACRO, "BTC")
    assert macro is not None and macro.events.n == 1
    assert macro.baseline is not None and macro.baseline.n == 5
    assert table.row(EventType.HACK, "MARKET(BTC)") is not None  # SOL is measured on BTC
    assert table.row(EventType.MACRO, "BTC", "15m") is None  # 2022: no 5-minute bars
    assert table.row(EventType.REGULATION, "MARKET(BTC)", "15m") is not None


def test_bad_controls_are_refused(tmp_path: Path) -> None:
    assert main(["reactions", "--controls", "0", "--out", str(tmp_path)]) == 2
