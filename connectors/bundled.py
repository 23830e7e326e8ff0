"""Where the bundled real data lives (provenance and licences: data/README.md)."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
PRICES_DIR = DATA_DIR / "prices"
NEWS_ARCHIVE = DATA_DIR / "news" / "cryptonews_2021-10_2022-07.jsonl.gz"
