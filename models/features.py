"""Hand-made features that sit beside the sentence embedding.

The embedding knows what a headline is *about*; these features carry the taxonomy's decisive
cues that a 384-d average can blur: which entity families are named (a Fed official makes an item
FED_SPEECH whatever the topic; the ECB makes it MACRO), and keyword families for each event type,
for price direction and for the guide's notes (is crypto in play at all, a signed order or a
promise, speculation about an upcoming event, hawkish or dovish). Keep the list stable:
artefacts record ``FEATURE_SET`` and refuse a mismatch, since the weights are positional.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.gazetteer import Kind
from models.ner import Annotation

FEATURE_SET = "kw-v2"

_KEYWORDS: tuple[tuple[str, str], ...] = (
    (
        "hack",
        r"hack\w*|exploit\w*|drain\w*|stolen|steal\w*|theft|breach\w*|rug ?pull\w*|exit scam|"
        r"phish\w*|attacker\w*|heist|flash loan|compromis\w*|vulnerab\w*|lazarus|ransom\w*",
    ),
    (
        "fed",
        r"fed|fomc|federal reserve|rate (hike|cut|rise|increase|decision)s?|basis[- ]points?|"
        r"bps|\d+ ?bp|monetary policy|minutes|hawkish|dovish|tapering|balance sheet",
    ),
    (
        "macro",
        r"cpi|inflation|pce|payrolls?|jobs report|unemployment|jobless|gdp|yields?|"
        r"treasur(y|ies)|dollar|dxy|ecb|boj|pboc|bank of (japan|england)|recession|"
        r"interest rates?|central bank|economy|economic|stocks?|s&p|nasdaq|dow",
    ),
    (
        "regulation",
        r"sec|cftc|doj|lawsuit\w*|sues?|sued|suing|court|judge|regulat\w*|bill|laws?|legal\w*|"
        r"ban\w*|licen[cs]\w*|approv\w*|reject\w*|etf\w*|charge[sd]?|settle\w*|sanction\w*|"
        r"tax\w*|mica|senate|congress|legislat\w*|enforcement|complian\w*|ruling|"
        r"government|authorit\w*|parliament|ministry|minister|police|arrest\w*|probe|"
        r"investigat\w*|fine[sd]?|illegal|crackdown|framework|rules?",
    ),
    (
        "political",
        r"trump|biden|harris|warren|senator|sen\.|president|lawmaker\w*|congressman|"
        r"congresswoman|politician|candidate|campaign|musk|elon|tweet\w*|vows?|pledg\w*|"
        r"promis\w*|slams?|says|said|calls? for|election|white house|democrat\w*|republican\w*",
    ),
    (
        "listing",
        r"list\w*|delist\w*|trading pairs?|perpetual\w*|perps?|futures contracts?|"
        r"adds support|will support|launches trading|spot trading|margin trading",
    ),
    (
        "partnership",
        r"partner\w*|integrat\w*|collaborat\w*|acqui\w*|merger|merg(e|es|ing) with|raises?|"
        r"raised|funding|series [abc]|round|invest\w*|teams? up|joins?|adopt\w*|deal|"
        r"backed|led by|alliance|accept\w* (bitcoin|crypto)|payments?|buys?|bought|purchas\w*",
    ),
    (
        "technical",
        r"upgrade\w*|hard ?fork\w*|fork|mainnet|testnet|halving|outage\w*|halt\w*|downtime|"
        r"client|release\w*|merge|shanghai|dencun|consensus|bug|nodes?|layer[- ]?2|l2|rollup\w*|"
        r"staking|withdrawals?|network|protocol|launch\w*|v\d|eip-?\d+|block \d|blockchain",
    ),
    (
        "price",
        r"price\w*|rall\w*|surg\w*|plung\w*|crash\w*|drops?|dropp\w*|fall\w*|fell|rises?|rising|"
        r"rose|soar\w*|tumbl\w*|slump\w*|analysis|predict\w*|forecast\w*|bull\w*|bear\w*|"
        r"support|resistance|targets?|gains?|loss\w*|high|low|ath|market|trader\w*|whales?",
    ),
    ("percent_or_money", r"\d+(\.\d+)?\s?%|\$\s?\d|usd \d|\d+ ?(k|m|bn|b|million|billion)\b"),
    (
        "up_words",
        r"surg\w*|soar\w*|jump\w*|rall\w*|gain\w*|climb\w*|rise|rises|rising|rose|up|high\w*|"
        r"record|bull\w*|boost\w*|recover\w*|rebound\w*|approv\w*|win\w*|wins|adopt\w*|"
        r"breakout|outperform\w*|green|pump\w*|spike\w*|inflows?",
    ),
    (
        "down_words",
        r"plung\w*|crash\w*|drop\w*|fall\w*|fell|tumbl\w*|slump\w*|sink\w*|sank|declin\w*|"
        r"down|low\w*|bear\w*|loss\w*|lose|lost|hack\w*|stolen|exploit\w*|sue\w*|ban\w*|"
        r"fraud\w*|collaps\w*|bankrupt\w*|insolv\w*|liquidat\w*|dump\w*|outflows?|fear\w*|"
        r"warn\w*|risk\w*|red|sell-?off|slid\w*|slide\w*|halt\w*|delist\w*|reject\w*|crackdown",
    ),
    (
        # The guide limits HACK, REGULATION and corporate adoption to crypto: a telecom breach
        # or a non-crypto merger is OTHER, so the head needs to see whether crypto is in play.
        "crypto",
        r"crypto\w*|bitcoin\w*|btc|ether|ethereum|eth|blockchain\w*|tokens?|tokeni[sz]\w*|coins?|"
        r"altcoins?|stablecoins?|defi|nfts?|web3|dao|dapps?|wallets?|exchanges?|mining|miners?|"
        r"satoshi|dex|cbdcs?|digital (assets?|currenc\w*)|on-?chain|smart contracts?|metaverse",
    ),
    (
        # A signed order or passed law is REGULATION; a plan or promise is POLITICAL_POST.
        "enacted",
        r"signs?|signed|signing|executive orders?|enact\w*|passe[sd]|into law|takes effect|"
        r"goes into effect|comes? into force|final rule|adopts?|adopted|ratif\w*",
    ),
    (
        # Speculation about an upcoming event is OTHER ("traders await the Fed").
        "upcoming",
        r"awaits?|awaited|awaiting|ahead of|looms?|looming|braces?|bracing|eyes|nears?|"
        r"expected|expects?|could|might|what to expect|before the|pre-\w+|set to|poised",
    ),
    (
        # Fed and macro direction: hawkish reads negative for crypto, dovish positive.
        "hawkish",
        r"hikes?|hiking|hawk\w*|tighten\w*|higher for longer|restrictive|shrink\w*|runoff|qt|"
        r"strong(er)? dollar|dollar (strength|rall\w*|surg\w*|jump\w*|climb\w*|ris\w*)|"
        r"yields? (ris\w*|rose|climb\w*|jump\w*|surg\w*|soar\w*|spik\w*)|hotter|sticky",
    ),
    (
        "dovish",
        r"cuts?|cutting|dovish|doves?|eas(e|es|ing)|pause[sd]?|pausing|stimulus|qe|"
        r"quantitative easing|pivot\w*|weak(er)? dollar|dollar (weak\w*|fall\w*|slid\w*|drop\w*|"
        r"declin\w*|slump\w*)|yields? (fall\w*|fell|drop\w*|slid\w*|declin\w*|tumbl\w*)|cool\w*",
    ),
    ("question", r"\?"),
)
_PATTERNS = tuple(
    (name, re.compile(rf"(?<![\w-])(?:{rx})(?![\w-])" if name != "question" else rx, re.I))
    for name, rx in _KEYWORDS
)
_KINDS = tuple(Kind)
NAMES: tuple[str, ...] = (
    *(f"kw_{name}" for name, _ in _KEYWORDS),
    *(f"kind_{k.value.lower()}" for k in _KINDS),
    "fed_named",
    "n_assets",
)
DIM = len(NAMES)


def featurise(texts: Sequence[str], annotations: Sequence[Annotation]) -> npt.NDArray[np.float32]:
    """One row per text: keyword-family hits (0/1), entity-family hits (0/1), asset count."""
    if len(texts) != len(annotations):
        raise ValueError("featurise: texts and annotations differ in length")
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, (text, ann) in enumerate(zip(texts, annotations, strict=True)):
        col = 0
        for _, pattern in _PATTERNS:
            out[row, col] = 1.0 if pattern.search(text) else 0.0
            col += 1
        kinds = set(ann.kinds)
        for kind in _KINDS:
            out[row, col] = 1.0 if kind in kinds else 0.0
            col += 1
        out[row, col] = float(any(e.canonical == "Federal Reserve" for e in ann.entities))
        out[row, col + 1] = float(min(len(ann.assets), 3))
    return out
