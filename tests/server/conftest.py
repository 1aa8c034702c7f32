"""Shared fixtures: one real server per module, stats reset before each test."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator, Sequence

import aiohttp
import pytest
import requests

from flags_server import RunningServer, ServerConfig, running
from flags_server.config import FIXED_AT_START
from flags_server.control import _read_ready_line

TIMEOUT = 5.0
STARTUP_TIMEOUT = 30.0  # as running(): a cold interpreter on a busy machine is slow to start


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running(ServerConfig(seed=7)) as srv:
        yield srv


@pytest.fixture
def srv(server: RunningServer) -> Iterator[RunningServer]:
    """The module's server with the default config restored and counters zeroed."""
    defaults = ServerConfig(seed=7).to_dict()
    for fixed in FIXED_AT_START:
        defaults.pop(fixed)
    server.configure(**defaults)
    server.reset_stats()
    yield server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False
        yield s


def first_line(process: subprocess.Popen, timeout: float = STARTUP_TIMEOUT) -> str:
    """The child's first stdout line, or '' if it exits or stays silent for `timeout` s.

    A bare readline() would block for ever on a child that hangs before printing.
    """
    return _read_ready_line(process, time.monotonic() + timeout)


def burst(urls: Sequence[str]) -> list[int]:
    """The statuses of GETs sent all at once, each on its own connection (no client limit)."""

    async def main() -> list[int]:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def one(url: str) -> int:
                async with session.get(url) as resp:
                    await resp.read()
                    return resp.status

            return await asyncio.gather(*(one(url) for url in urls))

    return asyncio.run(main())
