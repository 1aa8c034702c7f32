"""Run pytest inside the test (pytester), with benchmarks on: the outer run skips them.

The inner runs are subprocesses: an in-process run drops the modules it imported when it
ends, and numpy (among others) cannot be imported twice in one process.
"""

from __future__ import annotations

import pytest

from ..xdist_env import XDIST_VARS

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """``inner(source, *args)``: run ``source`` as a test file; returns the run's result.

    The inner run is a pytest of its own: when the outer one runs under pytest-xdist, the
    worker's environment (PYTEST_XDIST_*) must not make the inner run think it is a worker."""
    pytester.makeini(INI)
    for name in XDIST_VARS:
        monkeypatch.delenv(name, raising=False)

    def run(source: str, *args: str) -> pytest.RunResult:
        pytester.makepyfile(test_inner=source)
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=300)

    return run
