"""SEC EDGAR: the latest-filings Atom feed per form type, plus per-company filing feeds.

EDGAR is RSS/Atom underneath, so each feed is a ``FeedSource`` partition; what is specific is
the declared User-Agent the SEC requires, the 10 requests/s fair-access ceiling (one limiter for
the host, shared by every EDGAR partition) and the form-type filter. Every partition labels its
items ``source = <name>`` so one filing seen in two feeds has one key (its accession number).
"""

from __future__ import annotations

from urllib.parse import urlencode

from connectors.sources.config import Defaults, EdgarConfig
from connectors.sources.rss import FeedSpec


def latest_filings_url(base_url: str, form: str, count: int) -> str:
    query = {"action": "getcurrent", "type": form, "company": "", "dateb": "", "owner": "include"}
    query |= {"start": "0", "count": str(count), "output": "atom"}
    return f"{base_url.rstrip('/')}/cgi-bin/browse-edgar?{urlencode(query)}"


def company_url(base_url: str, cik: str, count: int) -> str:
    query = {"action": "getcompany", "CIK": cik, "type": "", "dateb": "", "owner": "include"}
    query |= {"start": "0", "count": str(count), "output": "atom"}
    return f"{base_url.rstrip('/')}/cgi-bin/browse-edgar?{urlencode(query)}"


def feed_specs(config: EdgarConfig, defaults: Defaults) -> list[FeedSpec]:
    forms = frozenset(config.forms)

    def spec(part: str, url: str) -> FeedSpec:
        return FeedSpec(
            name=f"{config.name}:{part}",
            source=config.name,
            url=url,
            poll_interval_s=config.poll_interval_s,
            user_agent=config.user_agent,
            rate_per_s=config.rate_per_s,
            max_bytes=defaults.max_bytes,
            timeout_s=defaults.timeout_s,
            remember=defaults.remember,
            silence_after_s=defaults.silence_after_s,
            categories=forms,
        )

    specs = [spec(form, latest_filings_url(config.base_url, form, config.count)) for form in forms]
    specs += [
        spec(f"cik{cik}", company_url(config.base_url, cik, config.count))
        for cik in config.companies
    ]
    return sorted(specs, key=lambda s: s.name)
