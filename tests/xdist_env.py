"""The environment of a pytest run a test starts: without the outer run's pytest-xdist
variables, which would make the inner run think it is a worker (pytest-benchmark then turns
its timings off, and refuses ``--benchmark-only``)."""

from __future__ import annotations

import os

XDIST_VARS = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


def without_xdist(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (this process's environment by default) less pytest-xdist's variables."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in XDIST_VARS}
