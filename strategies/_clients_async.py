"""The asyncio HTTP clients, aiohttp and httpx, behind one small interface, and the loops.

Both allow exactly C connections, equal to the strategy's semaphore, so the pool is never a
second, smaller cap (aiohttp's default is 100; httpx's 100, of which only 20 are kept alive)
and the server never sees more than C connections. Neither retries on its own, and neither
reads proxies or credentials from the environment. Each attempt has one total time budget
(connect, head and body together), so a trickling body ends at its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from . import _jobs
from ._jobs import Fetched
from .base import Settings

T = TypeVar("T")


class AsyncTransport(Protocol):
    name: str

    async def fetch(self, url: str) -> Fetched: ...


@contextlib.asynccontextmanager
async def open_transport(client: str, settings: Settings) -> AsyncIterator[AsyncTransport]:
    """A transport of the named library (``strategies.clients.ASYNC_CLIENTS``) allowing
    ``settings.concurrency`` connections; closed on exit."""
    if client == "httpx":
        transport: Any = HttpxTransport(settings)
    else:
        transport = AiohttpTransport(settings)
    try:
        yield transport
    finally:
        await transport.close()


def run_loop(main: Coroutine[Any, Any, T], loop: str | None) -> T:
    """Run ``main`` on a fresh event loop of the named kind (asyncio, the default, or uvloop)."""
    if loop == "uvloop":
        # deferred: an optional event loop, loaded only when chosen
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


class AiohttpTransport:
    """One ``aiohttp.ClientSession`` whose connector allows exactly C connections."""

    name = "aiohttp"

    def __init__(self, settings: Settings) -> None:
        # deferred: a client library loads only when a trial chooses it
        import aiohttp

        c = settings.concurrency
        connector = aiohttp.TCPConnector(limit=c, limit_per_host=c)
        timeout = aiohttp.ClientTimeout(total=settings.timeout_s)
        self.session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        _no_hidden_retry(self.session)

    async def fetch(self, url: str) -> Fetched:
        """One GET under the session's total timeout; never raises (except when cancelled)."""
        got = Fetched(client=self.name)
        resp = None
        try:
            async with self.session.get(url) as resp:
                got.status = resp.status
                got.content_length = _jobs.content_length(
                    resp.content_length, resp.headers.get("Content-Encoding")
                )
                got.retry_after = resp.headers.get("Retry-After")
                got.body = await resp.read()
                got.nbytes = len(got.body)
        except Exception as exc:
            got.exc = exc
            if resp is not None:  # the body broke off: count what did arrive
                got.nbytes = getattr(resp.content, "total_bytes", 0)
        return got

    async def close(self) -> None:
        await self.session.close()


def _no_hidden_retry(session: Any) -> None:
    """Turn off aiohttp's silent second try of a GET whose reused connection broke.

    aiohttp >= 3.10 re-sends an idempotent request once when a kept-alive connection fails
    (RFC 9112 section 9.3.1.1). The server would then count two requests where the client
    records one attempt, and a reset would be reported as a success. Retries here are the
    strategy's own, recorded ones. There is no public switch; aiohttp's own test client sets
    this same attribute.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


class HttpxTransport:
    """One ``httpx.AsyncClient`` allowing exactly C connections, all kept alive, without
    retries. httpx times out each read, not the whole answer, so the total budget is an
    asyncio deadline around the attempt. Its keep-alive expiry (a connection idle for 5 s is
    closed) stays: within a trial a connection is idle only between two of its requests, and
    without an expiry httpcore's pool costs markedly more CPU per request."""

    name = "httpx"

    def __init__(self, settings: Settings) -> None:
        # deferred: a client library loads only when a trial chooses it
        import httpx

        c = settings.concurrency
        limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
        self.timeout_s = settings.timeout_s
        self.client = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(limits=limits, retries=0),
            timeout=httpx.Timeout(settings.timeout_s),
            trust_env=False,
            follow_redirects=False,
        )

    async def fetch(self, url: str) -> Fetched:
        got = Fetched(client=self.name)
        try:
            await _within(self.timeout_s, lambda: self._get(url, got))
        except Exception as exc:
            got.exc = exc
        return got

    async def _get(self, url: str, got: Fetched) -> None:
        async with self.client.stream("GET", url) as resp:
            got.status = resp.status_code
            got.content_length = _jobs.content_length(
                resp.headers.get("Content-Length"), resp.headers.get("Content-Encoding")
            )
            got.retry_after = resp.headers.get("Retry-After")
            parts = []
            async for chunk in resp.aiter_bytes():
                parts.append(chunk)
                got.nbytes += len(chunk)
            got.body = b"".join(parts)

    async def close(self) -> None:
        await self.client.aclose()


async def _within(seconds: float, make: Callable[[], Awaitable[None]]) -> None:
    """Await ``make()`` with a total deadline; TimeoutError when it passes."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            await make()
    else:  # pragma: no cover - Python 3.10
        await asyncio.wait_for(make(), seconds)
