"""Binding the site to a socket, with hooks aiohttp does not offer as options.

A per-connection protocol notes when each request's bytes arrived (delays
are scheduled from then), and a web.Server subclass counts connections as
they are accepted, so /_stats can show whether clients reuse connections.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from .app import FlagSite, now
from .config import ServerConfig
from .stats import Stats


class _Protocol(RequestHandler):
    """aiohttp's per-connection handler, noting when each request's bytes arrived
    and when the client went away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrival = 0.0
        self.generation = -1
        # done when the client goes away, so a held or delayed request can stop waiting
        self.closed: asyncio.Future[None] = self._loop.create_future()

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.arrival = now()
        super().data_received(data)


class _CountingServer(web.Server):
    """A web.Server that counts TCP connections as they are accepted and closed."""

    def __init__(self, handler: Any, stats: Stats, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._stats = stats

    def __call__(self) -> RequestHandler:
        return _Protocol(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._stats.connections_accepted += 1
        self._stats.open_connections += 1

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self._stats.open_connections -= 1


class SiteRunner:
    """Binds the site to a socket and tears it down; used by the CLI's serve loop."""

    def __init__(self, config: ServerConfig, loop_name: str = "asyncio") -> None:
        self.site = FlagSite(config, loop_name)
        self._runner: web.ServerRunner | None = None

    async def start(self) -> int:
        """Listen and return the bound port (the real one when config.port is 0)."""
        server = _CountingServer(self.site.handle, self.site.stats, access_log=None)
        self._runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        tcp = web.TCPSite(self._runner, self.site.config.host, self.site.config.port,
                          backlog=4096, reuse_address=True)
        await tcp.start()
        ports = bound_ports(self._runner)
        self.site.port = ports[0] if ports else self.site.config.port
        return self.site.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def bound_ports(runner: web.BaseRunner) -> list[int]:
    """Ports the runner's sites listen on (the real one when port 0 was asked for)."""
    ports = []
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            ports.append(int(address[1]))
    return ports
