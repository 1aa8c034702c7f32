"""pytest fixtures for benchmarking a strategy of your own against the real flag server.

Installed with flagbench (entry point ``pytest11``), so any test suite can write::

    def test_my_strategy(benchmark, flagbench_server, flagbench_jobs):
        flagbench_server.configure(latency="20ms")
        jobs = flagbench_jobs("all")
        records = benchmark(MyStrategy().run, jobs, Settings(concurrency=50))

``flagbench_server`` is one server for the whole session on a free loopback port, with its
configuration restored and its counters reset before each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def _flagbench_session_server() -> Iterator[Any]:
    from flags_server import ServerConfig, running

    with running(ServerConfig(seed=0)) as srv:
        yield srv


@pytest.fixture
def flagbench_server(_flagbench_session_server: Any) -> Iterator[Any]:
    """The session's flag server, back to its defaults with zeroed counters."""
    from flags_server import ServerConfig
    from flags_server.config import FIXED_AT_START

    srv = _flagbench_session_server
    defaults = {k: v for k, v in ServerConfig(seed=0).to_dict().items() if k not in FIXED_AT_START}
    srv.configure(**defaults)
    srv.reset_stats()
    yield srv


@pytest.fixture
def flagbench_jobs(flagbench_server: Any) -> Callable[..., list[Any]]:
    """``flagbench_jobs(codes="pop20", n=None)``: jobs for the server, in the book's vocabulary."""
    from strategies.base import make_jobs

    from .workload import Workload

    def make(codes: str = "pop20", n: int | None = None) -> list[Any]:
        return make_jobs(flagbench_server.flags_url, Workload(codes=codes, n_jobs=n).codes_list())

    return make
