"""pytest-benchmark suite: each built-in strategy on one workload, through the pytest plugin.

    tox -e bench        (or: python -m pytest tests/benchmarks --benchmark-only)

200 flags, 20 ms latency, C = 50: the ideal is ceil(200 / 50) x 20 ms = 80 ms. Skipped in the
normal test run (``--benchmark-skip``): timings belong on a quiet machine, not in CI.
"""

from __future__ import annotations

import pytest

import strategies
from strategies.base import Settings, count_outcomes

N, C = 200, 50


@pytest.mark.parametrize("name", strategies.builtin_names())
def test_strategy(benchmark, flagbench_server, flagbench_jobs, name):
    flagbench_server.configure(latency="20ms")
    jobs = flagbench_jobs("all", N)
    strategy = strategies.get(name)
    records = benchmark.pedantic(strategy.run, args=(jobs, Settings(concurrency=C)),
                                 rounds=5, warmup_rounds=1, iterations=1)  # fmt: skip
    assert count_outcomes(records) == {"ok": N, "not_found": 0, "error": 0}
    assert flagbench_server.stats()["peak_inflight"] == (1 if name == "sequential" else C)
