"""WebSub (W3C) subscriber side: subscribe at a feed's hub, verify pushes, derive per-feed secrets.

The hub calls back the webhook receiver (``/websub/<feed>``) to verify the subscription and to
push content. Each feed gets its own HMAC secret derived from one master secret, so the receiver
can check signatures without any state shared with the polling partitions.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading

import aiohttp

from connectors.sources.secrets import Secret

log = logging.getLogger(__name__)

_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}

_topics: dict[str, set[str]] = {}
_topics_lock = threading.Lock()


def feed_secret(master: Secret, feed: str) -> str:
    """The ``hub.secret`` for one feed: HMAC(master, feed name), hex."""
    return hmac.new(master.reveal().encode(), feed.encode(), hashlib.sha256).hexdigest()


def callback_url(public_url: str, feed: str) -> str:
    return f"{public_url.rstrip('/')}/websub/{feed}"


def expect_topic(feed: str, topic: str) -> None:
    """Remember a topic we asked to subscribe to, so the receiver can confirm the hub's check."""
    with _topics_lock:
        _topics.setdefault(feed, set()).add(topic)


def topic_expected(feed: str, topic: str) -> bool:
    with _topics_lock:
        return topic in _topics.get(feed, set())


def signature_valid(header: str | None, body: bytes, secret: str) -> bool:
    """Check ``X-Hub-Signature: method=hex``; SHA-1 is refused as too weak."""
    if not header or "=" not in header:
        return False
    method, _, received = header.partition("=")
    digest = _HASHES.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, received.strip().lower())


async def subscribe(
    session: aiohttp.ClientSession,
    *,
    hub: str,
    topic: str,
    callback: str,
    secret: str,
    lease_s: int,
) -> bool:
    """Ask the hub for a subscription; True when it accepted the request (202/204)."""
    form = {
        "hub.mode": "subscribe",
        "hub.topic": topic,
        "hub.callback": callback,
        "hub.secret": secret,
        "hub.lease_seconds": str(lease_s),
    }
    try:
        async with session.post(hub, data=form) as response:
            if response.status in (202, 204):
                return True
            log.warning("WebSub hub %s refused %s: HTTP %s", hub, topic, response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("WebSub hub %s unreachable: %s", hub, type(exc).__name__)
    return False
