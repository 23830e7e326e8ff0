"""The exchange simulator's HTTP server: Bybit V5 and Binance REST on one aiohttp app.

``build_app(sim)`` for embedding; ``SimulatorServer`` runs it on a background thread (tests and
in-process demos: the real pybit / python-binance clients are synchronous, so the server must
not share their thread). ``serve(sim, host, port)`` is the blocking CLI entry point.
"""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from connectors.venues.simulator import binance_api, bybit_api
from connectors.venues.simulator.exchange import ExchangeSimulator

LOOPBACK = "127.0.0.1"


def build_app(sim: ExchangeSimulator) -> web.Application:
    app = web.Application()
    bybit_api.add_routes(app, sim)
    binance_api.add_routes(app, sim)
    return app


class SimulatorServer:
    """Run the simulator on ``host:port`` (port 0: any free one) in a daemon thread."""

    def __init__(self, sim: ExchangeSimulator, host: str = LOOPBACK, port: int = 0) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self._run, name="exchange-sim", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._error is not None:
            raise RuntimeError(f"simulator failed to start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(build_app(self.sim), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    def stop(self) -> None:
        if self._thread is None:
            return
        runner = self._runner
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(sim: ExchangeSimulator, host: str = LOOPBACK, port: int = 8765) -> None:
    """Serve until interrupted (the ``tradewire exchange-sim`` command)."""
    web.run_app(build_app(sim), host=host, port=port, access_log=None, print=None)
