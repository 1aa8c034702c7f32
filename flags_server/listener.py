"""Binding the site to a socket, with hooks aiohttp does not offer as options.

A per-connection protocol notes when each request's bytes arrived (delays
are scheduled from then) and since when a request head has been arriving (for
the header timeout), and a web.Server subclass counts connections as they are
accepted, so /_stats can show whether clients reuse connections, and closes
those over the cap at once (see guard.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from . import guard
from .app import FlagSite, now
from .config import ServerConfig

#: Seconds an idle keep-alive connection stays open (aiohttp's default is an hour).
KEEPALIVE_TIMEOUT_S = 75.0


class _Protocol(RequestHandler):
    """aiohttp's per-connection handler, noting when each request's bytes arrived
    and when the client went away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrival = 0.0
        self.generation = -1
        # when the bytes of a request head not yet complete began to arrive; 0: none pending
        self.head_started = 0.0
        self.handling = False  # a request is in the site's handler, which times its body
        # done when the client goes away, so a held or delayed request can stop waiting
        self.closed: asyncio.Future[None] = self._loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.head_started = now()  # a new connection owes its first request head
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.arrival = now()
        if not self.head_started and not self.handling:
            self.head_started = self.arrival
        parsed = self._request_count
        super().data_received(data)
        if self._request_count != parsed:  # a whole head arrived
            self.head_started = 0.0

    def abort_slow(self) -> None:
        """Close a connection whose head is overdue (the header timeout)."""
        self.head_started = 0.0
        if self.transport is not None:
            self.transport.abort()


class _Refused(asyncio.Protocol):
    """A connection over the cap: closed as soon as it is made, so its descriptor is freed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()  # type: ignore[attr-defined]


class _CountingServer(web.Server):
    """A web.Server that counts TCP connections as they are accepted and closed, and turns
    away those over the site's connection cap."""

    def __init__(self, handler: Any, site: FlagSite, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._site = site
        # every connection given a protocol and not yet lost (weak: one whose transport was
        # never made must not hold a place for ever)
        self.live: weakref.WeakSet[_Protocol] = weakref.WeakSet()

    def __call__(self) -> Any:
        cap = self._site.max_connections
        if cap is not None and len(self.live) >= cap:
            self._site.stats.connections_rejected += 1
            return _Refused()
        protocol = _Protocol(self, loop=self._loop, **self._kwargs)
        self.live.add(protocol)
        return protocol

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._site.stats.connections_accepted += 1
        self._site.stats.open_connections += 1

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self.live.discard(handler)  # type: ignore[arg-type]
        self._site.stats.open_connections -= 1


class SiteRunner:
    """Binds the site to a socket and tears it down; used by the CLI's serve loop."""

    def __init__(self, config: ServerConfig, loop_name: str = "asyncio") -> None:
        self.site = FlagSite(config, loop_name)
        self._runner: web.ServerRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen and return the bound port (the real one when config.port is 0)."""
        site = self.site
        server = _CountingServer(
            site.handle, site, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT_S
        )
        self._sweeper = asyncio.ensure_future(
            guard.sweep(
                lambda: server.live,
                lambda: site.config.header_timeout_s,
                now,
                site.stats.count_header_timeout,
            )
        )
        self._runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        tcp = web.TCPSite(
            self._runner,
            self.site.config.host,
            self.site.config.port,
            backlog=4096,
            reuse_address=True,
        )
        await tcp.start()
        ports = bound_ports(self._runner)
        self.site.port = ports[0] if ports else self.site.config.port
        return self.site.port

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
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
