"""The project's own tests run each benchmark body once, untimed (``--benchmark-disable``), so
their assertions always run; asking for ``--benchmark-only`` or ``--benchmark-enable`` means
asking for timings and turns them on. The switch lives here, not in pyproject's ``addopts``,
so a user's ``pytest test_fetch.py --benchmark-json FILE`` in a clone is timed and writes its
JSON (README, "Benchmark your own strategy in pytest")."""

from __future__ import annotations

import os
import signal

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The Ctrl-C tests send SIGINT to flagbench and its strategies. A shell that starts a
    # job in the background without job control (`cmd &` in a script, as some CI runners
    # do) starts it with SIGINT ignored, and every process it starts inherits that: Python
    # then never raises KeyboardInterrupt. Restore the default here (a process that handles
    # SIGINT starts its children with the default), so those tests test flagbench.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # the tests' runs neither read nor teach the estimate's record of this machine
    # (bench.calibration): their estimates are the defaults, and the user's cache untouched
    os.environ.setdefault("FLAGBENCH_TIMING", "off")
    # before pytest-benchmark's own pytest_configure (trylast), which reads these options
    if config.getoption("benchmark_only", default=False):
        config.option.benchmark_enable = True
    elif not config.getoption("benchmark_enable", default=False):
        config.option.benchmark_disable = True
