"""The model the flow ships with: it loads under this code and follows the guide's own examples.

Unit tests train small throwaway models; only this file touches the pinned artefact, so a
feature-set or encoder change that strands it fails here rather than in the demo.
"""

from __future__ import annotations

import pytest

from models import registry
from models.serving import SignalModel

# Every example headline of ../shared/docs/event-taxonomy.md (the event table and the notes).
GUIDE_EXAMPLES = (
    ("Ronin bridge drained of $625M", "HACK"),
    ("Curve pools exploited via Vyper bug", "HACK"),
    ("Powell says more hikes may be needed", "FED_SPEECH"),
    ("Fed holds rates steady", "FED_SPEECH"),
    ("Fed's Waller backs 25bp cut", "FED_SPEECH"),
    ("US CPI rises 0.4% in March", "MACRO"),
    ("ECB raises rates by 50bp", "MACRO"),
    ("SEC sues Coinbase", "REGULATION"),
    ("EU adopts MiCA", "REGULATION"),
    ("SEC approves spot bitcoin ETFs", "REGULATION"),
    ("China bans crypto mining", "REGULATION"),
    ("Trump vows to make US 'crypto capital of the planet'", "POLITICAL_POST"),
    ("Musk tweets Dogecoin meme", "POLITICAL_POST"),
    ("Senator Warren slams crypto", "POLITICAL_POST"),
    ("Binance will list PEPE", "LISTING"),
    ("Coinbase to delist BUSD", "LISTING"),
    ("Visa partners with Solana for USDC settlement", "PARTNERSHIP"),
    ("Tesla buys $1.5B in bitcoin", "PARTNERSHIP"),
    ("Paradigm leads $225M round in Monad", "PARTNERSHIP"),
    ("Ethereum completes the Merge", "TECHNICAL"),
    ("Solana network halts for 5 hours", "TECHNICAL"),
    ("Bitcoin halving happens at block 840,000", "TECHNICAL"),
    ("Bitcoin rises 5% to $30,000", "OTHER"),
    ("Analyst sees ETH at $10k", "OTHER"),
    ("Bitcoin falls as traders await Fed", "OTHER"),
    ("Bitcoin slides after SEC sues Binance", "REGULATION"),
)


@pytest.fixture(scope="module")
def pinned() -> SignalModel:
    return SignalModel.load()


def test_pinned_version_loads_with_this_feature_set_and_encoder(pinned: SignalModel) -> None:
    assert pinned.version == registry.resolve(None)
    (prediction,) = pinned.predict_batch([("SEC sues Coinbase", "test")])
    assert prediction.model_version == pinned.version
    assert 0.0 < prediction.event_confidence <= 1.0


def test_pinned_model_follows_the_guides_own_examples(pinned: SignalModel) -> None:
    predictions = pinned.predict_batch([(text, "guide") for text, _ in GUIDE_EXAMPLES])
    wrong = [
        (text, want, p.event_type.value)
        for (text, want), p in zip(GUIDE_EXAMPLES, predictions, strict=True)
        if p.event_type.value != want
    ]
    # Retrains of this recipe miss 3 or 4, all short and context-free ("EU adopts MiCA",
    # "Bitcoin halving happens at block 840,000"); a broken model misses far more.
    assert len(wrong) <= 4, wrong
    assert {want for _, want in GUIDE_EXAMPLES} <= {p.event_type.value for p in predictions}, (
        "some event type is never predicted for its own examples"
    )
