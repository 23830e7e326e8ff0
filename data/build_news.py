"""Rebuild the bundled news archive from the shared real data (provenance: data/README.md).

Run from the repo root: ``python data/build_news.py ../shared/data``. Kept so that anyone can
check that the bundled file is exactly the source rows, reformatted, and nothing else.
"""

from __future__ import annotations

import csv
import gzip
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from records import NewsItem


def main(shared: Path) -> None:
    src = shared / "cryptonews_kaggle_subset" / "cryptonews_2022_subset.csv"
    items = []
    with src.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh, delimiter=";")):
            at = datetime.strptime(row["date"], "%d-%m-%Y %H:%M").replace(tzinfo=UTC)
            items.append(
                NewsItem(
                    source=row["source"],
                    id=f"ckg-{row_no}",
                    title=row["title"],
                    body=row["text"],
                    url=row["url"] or None,
                    published_at=at,
                    received_at=at,
                    raw_ref=f"cryptonews_kaggle_subset/cryptonews_2022_subset.csv#{row_no}",
                )
            )
    items.sort(key=lambda i: (i.received_at, i.id))
    out = Path(__file__).parent / "news" / "cryptonews_2021-10_2022-07.jsonl.gz"
    enc = msgspec.json.Encoder()
    with gzip.GzipFile(out, "wb", mtime=0) as gz:
        for item in items:
            gz.write(enc.encode(item) + b"\n")
    print(f"wrote {len(items)} items to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
