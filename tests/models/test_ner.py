"""NER and asset linking on hand-written headlines, one group per entity family."""

from __future__ import annotations

import pytest

from models.ner import Annotation, EntityLinker

pytestmark = pytest.mark.slow


def one(linker: EntityLinker, text: str) -> Annotation:
    return linker.annotate([text])[0]


def labels(ann: Annotation) -> dict[str, str]:
    return {e.canonical or e.text: e.label for e in ann.entities}


@pytest.mark.parametrize(
    ("text", "assets"),
    [
        ("Bitcoin rises 5% to $30,000 as Ether lags", ("BTC", "ETH")),
        ("Ripple's XRP jumps after court ruling", ("XRP",)),
        ("Solana, Cardano and Dogecoin lead altcoin rally", ("SOL", "ADA", "DOGE")),
        ("Tether mints 1B USDT; USDC supply shrinks", ("USDT", "USDC")),
        ("Polygon (MATIC) and Arbitrum see record activity", ("MATIC", "ARB")),
        ("Shiba Inu and PEPE holders cheer as TON hits new high", ("SHIB", "PEPE", "TON")),
        ("Toncoin, Aptos and Sui Network extend gains", ("TON", "APT", "SUI")),
        ("Traders pile into $WIF and $POPCAT", ("WIF", "POPCAT")),
        ("A sunny day near the lake", ()),
    ],
)
def test_asset_names_and_tickers_link(
    linker: EntityLinker, text: str, assets: tuple[str, ...]
) -> None:
    assert one(linker, text).assets == assets


def test_tradable_symbols_skip_usdt(linker: EntityLinker) -> None:
    ann = one(linker, "Bitcoin and Tether flows diverge")
    assert ann.assets == ("BTC", "USDT")
    assert ann.symbols == ("BTCUSDT",)


@pytest.mark.parametrize(
    ("text", "assets"),
    [
        ("FTX halts withdrawals amid solvency fears", ("FTT",)),
        ("SEC sues Binance and its CEO", ("BNB",)),
        ("KuCoin hacked, $150M drained from hot wallets", ("KCS",)),
        ("Binance will list PEPE", ("PEPE",)),
        ("Coinbase to delist BUSD", ("BUSD",)),
        ("OKX launches a new wallet app", ()),
    ],
)
def test_exchange_token_only_when_the_exchange_is_at_stake(
    linker: EntityLinker, text: str, assets: tuple[str, ...]
) -> None:
    ann = one(linker, text)
    assert ann.assets == assets
    assert any(e.label == "EXCHANGE" for e in ann.entities)


@pytest.mark.parametrize(
    ("text", "assets"),
    [
        ("Curve pools exploited via Vyper bug", ("CRV",)),
        ("Ronin bridge drained of $625M", ("RON",)),
        ("Uniswap governance approves fee switch", ("UNI",)),
        ("Whale dumps 93K ETH on Uniswap", ("ETH",)),
    ],
)
def test_protocol_token_when_the_protocol_itself_is_the_subject(
    linker: EntityLinker, text: str, assets: tuple[str, ...]
) -> None:
    assert one(linker, text).assets == assets


def test_authorities_officials_and_people_are_labelled(linker: EntityLinker) -> None:
    ann = one(linker, "Powell and Waller signal patience as the Fed holds; SEC and CFTC respond")
    found = labels(ann)
    assert found["Jerome Powell"] == "FED_OFFICIAL"
    assert found["Christopher Waller"] == "FED_OFFICIAL"
    assert found["Federal Reserve"] == "CENTRAL_BANK"
    assert found["SEC"] == "REGULATOR"
    assert found["CFTC"] == "REGULATOR"
    assert ann.assets == ()
    people = labels(one(linker, "Trump vows crypto capital; Warren slams it; Musk tweets Dogecoin"))
    assert people["Donald Trump"] == "POLITICIAN"
    assert people["Elizabeth Warren"] == "POLITICIAN"
    assert people["Elon Musk"] == "PUBLIC_FIGURE"
    assert labels(one(linker, "ECB raises rates by 50bp"))["ECB"] == "CENTRAL_BANK"


@pytest.mark.parametrize(
    ("text", "person", "label"),
    [
        ("Kraken Founder Jesse Powell Says the Bull Market Is Near", "Jesse Powell", "PERSON"),
        ("Video of Serena Williams Dancing", "Serena Williams Dancing", "PERSON"),
        ("Sherwin-Williams cut from Conviction Buy at Goldman", "Sherwin-Williams", "ORG"),
        ("Warren Buffett calls bitcoin rat poison", "Warren Buffett", "PUBLIC_FIGURE"),
        ("Yellen says stablecoins need rules", "Janet Yellen", "POLITICIAN"),
        ("Waller Backs 25bp Cut", "Christopher Waller", "FED_OFFICIAL"),
        ("Fed's Williams says inflation is too high", "John Williams", "FED_OFFICIAL"),
        ("Powell Says More Hikes May Be Needed", "Jerome Powell", "FED_OFFICIAL"),
    ],
)
def test_a_surname_inside_another_name_is_not_the_gazetteer_person(
    linker: EntityLinker, text: str, person: str, label: str
) -> None:
    assert labels(one(linker, text))[person] == label


def test_a_surname_before_a_company_suffix_is_a_company(linker: EntityLinker) -> None:
    assert "FED_OFFICIAL" not in labels(one(linker, "Williams Cos. initiated as buy")).values()


def test_entity_offsets_point_at_the_mention(linker: EntityLinker) -> None:
    text = "Grayscale says Ethereum upgrade is on track"
    for entity in one(linker, text).entities:
        assert text[entity.start : entity.end] == entity.text
    assert linker.annotate([]) == []
