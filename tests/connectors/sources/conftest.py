"""Fixtures for source connector tests: local servers torn down after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from aiohttp import web

from tests.connectors.sources._sourcekit import LocalServer


@pytest.fixture
def serve() -> Iterator[Callable[[web.Application], LocalServer]]:
    """Start aiohttp apps on 127.0.0.1 for the test; all are stopped afterwards."""
    started: list[LocalServer] = []

    def start(app: web.Application) -> LocalServer:
        server = LocalServer(app).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
