"""Results folders written by an older flagbench, read through one explicit upgrade step.

Each raw trial file and ``meta.json`` carry ``schema`` (none at all means 1). An older raw
file is upgraded here, step by step, before it becomes a ``TrialResult``; an older folder's
tables are rebuilt in memory from its upgraded raw files, so charts and reports never need
fallbacks for missing columns. A folder written by a newer flagbench is refused with one line.
``flagbench collect RUN_DIR`` writes the upgraded tables back to the folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._exceptions import RunDirError
from bench.results.records import SCHEMA_VERSION


def schema_of(data: dict[str, Any]) -> int:
    return int(data.get("schema", 1))


def check_readable(where: Path, data: dict[str, Any]) -> int:
    """The schema version, or a RunDirError when this flagbench is too old to read it."""
    version = schema_of(data)
    if version > SCHEMA_VERSION:
        raise RunDirError(
            f"{where}: written by a newer flagbench (results schema {version}; this one reads "
            f"1 to {SCHEMA_VERSION}); upgrade flagbench to read it"
        )
    return version


def _raw_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Ids and labels are derived from the trial's workload now, not stored."""
    out = {
        k: v
        for k, v in data.items()
        if k not in ("config_id", "workload_id", "workload_label", "python")
    }
    out.setdefault("ideal_s", None)
    out.setdefault("server_cpu_s", None)
    out.setdefault("saved_files", 0)
    return out


def _meta_1_to_2(meta: dict[str, Any]) -> dict[str, Any]:
    spec = {**meta["spec"], "baseline": meta["spec"].get("baseline", "sequential")}
    return {**meta, "spec": spec}


def _unchanged(data: dict[str, Any]) -> dict[str, Any]:
    """Every field added since has a default: the file reads as it is, only its tables,
    which lack the new columns, are rebuilt."""
    return data


_RAW_STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _raw_1_to_2,
    2: _unchanged,
    3: _unchanged,
    4: _unchanged,
}
_META_STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _meta_1_to_2,
    2: _unchanged,
    3: _unchanged,
    4: _unchanged,
}


def _upgrade(where: Path, data: dict[str, Any], steps: dict[int, Any]) -> dict[str, Any]:
    version = check_readable(where, data)
    while version < SCHEMA_VERSION:
        data = steps[version](data)
        version += 1
    return {**data, "schema": SCHEMA_VERSION}


def upgrade_raw(where: Path, data: dict[str, Any]) -> dict[str, Any]:
    return _upgrade(where, data, _RAW_STEPS)


def upgrade_meta(where: Path, meta: dict[str, Any]) -> dict[str, Any]:
    return _upgrade(where, meta, _META_STEPS)
