"""The project's own tests run each benchmark body once, untimed (``--benchmark-disable``), so
their assertions always run; asking for ``--benchmark-only`` or ``--benchmark-enable`` means
asking for timings and turns them on. The switch lives here, not in pyproject's ``addopts``,
so a user's ``pytest test_fetch.py --benchmark-json FILE`` in a clone is timed and writes its
JSON (README, "Benchmark your own strategy in pytest")."""

from __future__ import annotations

import compileall
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.define.pythons import resolve_python

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bench", "flags_server", "strategies")
#: The interpreters besides this one that tests run trials under, where this machine has
#: them (test_free_threaded.py, test_free_threading.py, test_interpreterpool.py; the second
#: Python of test_python_axis.py).
OTHER_PYTHONS = ("3.13t", "3.12")
COMPILING = pytest.StashKey[list[subprocess.Popen[bytes]]]()

#: The files that take 10 s or more (``--durations``, summed per file), longest first: the
#: workers take files in this order, so that none is left with a long one at the end while
#: the others are idle, and the files that mostly wait (on latencies, timeouts) run beside
#: the ones that keep the CPUs busy. A file missing here only starts later; the list is a
#: speed-up, not a rule.
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
    "tests/benchmarks/test_strategies_benchmark.py",
    "tests/strategies/test_fault_kinds.py",
    "tests/harness/test_resolve.py",
    "tests/harness/test_compare_matching.py",
    "tests/strategies/test_spinner.py",
    "tests/harness/test_failed_trials.py",
    "tests/report/test_report.py",
    "tests/pytestbench/test_import_big.py",
    "tests/report/test_scale_charts.py",
    "tests/strategies/test_open_loop.py",
    "tests/harness/test_reliability_details.py",
    "tests/strategies/test_robustness.py",
    "tests/strategies/test_scale_out.py",
    "tests/harness/test_free_threaded.py",
    "tests/strategies/test_consume.py",
    "tests/strategies/test_interpreterpool.py",
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
        _write_bytecode()
        config.stash[COMPILING] = _compile_once()
    # pytest-xdist's --dist loadfile would otherwise hand out the files with the most tests
    # first, whatever they cost; LONGEST_FIRST orders them instead
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # a stable sort: the tests of one file keep their order
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


def _write_bytecode() -> None:
    """Let this session's processes write the bytecode they compile (into the checkout's
    ``__pycache__`` folders, which git ignores), as Python does by default, even where
    PYTHONDONTWRITEBYTECODE is set: the session starts about 800 Python processes (trials,
    servers, the CLI, inner pytest runs), and each would otherwise compile the same modules
    again. That includes pytest's own cache of the modules it rewrites for its assertions:
    the test files, and the three packages, which pytest rewrites too because the project is
    a pytest plugin (an inner pytest run spent 0.6 s of its 1.0 s on that). The workers,
    started after this hook, inherit the environment."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


def _compile_once() -> list[subprocess.Popen[bytes]]:
    """Write the bytecode of the three packages before any test starts a process, so that
    the first processes, started together, do not each compile them. The other interpreters
    compile theirs in the background (a process that starts before they finish compiles for
    itself); pytest_unconfigure reaps them."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    started = []
    for spec in OTHER_PYTHONS:
        try:
            python = resolve_python(spec)
        except ValueError:  # not on this machine: its tests skip
            continue
        command = [python, "-m", "compileall", "-q", *(str(ROOT / p) for p in PACKAGES)]
        started.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
    return started


def pytest_unconfigure(config: pytest.Config) -> None:
    for proc in config.stash.get(COMPILING, []):
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
