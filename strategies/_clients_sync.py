"""The blocking HTTP clients: requests, httpx and urllib3, behind one small interface.

Each transport belongs to one thread (or process) and makes one request at a time, so each
keeps one connection alive and opens another rather than block if it is ever busy: no pool
limit is a hidden cap, and none retries on its own (retries are the strategy's, recorded).
None reads proxies or credentials from the environment, as aiohttp does not by default: a
proxy would change what is measured and send loopback traffic elsewhere.

``fetch`` has a total time budget, checked after every socket read: the libraries only time
out single reads, so a body trickling in could otherwise run for ever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from . import _jobs
from ._exceptions import DeadlineExceeded
from ._jobs import Fetched

CHUNK_BYTES = 8192  # old urllib3: the total deadline is checked between chunks this big
READ1_BYTES = 1 << 20


class SyncTransport(Protocol):
    name: str

    def fetch(self, url: str, timeout_s: float) -> Fetched: ...

    def close(self) -> None: ...


def open_transport(client: str) -> SyncTransport:
    """A fresh transport of the named library (``strategies.clients.SYNC_CLIENTS``)."""
    return _FACTORIES[client]()


def _collect(got: Fetched, chunks: Iterator[bytes], deadline: float, timeout_s: float) -> None:
    parts = []
    for chunk in chunks:
        parts.append(chunk)
        got.nbytes += len(chunk)
        if time.perf_counter() > deadline:
            raise DeadlineExceeded(f"body still arriving after {timeout_s} s")
    got.body = b"".join(parts)


def _head(got: Fetched, status: int, headers: Any) -> None:
    got.status = status
    got.content_length = _jobs.content_length(
        headers.get("Content-Length"), headers.get("Content-Encoding")
    )
    got.retry_after = headers.get("Retry-After")


def _read1_chunks(raw: Any, fallback: Callable[[], Iterator[bytes]]) -> Iterator[bytes]:
    """The body as it arrives. urllib3 >= 2 has ``read1``, which returns whatever one socket
    read brings, so the deadline is checked after every arrival and a loopback body usually
    comes in one call; older urllib3 falls back to fixed-size chunks."""
    read1 = getattr(raw, "read1", None)
    if read1 is None:
        yield from fallback()
        return
    while True:
        chunk = read1(READ1_BYTES, decode_content=True)
        if not chunk:
            return
        yield chunk


class RequestsTransport:
    """A ``requests.Session`` whose adapter keeps one connection and never blocks."""

    name = "requests"

    def __init__(self) -> None:
        # deferred: a client library loads only when a trial chooses it
        import requests
        from requests.adapters import HTTPAdapter

        self.session = requests.Session()
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, pool_block=False, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def fetch(self, url: str, timeout_s: float) -> Fetched:
        got = Fetched(client=self.name)
        deadline = time.perf_counter() + timeout_s
        try:
            with self.session.get(url, timeout=timeout_s, stream=True) as resp:
                _head(got, resp.status_code, resp.headers)
                chunks = _read1_chunks(resp.raw, lambda: resp.iter_content(CHUNK_BYTES))
                _collect(got, chunks, deadline, timeout_s)
        except Exception as exc:
            got.exc = exc
        return got

    def close(self) -> None:
        self.session.close()


class HttpxTransport:
    """An ``httpx.Client`` without its default pool limits (100 connections, 20 kept alive),
    over a transport that does not retry. Its keep-alive expiry (5 s idle) stays, as in the
    asyncio client: a thread's connection is idle only between two of its requests."""

    name = "httpx"

    def __init__(self) -> None:
        # deferred: a client library loads only when a trial chooses it
        import httpx

        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        self._timeout = httpx.Timeout
        self.client = httpx.Client(
            transport=httpx.HTTPTransport(limits=limits, retries=0),
            trust_env=False,
            follow_redirects=False,
        )

    def fetch(self, url: str, timeout_s: float) -> Fetched:
        got = Fetched(client=self.name)
        deadline = time.perf_counter() + timeout_s
        try:
            with self.client.stream("GET", url, timeout=self._timeout(timeout_s)) as resp:
                _head(got, resp.status_code, resp.headers)
                _collect(got, resp.iter_bytes(), deadline, timeout_s)
        except Exception as exc:
            got.exc = exc
        return got

    def close(self) -> None:
        self.client.close()


class Urllib3Transport:
    """A ``urllib3.PoolManager`` keeping one connection per host, never blocking, no retries
    (``retries=False``: an error is raised as it happened, not wrapped or repeated)."""

    name = "urllib3"

    def __init__(self) -> None:
        # deferred: a client library loads only when a trial chooses it
        import urllib3

        self._timeout = urllib3.Timeout
        self.pool = urllib3.PoolManager(maxsize=1, block=False, retries=False)

    def fetch(self, url: str, timeout_s: float) -> Fetched:
        got = Fetched(client=self.name)
        deadline = time.perf_counter() + timeout_s
        try:
            resp = self.pool.request(
                "GET",
                url,
                preload_content=False,
                redirect=False,
                retries=False,
                timeout=self._timeout(connect=timeout_s, read=timeout_s),
            )
            whole = False
            try:
                _head(got, resp.status, resp.headers)
                chunks = _read1_chunks(resp, lambda: resp.stream(CHUNK_BYTES))
                _collect(got, chunks, deadline, timeout_s)
                whole = True
            finally:
                if not whole:  # a half-read connection must not go back to the pool
                    resp.close()
                resp.release_conn()
        except Exception as exc:
            got.exc = exc
        return got

    def close(self) -> None:
        self.pool.clear()


_FACTORIES: dict[str, Callable[[], SyncTransport]] = {
    t.name: t for t in (RequestsTransport, HttpxTransport, Urllib3Transport)
}
