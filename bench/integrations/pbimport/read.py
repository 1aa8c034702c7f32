"""Reading pytest-benchmark JSON, every file checked before anything is written.

pytest-benchmark writes one JSON document per session (``--benchmark-json FILE``, or
``--benchmark-autosave`` under ``.benchmarks/``): ``machine_info``, ``commit_info``,
``datetime``, ``version`` and a ``benchmarks`` list whose items have ``name``, ``fullname``,
``group``, ``extra_info`` and ``stats`` (min, max, mean, stddev, median, iqr, rounds,
iterations, ...). ``stats.data``, the time of each round divided by its iterations, is in every
``--benchmark-json`` file but in saved ones only with ``--benchmark-save-data``. A benchmark
made by ``flagbench_bench`` also has ``extra_info["flagbench"]``, with one trials-table row per
measured round.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench._exceptions import ImportFileError
from bench.integrations.pytestbench.result import EXTRA_INFO_KEY
from bench.results.records import SCHEMA_VERSION

REQUIRED_STATS = ("min", "max", "mean", "median")
_ROW_TEXT = ("config_id", "workload_id", "workload", "strategy")


@dataclass(frozen=True)
class Benchmark:
    name: str
    fullname: str
    group: str | None
    stats: dict[str, Any]
    data: np.ndarray | None  # seconds per iteration, one per round (float64)
    flagbench: dict[str, Any] | None  # extra_info["flagbench"]


@dataclass(frozen=True)
class BenchmarkFile:
    path: Path
    datetime: str | None
    version: str | None
    machine: dict[str, Any]
    commit: dict[str, Any]
    benchmarks: tuple[Benchmark, ...]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _times(where: str, data: Any) -> np.ndarray | None:
    """``stats.data`` as an array of positive finite seconds, checked in one pass over the
    types and one vectorised test (a million rounds take milliseconds, not seconds)."""
    if data is None:
        return None
    if not isinstance(data, list) or not set(map(type, data)) <= {int, float}:
        raise ImportFileError(f"{where}: stats.data is not a list of positive times")
    times = np.array(data, dtype=float)
    if not np.all(np.isfinite(times) & (times > 0)):
        raise ImportFileError(f"{where}: stats.data is not a list of positive times")
    return times


def _flagbench(where: str, info: Any) -> dict[str, Any] | None:
    if info is None:
        return None
    if not isinstance(info, dict):
        raise ImportFileError(f"{where}: extra_info.{EXTRA_INFO_KEY} is not an object")
    schema = info.get("schema")
    if not isinstance(schema, int) or not schema >= 1:
        raise ImportFileError(f"{where}: extra_info.{EXTRA_INFO_KEY}.schema is missing")
    if schema > SCHEMA_VERSION:
        raise ImportFileError(
            f"{where}: written by a newer flagbench (results schema {schema}; "
            f"this one reads up to {SCHEMA_VERSION}); upgrade flagbench"
        )
    trials = info.get("trials")
    if not isinstance(trials, list) or not trials:
        raise ImportFileError(
            f"{where}: extra_info.{EXTRA_INFO_KEY}.trials is not a non-empty list"
        )
    for i, row in enumerate(trials):
        bad = not isinstance(row, dict) or not _number(row.get("wall_s")) or row["wall_s"] <= 0
        if bad or not all(isinstance(row.get(k), str) for k in _ROW_TEXT):
            raise ImportFileError(
                f"{where}: extra_info.{EXTRA_INFO_KEY}.trials[{i}] lacks a "
                f"positive wall_s or one of {', '.join(_ROW_TEXT)}"
            )
    return info


def _benchmark(path: Path, i: int, item: Any) -> Benchmark:
    where = f"{path}: benchmarks[{i}]"
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ImportFileError(f"{where} has no name: not a pytest-benchmark result")
    where += f" ({item['name']})"
    stats = item.get("stats")
    if not isinstance(stats, dict):
        raise ImportFileError(f"{where} has no stats: not a pytest-benchmark result")
    for key in REQUIRED_STATS:
        if not _number(stats.get(key)) or stats[key] < 0:
            raise ImportFileError(f"{where}: stats.{key} is missing or not a number >= 0")
    rounds = stats.get("rounds")
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1:
        raise ImportFileError(f"{where}: stats.rounds is missing or not an integer >= 1")
    data = _times(where, stats.get("data"))
    if data is not None and len(data) != rounds:
        raise ImportFileError(f"{where}: stats.data has {len(data)} times for {rounds} rounds")
    extra = found if isinstance(found := item.get("extra_info"), dict) else {}
    group = item.get("group")
    return Benchmark(
        name=item["name"],
        fullname=str(item.get("fullname") or item["name"]),
        group=group if isinstance(group, str) and group else None,
        stats=stats,
        data=data,
        flagbench=_flagbench(where, extra.get(EXTRA_INFO_KEY)),
    )


def read_file(path: Path) -> BenchmarkFile:
    """The file's benchmarks; ImportFileError (one line naming the file) if it is not JSON
    written by pytest-benchmark."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not JSON (not even UTF-8 text)") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ImportFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ImportFileError(
            f'{path}: not a pytest-benchmark JSON file (no "benchmarks" '
            "list); write one with pytest --benchmark-json FILE"
        )
    machine, commit = doc.get("machine_info"), doc.get("commit_info")
    return BenchmarkFile(
        path=path,
        datetime=doc.get("datetime") if isinstance(doc.get("datetime"), str) else None,
        version=doc.get("version") if isinstance(doc.get("version"), str) else None,
        machine=machine if isinstance(machine, dict) else {},
        commit=commit if isinstance(commit, dict) else {},
        benchmarks=tuple(_benchmark(path, i, b) for i, b in enumerate(doc["benchmarks"])),
    )


def read_files(paths: list[Path]) -> list[BenchmarkFile]:
    """Every file, checked; at least one benchmark among them."""
    files = [read_file(p) for p in paths]
    if not any(f.benchmarks for f in files):
        names = ", ".join(str(p) for p in paths)
        raise ImportFileError(
            f"{names}: no benchmarks in {'it' if len(paths) == 1 else 'them'} "
            "(pytest-benchmark leaves out skipped and failed ones)"
        )
    return files
