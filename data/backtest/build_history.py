"""Rebuild the bundled backtest event history from the shared real data (provenance: README.md).

Run from the repo root: ``python data/backtest/build_history.py ../shared/data``. Every item is
a source row, reformatted as a ``NewsItem`` and nothing else. Where a source gives only a date,
the receipt time is set *after* the event could have been known (see ``DELAYS``), so that a
backtest can never trade on it early; those times are approximate and flagged in ``raw_ref``.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from records import NewsItem

NEW_YORK = ZoneInfo("America/New_York")
OUT = Path(__file__).parent / "events.jsonl.gz"

HACK_DETECTION_DELAY = timedelta(hours=1)
"""Chronicle hacks: the exact attack start, plus this before the news could be out (assumed)."""
DATE_ONLY_DELAY = timedelta(hours=24)
"""Date-only UTC sources (DeFiHackLabs, labelled BTC events): date 00:00 UTC + 24 h, i.e. the end
of the reported day, the earliest time by which the event has surely happened (approximate)."""
NY_END_OF_DAY = time(23, 0)
"""Date-only New York sources (SEC actions, unscheduled FOMC): 23:00 New York time that day."""
FOMC_STATEMENT = time(14, 0)
"""Scheduled FOMC statements are released at 14:00 New York time."""
TWITTER_EPOCH_MS = 1_288_834_974_657

_URL = re.compile(r"https?://\S+")


def _ny(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=NEW_YORK).astimezone(UTC)


def chronicle(shared: Path) -> Iterator[NewsItem]:
    folder = shared / "defi_hack_chronicle" / "hacks"
    for path in sorted(folder.glob("*.json")):
        if path.name == "index.json":
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        start = datetime.fromisoformat(doc["attackTime"]["startTime"]).astimezone(UTC)
        refs = doc.get("references") or []
        loss = doc["estimatedLoss"]["totalUSD"]
        yield NewsItem(
            source="defi-hack-chronicle",
            id=doc["id"],
            title=f"{doc['title']}: {doc['protocol']} hacked, ${int(loss):,} lost",
            body=doc["description"],
            url=refs[0] if refs else None,
            published_at=start,
            received_at=start + HACK_DETECTION_DELAY,
            raw_ref=f"defi_hack_chronicle/hacks/{path.name}#attackTime.startTime+1h",
        )


def defihacklabs(shared: Path) -> Iterator[NewsItem]:
    src = shared / "defihacklabs" / "defihacklabs_incidents.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh)):
            day = date.fromisoformat(row["date"])
            at = datetime.combine(day, time(0), tzinfo=UTC)
            urls = row["reference_urls"].split()
            lost = f", {row['lost']} lost" if row["lost"].strip() else ""
            yield NewsItem(
                source="defihacklabs",
                id=f"dhl-{row_no}",
                title=f"{row['protocol']} exploited ({row['attack_type']}){lost}",
                url=urls[0] if urls else None,
                published_at=at,
                received_at=at + DATE_ONLY_DELAY,
                raw_ref=f"defihacklabs/defihacklabs_incidents.csv#{row_no} (date only: +24h)",
            )


def sec_actions(shared: Path) -> Iterator[NewsItem]:
    src = shared / "sec_crypto_enforcement" / "SecuritiesEnforcement.csv"
    with src.open(encoding="utf-8-sig", newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh)):
            month, day_of_month, year = (int(x) for x in row["Date"].strip().split("/"))
            day = date(2000 + year, month, day_of_month)
            at = _ny(day, NY_END_OF_DAY)
            facts = [
                f"{k}: {row[k].strip()}"
                for k in ("Outcome", "Cause of Action", "Civil or Criminal", "Token", " Amount ")
                if row.get(k, "").strip() not in ("", "N/A")
            ]
            yield NewsItem(
                source="sec.gov",
                id=f"sec-enf-{row_no}",
                title=f"SEC action: {row['Case'].strip()}",
                body=" ".join([row["Description"].strip(), *facts]),
                published_at=at,
                received_at=at,
                raw_ref=(
                    f"sec_crypto_enforcement/SecuritiesEnforcement.csv#{row_no} "
                    "(date only: 23:00 New York approx)"
                ),
            )


def fomc(shared: Path) -> Iterator[NewsItem]:
    src = shared / "fomc_dates" / "fomc_announcements_2020_2025_reconciled.csv"
    seen: set[str] = set()
    with src.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh)):
            day = date.fromisoformat(row["announcement_date"])
            scheduled = row["meeting_type"] == "scheduled"
            if row["announcement_date"] in seen:
                continue  # an unscheduled row on a scheduled day: one announcement, not two
            seen.add(row["announcement_date"])
            at = _ny(day, FOMC_STATEMENT if scheduled else NY_END_OF_DAY)
            kind = "statement" if scheduled else "unscheduled announcement"
            when = "14:00 New York" if scheduled else "time unverified: 23:00 New York"
            yield NewsItem(
                source="federalreserve.gov",
                id=f"fomc-{day.isoformat()}",
                title=f"Federal Reserve issues FOMC {kind} on monetary policy",
                published_at=at,
                received_at=at,
                raw_ref=f"fomc_dates/fomc_announcements_2020_2025_reconciled.csv#{row_no} ({when})",
            )


def labelled_events(shared: Path) -> Iterator[NewsItem]:
    src = shared / "btc_labelled_events" / "BTC_Social.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh)):
            at = datetime.combine(date.fromisoformat(row["timestamp"]), time(0), tzinfo=UTC)
            text = row["event description"]
            url = _URL.search(text)
            yield NewsItem(
                source="btc-labelled-events",
                id=f"btc-ev-{row_no}",
                title=_URL.sub("", text).strip(),
                url=url.group(0) if url else None,
                published_at=at,
                received_at=at + DATE_ONLY_DELAY,
                raw_ref=f"btc_labelled_events/BTC_Social.csv#{row_no} (date only: +24h approx)",
            )


def musk_tweets(shared: Path) -> Iterator[NewsItem]:
    """Times come from the tweet id (a Twitter snowflake encodes its creation instant)."""
    src = shared / "elon_musk_tweets_btc" / "elonmusk_tweets.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh)):
            tweet_id = int(row["id"])
            at = datetime.fromtimestamp(((tweet_id >> 22) + TWITTER_EPOCH_MS) // 1000, tz=UTC)
            local = datetime.strptime(
                f"{row['date']} {row['time']} {row['timezone']}", "%Y-%m-%d %H:%M:%S %z"
            )
            if abs((local - at).total_seconds()) > 1:
                msg = f"row {row_no}: snowflake time {at} disagrees with {local}"
                raise ValueError(msg)
            yield NewsItem(
                source="x:elonmusk",
                id=str(tweet_id),
                title=row["tweet"],
                url=row["link"] or None,
                author="elonmusk",
                published_at=at,
                received_at=at,
                raw_ref=f"elon_musk_tweets_btc/elonmusk_tweets.csv#{row_no}",
            )


BUILDERS = (chronicle, defihacklabs, sec_actions, fomc, labelled_events, musk_tweets)


def main(shared: Path) -> None:
    items = [item for build in BUILDERS for item in build(shared)]
    items.sort(key=lambda i: (i.received_at, i.source, i.id))
    enc = msgspec.json.Encoder()
    with gzip.GzipFile(OUT, "wb", mtime=0) as gz:
        for item in items:
            gz.write(enc.encode(item) + b"\n")
    counts: dict[str, int] = {}
    for item in items:
        counts[item.source] = counts.get(item.source, 0) + 1
    print(f"wrote {len(items)} items to {OUT}: {counts}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
