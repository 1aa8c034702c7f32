"""pytest fixtures for benchmarking a strategy of your own against the real flag server.

Installed with flagbench (entry point ``pytest11``), so any test suite can write::

    @pytest.mark.flagbench(latency="20ms", error_rate=0.1)
    def test_my_strategy(flagbench_bench):
        result = flagbench_bench(my_download, n_jobs=100, concurrency=20)
        assert result.counts["ok"] + result.counts["error"] == 100

``flagbench_server`` is one server for the whole session on a free loopback port, with its
configuration restored, the test's ``flagbench`` marker applied and its counters reset before
each test. ``flagbench_bench`` times a strategy with pytest-benchmark (see
``bench.integrations.pytestbench``); ``flagbench_jobs`` builds jobs for a test that calls ``benchmark``
itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

MARKER = "flagbench"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): the flag server's settings for this test, as /_config takes "
        "them (latency='20ms', error_rate=0.1, max_inflight=100, ...)",
    )


def marker_settings(node: pytest.Item) -> dict[str, Any]:
    """The ``flagbench`` markers of the test, the closest winning (function over class over
    module)."""
    settings: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            pytest.fail(
                f"@pytest.mark.{MARKER}{mark.args!r}: give the server settings by "
                "name, e.g. @pytest.mark.flagbench(latency='20ms')",
                pytrace=False,
            )
        settings.update(mark.kwargs)
    return settings


@pytest.fixture(scope="session")
def _flagbench_session_server() -> Iterator[Any]:
    # deferred: every pytest session loads this plugin; aiohttp only when used
    from flags_server import ServerConfig, running

    with running(ServerConfig(seed=0)) as srv:
        yield srv


@pytest.fixture
def flagbench_server(_flagbench_session_server: Any, request: pytest.FixtureRequest) -> Any:
    """The session's flag server: its defaults, then the test's ``flagbench`` marker, counters
    zeroed. ``flagbench_bench`` also resets the counters before every round."""
    # deferred: every pytest session loads this plugin; aiohttp only when used
    from flags_server import ConfigError, ServerConfig
    from flags_server.config import FIXED_AT_START

    srv = _flagbench_session_server
    defaults = {k: v for k, v in ServerConfig(seed=0).to_dict().items() if k not in FIXED_AT_START}
    srv.configure(**defaults)
    settings = marker_settings(request.node)
    if settings:
        try:
            srv.configure(**settings)
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in settings.items())
            pytest.fail(f"@pytest.mark.{MARKER}({shown}): {exc}", pytrace=False)
    srv.reset_stats()
    return srv


@pytest.fixture
def flagbench_jobs(flagbench_server: Any) -> Callable[..., list[Any]]:
    """``flagbench_jobs(codes="pop20", n=None)``: jobs for the server, in the book's vocabulary."""
    # deferred: every pytest session loads this plugin; the harness only when used
    from bench.define.values import Codes
    from bench.define.workload import Workload
    from strategies.base import make_jobs

    def make(codes: str = "pop20", n: int | None = None) -> list[Any]:
        return make_jobs(
            flagbench_server.flags_url, Workload(codes=Codes(codes), n_jobs=n).codes_list()
        )

    return make


@pytest.fixture
def flagbench_bench(benchmark: Any, flagbench_server: Any, tmp_path: Path) -> Any:
    """``flagbench_bench(target, rounds=5, warmup_rounds=1, **workload)``: time ``target``
    with pytest-benchmark's pedantic mode, checking every round; returns a ``BenchResult``.
    It asks for ``benchmark`` by name, so ``--benchmark-only`` and ``--benchmark-skip`` see it."""
    # deferred: every pytest session loads this plugin; the harness only when used
    from bench.integrations.pytestbench.bench import FlagbenchBench

    return FlagbenchBench(benchmark, flagbench_server, tmp_path)
