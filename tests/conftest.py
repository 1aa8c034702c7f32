"""The project's pytest options say ``--benchmark-disable``, so the plain test command runs each
benchmark body once, untimed, and its assertions always run. Asking for ``--benchmark-only``
means asking for timings: it turns them back on, as ``--benchmark-enable`` would."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("benchmark_only", default=False):
        config.option.benchmark_enable = True
