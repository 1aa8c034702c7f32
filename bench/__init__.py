"""flagbench's harness: suites, isolated trials, tidy tables, charts and reports.

In a notebook::

    import bench
    run = bench.load("results/20261126-101500-quick")
    run.summary, run.trials, run.requests
"""

from .store import Run, load

__all__ = ["Run", "load"]
