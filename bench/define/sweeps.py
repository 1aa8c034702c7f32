"""Sweeps: a workload table whose lists are axes, expanded into workloads; and which sweep
points a strategy cannot tell apart (sequential does not depend on C)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any

from bench._exceptions import SpecError
from bench.define.workload import BY_NAME, FIELDS, Workload


def expand(where: str, table: Mapping[str, Any], cli: bool = False) -> list[Workload]:
    """A workload table whose list values are sweep axes, expanded into their product."""
    axes: list[list[tuple[str, Any]]] = []
    for key, value in table.items():
        field = BY_NAME.get(key)
        if field is None:
            raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(BY_NAME)}")
        if isinstance(value, list):
            if not field.axis:
                raise SpecError(f"{where}: {key} takes one value, not a list")
            if not value:
                raise SpecError(f"{where}: {key} is an empty list; give at least one value")
        values = value if isinstance(value, list) else [value]
        axes.append([(key, v) for v in values])
    return [Workload.from_mapping(dict(combo), where, cli) for combo in itertools.product(*axes)]


def sweep_params() -> tuple[str, ...]:
    """Trials columns that identify a workload besides N and C: two workloads that differ in
    N or C only belong to one sweep."""
    return tuple(f.column_name for f in FIELDS if not f.size)


def observed(w: Workload, strategy: object) -> Workload:
    """The workload as ``strategy`` sees it: each field that the strategy caps (sequential's
    ``max_concurrency = 1`` caps C) cut to the cap, so sweep points it cannot tell apart are
    one configuration, run once."""
    changes = {}
    for f in FIELDS:
        cap = getattr(strategy, f.capped_by, None) if f.capped_by else None
        if cap is not None and getattr(w, f.name) > cap:
            changes[f.name] = cap
    return dataclasses.replace(w, **changes) if changes else w
