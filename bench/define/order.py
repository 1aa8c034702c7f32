"""The order in which a reader meets workloads: numbers as numbers, everywhere.

A workload's label (``N=60 C=20 latency=50ms switch_interval=0.5ms``) sorted as text puts
10 ms before 1 ms and 2 ms after 10 ms. Tables, charts, the report and comparisons all order
workloads with ``label_key``, so a sweep reads 0.5, 1, 10, 20 ms wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .workload import FIELDS

# a number with an optional duration unit; versions (3.10) keep all their dotted parts
_NUMBER = re.compile(r"(\d+(?:\.\d+)*)(us|µs|ms|s)?(?![A-Za-z])")
_SCALE = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, None: 1.0}
# label keys whose values are versions: 3.9 before 3.10
_VERSIONS = frozenset({"python"})
# label parts in declaration order (N, C and latency come first in every label)
_PLACE = {"N": -3, "C": -2, "latency": -1} | {f.name: i for i, f in enumerate(FIELDS)}


def _number(digits: str, unit: str | None, version: bool) -> tuple[float, ...]:
    if version or digits.count(".") > 1:
        return tuple(float(p) for p in digits.split("."))
    return (float(digits) * _SCALE[unit],)


def value_key(value: Any, version: bool = False) -> tuple:
    """A key for one value: numbers (and durations, in seconds) by size, words as text."""
    if isinstance(value, bool):
        return ((0, (float(value),), ""),)
    if isinstance(value, (int, float)):
        return ((0, (float(value),), ""),)
    text, pos = str(value), 0
    out: list[tuple[int, tuple[float, ...], str]] = []
    for m in _NUMBER.finditer(text):
        if m.start() > pos:
            out.append((1, (), text[pos : m.start()]))
        out.append((0, _number(m.group(1), m.group(2), version), ""))
        pos = m.end()
    if pos < len(text):
        out.append((1, (), text[pos:]))
    return tuple(out)


def label_key(label: str) -> tuple:
    """A key for a workload label: its ``name=value`` parts in turn, each value by number."""
    parts = []
    for part in str(label).split():
        name, eq, value = part.partition("=")
        place = _PLACE.get(name, len(_PLACE))
        parts.append((place, name, value_key(value, name in _VERSIONS) if eq else ()))
    return tuple(parts)


def label_ranks(labels: Iterable[str]) -> dict[str, int]:
    """Each distinct label's place in numeric order, for sorting a table by it."""
    return {label: i for i, label in enumerate(sorted(set(map(str, labels)), key=label_key))}
