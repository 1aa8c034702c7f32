"""Shared fixtures: one real server per module, stats reset before each test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import requests

from flags_server import RunningServer, ServerConfig, running

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running(ServerConfig(seed=7)) as srv:
        yield srv


@pytest.fixture
def srv(server: RunningServer) -> Iterator[RunningServer]:
    """The module's server with the default config restored and counters zeroed."""
    defaults = ServerConfig(seed=7).to_dict()
    for fixed in ("host", "port", "loop", "allow_remote", "flags_zip"):
        defaults.pop(fixed)
    server.configure(**defaults)
    server.reset_stats()
    yield server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False
        yield s


def settled(srv: RunningServer, predicate: Callable[[dict], bool],
            timeout: float = TIMEOUT) -> dict:
    """/_stats once `predicate` holds, polling without sleeping (bounded by `timeout`).

    For counts the server updates just after the client has moved on, such as a
    closed connection being noticed; each poll is a real request to the server.
    """
    deadline = time.monotonic() + timeout
    stats = srv.stats()
    while not predicate(stats) and time.monotonic() < deadline:
        stats = srv.stats()
    return stats
