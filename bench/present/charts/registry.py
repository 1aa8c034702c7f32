"""The chart registry: one declaration per chart, on the function that draws it, and its reading.

Adding a chart is adding one module to ``bench/present/charts/`` (the package imports every
module in it, so nothing else lists it)::

    @chart(kind="wall", title="Wall time per strategy", stem="wall", order=10)
    def fig_wall(run: RunLike) -> Figure | None: ...

    @reads("wall")
    def wall_reading(run: RunLike, workload_id: str | None) -> list[str]: ...

The registry is the only list of charts: rendering, the clean-up of stale files and the
report's readings (keyed by ``kind``) all go through it. The rules a chart keeps, checked by
tests/report/test_charts.py and tests/report/test_report.py on a real run: ``draw`` returns None
when the run lacks its data (no empty picture is written); the PNG is a real drawing (over
10 KB); the reading is at most two sentences, every number in them computed from the same
tables the chart draws (through ``bench.present.charts.data``), about the series it draws.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from bench.present.charts.data import RunLike, Workload

Applies = Callable[[RunLike], bool]
PerWorkload = Callable[[RunLike], Sequence[Workload]]


@dataclass(frozen=True)
class Chart:
    """What the harness knows about a chart.

    ``draw(run)`` returns the figure, or None when the run lacks its data (nothing is then
    written). ``when(run)``, if given, says up front whether the chart applies at all. With
    ``per_workload``, the chart is drawn once per workload that selector returns, as
    ``draw(run, workload)``; with several, each file is ``<stem>-<k>-<workload id>``.
    """

    kind: str  # the key the report's readings are attached by
    title: str
    stem: str  # file name without its suffix
    order: int  # reading order in the report, ascending
    draw: Callable[..., Figure | None]
    when: Applies | None = None
    per_workload: PerWorkload | None = None

    def owns(self, file_stem: str) -> bool:
        """Whether a file of this stem is one this chart writes (for stale-file clean-up)."""
        if self.per_workload is None:
            return file_stem == self.stem
        return re.fullmatch(rf"{re.escape(self.stem)}(-\d+-.+)?", file_stem) is not None


_CHARTS: dict[str, Chart] = {}


def chart(
    *,
    kind: str,
    title: str,
    stem: str,
    order: int,
    when: Applies | None = None,
    per_workload: PerWorkload | None = None,
) -> Callable[[Any], Any]:
    """Declare the decorated function as the drawing of chart ``kind``."""

    def register(draw: Callable[..., Figure | None]) -> Callable[..., Figure | None]:
        clash = next((c for c in _CHARTS.values() if kind == c.kind or stem == c.stem), None)
        if clash is not None:
            raise ValueError(
                f"chart {kind!r} (stem {stem!r}) clashes with chart {clash.kind!r} "
                f"(stem {clash.stem!r}): kinds and stems must be unique"
            )
        _CHARTS[kind] = Chart(kind, title, stem, order, draw, when, per_workload)
        return draw

    return register


def all_charts() -> list[Chart]:
    """Every declared chart, in reading order."""
    return sorted(_CHARTS.values(), key=lambda c: (c.order, c.kind))


def charts_of(kinds: Sequence[str] | None) -> list[Chart]:
    """The declared charts of these kinds (all when None), in reading order."""
    if kinds is None:
        return all_charts()
    unknown = sorted(set(kinds) - set(_CHARTS))
    if unknown:
        raise ValueError(
            f"unknown chart kind {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(c.kind for c in all_charts())}"
        )
    return [c for c in all_charts() if c.kind in kinds]


Reader = Callable[[RunLike, "str | None"], list[str]]
_READERS: dict[str, Reader] = {}


def reads(kind: str) -> Callable[[Reader], Reader]:
    """Register the decorated function as the reading of the chart of this kind."""

    def register(fn: Reader) -> Reader:
        if kind in _READERS:
            raise ValueError(f"chart kind {kind!r} has two readings")
        _READERS[kind] = fn
        return fn

    return register


def kinds_read() -> set[str]:
    """The chart kinds that have a reading."""
    return set(_READERS)


def reader_of(kind: str) -> Reader | None:
    """The reading registered for chart ``kind``, if any."""
    return _READERS.get(kind)
