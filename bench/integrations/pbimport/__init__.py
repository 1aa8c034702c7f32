"""``flagbench import-pytest-benchmark FILE.json...``: pytest-benchmark results as a flagbench run.

Many users guard performance with pytest-benchmark already; importing its JSON gives them
flagbench's tables, charts, report and ``flagbench compare``. ``read`` checks every file
before anything is written; ``tables`` builds the trials and summary tables. The run folder
is filled under a hidden temporary name and renamed into place when complete, so a bad input
or a crash leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bench._exceptions import RunDirError, SpecError
from bench.integrations.pbimport.read import BenchmarkFile, read_files
from bench.integrations.pbimport.tables import rounds_table, summary_table, trials_table
from bench.results import collect, store
from bench.results.records import SCHEMA_VERSION
from bench.run import metadata

__all__ = ["FORMAT", "import_files"]

FORMAT = "pytest-benchmark"


def _meta(
    run_id: str, files: Sequence[BenchmarkFile], baseline: str, command: list[str], n_trials: int
) -> dict[str, Any]:
    machine = files[0].machine
    cpu = found if isinstance(found := machine.get("cpu"), dict) else {}
    commit = files[0].commit
    commit_id = commit.get("id")
    if commit_id and commit.get("dirty"):
        commit_id = f"{commit_id}+dirty"
    stamps = sorted(f.datetime for f in files if f.datetime)
    sources = [
        {
            "path": str(f.path),
            "datetime": f.datetime,
            "version": f.version,
            "benchmarks": len(f.benchmarks),
        }
        for f in files
    ]
    names = ", ".join(f.path.name for f in files)
    platform = "-".join(str(machine[k]) for k in ("system", "release", "machine") if machine.get(k))
    return {
        "run_id": run_id,
        "suite": FORMAT,
        "source": names,
        "imported_from": {"format": FORMAT, "files": sources},
        "command": command,
        "spec": {
            "name": FORMAT,
            "description": f"imported from pytest-benchmark JSON ({names})",
            "baseline": baseline,
        },
        "python": machine.get("python_version"),
        "implementation": machine.get("python_implementation"),
        "platform": platform or None,
        "cpu_model": cpu.get("brand_raw"),
        "cpu_count": cpu.get("count"),
        "hostname": machine.get("node"),
        "packages": {FORMAT: files[0].version},
        "git_commit": commit_id,
        "started": None,  # pytest-benchmark stamps a file when it is written, at the end
        "ended": stamps[-1] if stamps else None,
        "imported": metadata.now_iso(),
        "schema": SCHEMA_VERSION,
        "complete": True,
        "n_trials": n_trials,
        "n_failed": 0,
    }


def import_files(
    paths: Sequence[Path],
    out_root: Path,
    baseline: str | None = None,
    command: list[str] | None = None,
) -> Path:
    """A new run folder under ``out_root`` from the files; returns its path. Speed-ups are
    against ``baseline`` (a strategy or test name; default: sequential, if present)."""
    files = read_files(list(paths))
    trials = trials_table("", files)
    rounds = rounds_table(files)
    summary = summary_table(trials, files, baseline or "sequential")
    if baseline is not None and baseline not in set(summary["strategy"]):
        names = ", ".join(sorted(set(summary["strategy"])))
        raise SpecError(f"--baseline {baseline}: no benchmark of that name; the names: {names}")
    try:
        run_dir = store.new_run_dir(out_root, FORMAT)
    except OSError as exc:
        raise RunDirError(f"{out_root}: cannot make a run folder there ({exc.strerror})") from None
    tmp = out_root / f".{run_dir.name}.tmp"
    try:
        tmp.mkdir()
        trials["run_id"] = pd.Categorical([run_dir.name] * len(trials))
        tables = {
            "trials": trials,
            "requests": collect.requests_frame(run_dir.name, []),
            "probes": collect.probes_frame(run_dir.name, []),
        }
        store.save_tables(tmp, tables, summary)
        store.write_parquet_atomic(tmp / store.ROUNDS_FILE, rounds)
        meta = _meta(run_dir.name, files, baseline or "sequential", command or [], len(trials))
        store.write_json_atomic(tmp / "meta.json", meta)
        os.replace(tmp, run_dir)  # over the empty folder that reserved the name
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        run_dir.rmdir()
        raise
    return run_dir
