"""Shared fixtures: one real server per module, stats reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

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
