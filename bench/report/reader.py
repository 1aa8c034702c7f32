"""The readings' registry: each chart kind's reading, registered by ``@reads(kind)``.

A reading is at most two sentences about one chart, computed from the same numbers the chart
draws (through ``bench.charts.data``, never the drawing code). The modules that register
readings are listed in ``bench.report.readings``; this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.charts.data import RunLike

Reader = Callable[[RunLike, str | None], list[str]]
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


def lookup(kind: str) -> Reader | None:
    """The reading registered for chart ``kind``, if any."""
    return _READERS.get(kind)
