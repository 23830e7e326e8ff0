"""The reaction table artefact: written content-addressed, verified on load, looked up."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import reaction_table as rt
from records import EventType, Sentiment


def stats(n: int, mean_abs: float) -> rt.Stats:
    return rt.Stats(n=n, mean=0.0, median=0.0, mean_abs=mean_abs, share_positive=0.5)


def artefact() -> rt.ReactionArtefact:
    rows = (
        rt.ReactionRow(
            event_type=EventType.HACK,
            sentiment=None,
            asset="BTC",
            horizon="1h",
            events=stats(30, 0.009),
            baseline=stats(600, 0.006),
        ),
        rt.ReactionRow(
            event_type=EventType.HACK,
            sentiment=Sentiment.NEGATIVE,
            asset="BTC",
            horizon="1h",
            events=stats(25, 0.01),
            baseline=stats(500, 0.006),
        ),
        rt.ReactionRow(
            event_type=EventType.MACRO,
            sentiment=None,
            asset="MARKET(BTC)",
            horizon="1h",
            events=stats(5, 0.02),
            baseline=None,
        ),
    )
    return rt.ReactionArtefact(
        format=rt.FORMAT,
        version="",
        inputs={"events": "abc"},
        seed=0,
        controls_per_event=20,
        counts={"timed": 35},
        rows=rows,
        baselines=(rt.Baseline(asset="BTC", horizon="1h", stats=stats(600, 0.006)),),
    )


def test_written_table_loads_by_path_and_by_version(tmp_path: Path) -> None:
    path = rt.write_artefact(artefact(), tmp_path)
    assert path.name == f"{rt.content_version(artefact())}.json"
    assert rt.write_artefact(artefact(), tmp_path).read_bytes() == path.read_bytes()
    table = rt.load_table(str(path))
    assert table.version == path.stem
    assert rt.load_table(path.name, base=tmp_path) == table
    assert rt.resolve("reactions-0123456789ab") == rt.REACTIONS_DIR / "reactions-0123456789ab.json"


def test_lookup_returns_the_expected_move_and_its_baseline(tmp_path: Path) -> None:
    table = rt.load_table(str(rt.write_artefact(artefact(), tmp_path)))
    got = table.expected_move(EventType.HACK, "BTC")
    assert got == rt.Expectation(move=0.009, baseline=0.006, samples=30)
    assert table.expected_move(EventType.HACK, "ETH") is None
    assert table.expected_move(EventType.HACK, "BTC", "4h") is None
    no_base = table.expected_move(EventType.MACRO, rt.market_key("BTC"))
    assert no_base == rt.Expectation(move=0.02, baseline=None, samples=5)
    row = table.row(EventType.HACK, "BTC", sentiment=Sentiment.NEGATIVE)
    assert row is not None and row.ratio == pytest.approx(0.01 / 0.006)


def test_an_edited_table_is_refused(tmp_path: Path) -> None:
    path = rt.write_artefact(artefact(), tmp_path)
    path.write_text(path.read_text().replace("0.009", "0.09"))
    with pytest.raises(rt.ReactionTableError, match="edited or corrupted"):
        rt.load_table(str(path))


def test_a_renamed_table_is_refused(tmp_path: Path) -> None:
    path = rt.write_artefact(artefact(), tmp_path)
    moved = path.rename(tmp_path / "reactions-000000000000.json")
    with pytest.raises(rt.ReactionTableError, match="holds version"):
        rt.load_table(str(moved))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"format": 1}', "malformed"),
    ],
)
def test_a_broken_table_is_a_clear_error(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(content)
    with pytest.raises(rt.ReactionTableError, match=match):
        rt.load_table(str(path))


def test_a_missing_table_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(rt.ReactionTableError, match="cannot read reaction table"):
        rt.load_table(str(tmp_path / "nope.json"))


def test_the_bundled_tables_load() -> None:
    paths = sorted(rt.REACTIONS_DIR.glob("reactions-*.json"))
    assert paths
    for path in paths:
        table = rt.load_table(path.stem)
        assert table.artefact.counts["events_measured"] > 3000
        assert table.expected_move(EventType.OTHER, "BTC") is not None
