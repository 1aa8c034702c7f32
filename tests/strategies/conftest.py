"""One real flag server for the whole strategies test folder, reconfigured per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flags_server import RunningServer, ServerConfig, running


@pytest.fixture(scope="session")
def flag_server() -> Iterator[RunningServer]:
    with running(ServerConfig(seed=11, latency="10ms")) as srv:
        yield srv
