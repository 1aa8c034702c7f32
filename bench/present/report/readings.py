"""Two-line readings of each chart, written from the same numbers the chart draws.

A reader skimming the report should get the point of a chart without decoding it; the
sentences are generated, so they never drift from the data. Each reading module registers its
readings under their charts' kinds (``bench.present.charts.registry.reads``); a chart's own
module may hold its reading instead. The rules a reading keeps are in that registry's
docstring.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from bench.present.charts.data import RunLike
from bench.present.charts.registry import kinds_read, reader_of
from bench.present.report.basic_readings import standout

__all__ = ["kinds_read", "reading", "standout"]
# Every ``*_readings`` module of this package registers its readings on import.
for _module in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _module.name.endswith("_readings"):
        importlib.import_module(f"{__package__}.{_module.name}")


def reading(kind: str, run: RunLike, workload_id: str | None = None) -> list[str]:
    """At most two sentences about chart ``kind``; empty when there is nothing to say."""
    fn = reader_of(kind)
    if fn is None:
        return []
    try:
        lines = fn(run, workload_id)
    except (KeyError, ValueError, IndexError):
        return []  # a reading is a courtesy; data it did not foresee must not cost the report
    return [ln for ln in lines if ln][:2]
