"""HTTP helpers shared by the polling sources: bounded reads and one session per partition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import aiohttp

from connectors.sources.backoff import retry_after_seconds


class PayloadTooLargeError(Exception):
    """A response body went past the configured bound; ``head`` holds what was read."""

    def __init__(self, limit: int, head: bytes) -> None:
        super().__init__(f"payload exceeds {limit} bytes")
        self.limit = limit
        self.head = head


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read at most ``limit`` bytes: a giant or endless body must not exhaust memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(limit, b"".join(chunks)[:limit])
    return b"".join(chunks)


def open_session(
    user_agent: str, *, total_timeout_s: float | None, read_timeout_s: float
) -> aiohttp.ClientSession:
    """A session whose read timeout also defeats slow-loris servers that trickle bytes."""
    timeout = aiohttp.ClientTimeout(
        total=total_timeout_s, sock_connect=10.0, sock_read=read_timeout_s
    )
    return aiohttp.ClientSession(
        timeout=timeout, headers={"User-Agent": user_agent}, raise_for_status=False
    )


@dataclass(frozen=True)
class Fetched:
    """A 200 response: body plus the validators for the next conditional GET."""

    body: bytes
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class NotModified:
    """A 304: nothing new since the validators we sent."""


@dataclass(frozen=True)
class FetchFailed:
    """Why a request produced nothing; ``kind`` labels the error metric."""

    kind: str
    message: str
    retry_after_s: float | None = None
    head: bytes = b""
    """What was read of an oversized body, so it can be dead-lettered."""


FetchResult = Fetched | NotModified | FetchFailed


async def get(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int,
    now: datetime,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> FetchResult:
    """GET with bounded body; every failure mode becomes a ``FetchFailed`` (never an exception)."""
    try:
        async with session.get(url, headers=headers, params=params) as response:
            if response.status == 304:
                return NotModified()
            if response.status != 200:
                retry = retry_after_seconds(response.headers.get("Retry-After"), now)
                kind = "http_429" if response.status == 429 else f"http_{response.status // 100}xx"
                return FetchFailed(kind, f"HTTP {response.status} from {url}", retry)
            body = await read_bounded(response, max_bytes)
            return Fetched(
                body, response.headers.get("ETag"), response.headers.get("Last-Modified")
            )
    except PayloadTooLargeError as exc:
        return FetchFailed("too_large", f"{url}: {exc}", head=exc.head)
    except TimeoutError:
        return FetchFailed("timeout", f"timed out reading {url}")
    except aiohttp.ClientError as exc:
        # With query parameters (API keys) the exception text may echo them: keep it out.
        detail = f": {exc}" if params is None else ""
        return FetchFailed("network", f"{url}: {type(exc).__name__}{detail}")


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last 200's validators."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers
