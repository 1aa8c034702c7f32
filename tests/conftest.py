"""The project's own tests run each benchmark body once, untimed (``--benchmark-disable``), so
their assertions always run; asking for ``--benchmark-only`` or ``--benchmark-enable`` means
asking for timings and turns them on. The switch lives here, not in pyproject's ``addopts``,
so a user's ``pytest test_fetch.py --benchmark-json FILE`` in a clone is timed and writes its
JSON (README, "Benchmark your own strategy in pytest")."""

from __future__ import annotations

import compileall
import os
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The files that take longest (``--durations``, summed per file), started first: the
#: workers take files in this order, so that none is left with a long one at the end while
#: the others are idle. A file missing here only starts later; the list is a speed-up, not
#: a rule.
LONGEST_FIRST = (
    "tests/harness/test_stops.py",
    "tests/harness/test_aa_script.py",
    "tests/strategies/test_accounting.py",
    "tests/report/test_free_threading.py",
    "tests/harness/test_readable.py",
    "tests/harness/test_python_axis.py",
    "tests/harness/test_cli_e2e.py",
    "tests/harness/test_lessons.py",
    "tests/strategies/test_concurrency.py",
    "tests/pytestbench/test_import.py",
    "tests/harness/test_experiment_suites.py",
    "tests/pytestbench/test_fixtures.py",
    "tests/harness/test_open_loop.py",
    "tests/harness/test_compare.py",
    "tests/harness/test_compare_split.py",
)


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
    if not hasattr(config, "workerinput"):  # once, in the process that starts the others
        _compile_once()
    # pytest-xdist's --dist loadfile would otherwise hand out the files with the most tests
    # first, whatever they cost; LONGEST_FIRST orders them instead
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # a stable sort: the tests of one file keep their order
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


def _compile_once() -> None:
    """Write the bytecode of the three packages before any test starts a process.

    The suite starts about 900 Python processes that import them (trials, servers, the CLI).
    Where PYTHONDONTWRITEBYTECODE is set, none of them writes the bytecode it compiles, so
    each would compile the same modules again; compileall writes it regardless, once."""
    for package in ("bench", "flags_server", "strategies"):
        compileall.compile_dir(ROOT / package, quiet=1)
