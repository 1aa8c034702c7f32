"""flagbench's harness: suites, isolated trials, tidy tables, charts and reports.

In a notebook::

    import bench
    run = bench.load("results/20261126-101500-quick")
    run.summary, run.trials, run.requests
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.results.store import Run

__all__ = ["Run", "load"]


def load(run_dir: Any) -> Run:
    """The tables of a stored run (see ``bench.results.store.load``)."""
    # deferred: the worker imports bench too; pandas only on first use
    from bench.results.store import load as _load

    return _load(run_dir)


def __getattr__(name: str) -> Any:
    # pandas is imported on first use only: the worker process imports ``bench`` too.
    if name == "Run":
        # deferred: the worker imports bench too; pandas only on first use
        from bench.results.store import Run

        return Run
    raise AttributeError(name)
