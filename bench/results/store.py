"""The results folder: ``results/<run-id>/`` with its tables, written so a crash never tears a file.

Every file is written under a temporary name in the same folder and renamed over the final
name (``os.replace`` is atomic on POSIX). Each finished trial is saved at once as
``raw/trial-NNNNN.json``; the tables are rebuilt from those, so an interrupted run loses at
most the trial that was running, and ``--resume`` knows exactly what is left.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow

from bench._atomic import write_atomic, write_json_atomic
from bench._exceptions import RunDirError
from bench.define.spec import Suite
from bench.results import collect, upgrade
from bench.results.records import SCHEMA_VERSION, TrialResult

TABLES = ("trials", "requests", "probes")
#: Samples within a trial (an imported benchmark's rounds): trial_id, config_id, round, time_s.
ROUNDS_FILE = "rounds.parquet"
T = TypeVar("T")
#: Columns every reader of a table relies on; a table without them is not flagbench's.
REQUIRED_COLUMNS = {
    "trials": ("trial_id", "config_id", "strategy", "status", "wall_s"),
    "rounds": ("trial_id", "time_s"),
}


def write_parquet_atomic(path: Path, frame: pd.DataFrame) -> None:
    write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_csv_atomic(path: Path, frame: pd.DataFrame) -> None:
    write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


def new_run_dir(root: Path, name: str) -> Path:
    """``root/20261126-101500-quick`` (with a counter if that exists already)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        run_dir = root / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{name}-{n}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        return run_dir
    raise RunDirError(f"{root}: could not make a new run folder")  # pragma: no cover


def raw_path(run_dir: Path, trial_id: int) -> Path:
    return run_dir / "raw" / f"trial-{trial_id:05d}.json"


def save_raw(run_dir: Path, result: TrialResult) -> None:
    write_json_atomic(raw_path(run_dir, result.trial.trial_id), result.to_dict())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: unreadable (not a JSON object)")
    return data


def load_raw(run_dir: Path) -> list[TrialResult]:
    """Every finished trial, in trial order, upgraded from older schemas."""
    out = []
    for path in sorted((run_dir / "raw").glob("trial-*.json")):
        data = upgrade.upgrade_raw(path, _read_json(path))
        try:
            out.append(TrialResult.from_dict(data))
        except (TypeError, KeyError) as exc:
            raise RunDirError(f"{path}: not a flagbench trial file ({exc})") from None
    return out


def read_meta(run_dir: Path) -> dict[str, Any]:
    """The run's ``meta.json``, upgraded from older schemas."""
    path = run_dir / "meta.json"
    if not path.is_file():
        raise RunDirError(f"{run_dir}: not a flagbench run folder (no meta.json)")
    return upgrade.upgrade_meta(path, _read_json(path))


@dataclass(repr=False)
class Run:
    """A stored run, as a notebook wants it: ``run = bench.load("results/<run-id>")``."""

    path: Path
    meta: dict[str, Any]
    trials: pd.DataFrame
    requests: pd.DataFrame
    probes: pd.DataFrame
    summary: pd.DataFrame
    #: the rounds of imported pytest-benchmark trials (``bench.pbimport``); empty otherwise
    rounds: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: what the charts and readings derive from the tables (``per_run``),
    #: kept with the tables it came from: a report asks for the same selection dozens of times
    cache: dict[str, Any] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def run_id(self) -> str:
        return self.meta["run_id"]

    def __repr__(self) -> str:
        """One line, not the tables: a notebook echoes it whole."""
        ok = int((self.trials["status"].astype(str) == "ok").sum()) if len(self.trials) else 0
        strategies = (
            list(dict.fromkeys(self.summary["strategy"].astype(str)))
            if "strategy" in self.summary
            else []
        )
        return (
            f"<Run {self.run_id!r} suite={self.meta.get('suite')!r} "
            f"trials={len(self.trials)} ok={ok} configurations={len(self.summary)} "
            f"strategies={strategies} path={str(self.path)!r}>"
        )


def per_run(make: Callable[[Run], T]) -> Callable[[Run], T]:
    """``make(run)`` computed once for the run's current tables and handed out as a copy the
    caller may change: a report asks for the same selection dozens of times. A table replaced
    (``run.trials = ...``) or resized in place makes a new computation; a value edited in
    place is not seen."""

    @functools.wraps(make)
    def get(run: Run) -> T:
        tables = (run.trials, run.summary, run.requests, run.probes)
        key = [(id(t), t.shape) for t in tables]  # a hit holds its tables: ids stay unique
        hit = run.cache.get(make.__qualname__)
        if hit is None or hit[1] != key:
            hit = run.cache[make.__qualname__] = (tables, key, make(run))
        return copy.copy(hit[2])

    return get


def save_tables(run_dir: Path, tables: dict[str, pd.DataFrame], summary: pd.DataFrame) -> None:
    for name in TABLES:
        write_parquet_atomic(run_dir / f"{name}.parquet", tables[name])
    write_csv_atomic(run_dir / "summary.csv", summary)


def load(run_dir: str | os.PathLike[str]) -> Run:
    """The DataFrames of a run folder. Raises RunDirError if it is not a complete-enough run."""
    path = Path(run_dir)
    meta = read_meta(path)
    if upgrade.schema_of(_read_json(path / "meta.json")) < SCHEMA_VERSION:
        return _rebuilt(path, meta)
    frames = {}
    for name in TABLES:
        file = path / f"{name}.parquet"
        if not file.is_file():
            raise RunDirError(f"{path}: no {file.name}; rebuild it with: flagbench collect {path}")
        frames[name] = _read_table(file)
    summary_file = path / "summary.csv"
    try:
        # "3.10" is an interpreter's name, not the number 3.1
        summary = pd.read_csv(summary_file, dtype={"interpreter": str})
    except (FileNotFoundError, pd.errors.EmptyDataError):  # no trial succeeded
        summary = pd.DataFrame()
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is one
        raise RunDirError(f"{summary_file}: unreadable ({_first_line(exc)})") from None
    rounds_file = path / ROUNDS_FILE
    rounds = _read_table(rounds_file) if rounds_file.is_file() else pd.DataFrame()
    return Run(path, meta, frames["trials"], frames["requests"], frames["probes"], summary, rounds)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_table(file: Path) -> pd.DataFrame:
    """A parquet table of the folder; a torn or foreign file is RunDirError naming it."""
    try:
        frame = pd.read_parquet(file)
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        raise RunDirError(f"{file}: unreadable, not a parquet table ({_first_line(exc)})") from None
    missing = [c for c in REQUIRED_COLUMNS.get(file.stem, ()) if c not in frame]
    if missing and len(frame):  # a run with no finished trial has an empty table, no columns
        raise RunDirError(f"{file}: not a flagbench {file.stem} table (no {', '.join(missing)})")
    return frame


def _rebuilt(run_dir: Path, meta: dict[str, Any]) -> Run:
    """An older folder's tables, rebuilt in memory from its upgraded raw trial files."""
    if not (run_dir / "raw").is_dir():
        raise RunDirError(
            f"{run_dir}: written by an older flagbench and has no raw/ trial "
            "files to rebuild its tables from; run it again"
        )
    tables, summary = collect.collect(
        meta["run_id"], load_raw(run_dir), meta["spec"]["baseline"], Suite.from_dict(meta["spec"])
    )
    return Run(run_dir, meta, tables["trials"], tables["requests"], tables["probes"], summary)
