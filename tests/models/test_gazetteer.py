from __future__ import annotations

import pytest

from models import gazetteer
from models.gazetteer import GazetteerError, Kind


def test_bundled_gazetteer_covers_every_family() -> None:
    gaz = gazetteer.load()
    counts = {kind: len(gaz.by_kind(kind)) for kind in Kind}
    assert counts[Kind.ASSET] >= 60
    assert all(counts[k] > 0 for k in Kind)
    assert {"BTC", "ETH", "XRP", "SOL", "DOGE", "USDT", "MATIC", "TON"} <= gaz.tickers


def test_symbols_default_to_usdt_pairs_and_usdt_has_none() -> None:
    gaz = gazetteer.load()
    assert gaz.symbol_for("BTC") == "BTCUSDT"
    assert gaz.symbol_for("USDT") is None


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"asset": [{"ticker": "btc", "names": ["bitcoin"]}]}, "upper-case"),
        ({"asset": [{"ticker": "BTC"}]}, "no surface forms"),
        ({"exchange": [{"name": "X", "names": ["x"], "token": "x"}]}, "token"),
        ({"person": [{"name": "A", "names": ["a"], "role": "king"}]}, "role"),
        ({"planet": [{"name": "Mars", "names": ["mars"]}]}, "unknown section"),
        (
            {"asset": [{"ticker": "BTC", "names": ["a"]}, {"ticker": "BTC", "names": ["b"]}]},
            "duplicate",
        ),
    ],
)
def test_malformed_entries_are_refused(doc: dict[str, object], message: str) -> None:
    with pytest.raises(GazetteerError, match=message):
        gazetteer.parse(doc)


def test_fingerprint_follows_the_entries_not_the_object() -> None:
    doc = {"asset": [{"ticker": "BTC", "names": ["bitcoin"]}]}
    same = gazetteer.parse(doc).fingerprint
    assert gazetteer.parse(doc).fingerprint == same
    more = {"asset": [{"ticker": "BTC", "names": ["bitcoin", "xbt"]}]}
    assert gazetteer.parse(more).fingerprint != same
