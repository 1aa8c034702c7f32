"""Two-line readings of each chart, written from the same numbers the chart draws.

A reader skimming the report should get the point of a chart without decoding it; the
sentences are generated, so they never drift from the data. Each reading module registers its
readings under their charts' kinds (``bench.report.reader``); importing them here is what
registers them. Rules a new reading follows: at most two sentences, every number from the
run's tables, about exactly the series its chart draws.
"""

from __future__ import annotations

from bench.charts.data import RunLike
from bench.report import basic_readings, experiment_readings, openloop_readings
from bench.report.basic_readings import standout
from bench.report.reader import kinds_read, lookup

__all__ = ["kinds_read", "reading", "standout"]
_REGISTERED = (basic_readings, experiment_readings, openloop_readings)


def reading(kind: str, run: RunLike, workload_id: str | None = None) -> list[str]:
    """At most two sentences about chart ``kind``; empty when there is nothing to say."""
    fn = lookup(kind)
    if fn is None:
        return []
    try:
        lines = fn(run, workload_id)
    except (KeyError, ValueError, IndexError):
        return []  # a reading is a courtesy; data it did not foresee must not cost the report
    return [ln for ln in lines if ln][:2]
