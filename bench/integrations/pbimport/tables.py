"""pytest-benchmark results as the harness's tables: one trial per round, a summary per config.

- A benchmark made by ``flagbench_bench`` brings its rows (``extra_info["flagbench"]``): its
  configuration id is the harness's (strategy + workload id), so it compares with a harness
  run of the same strategy and workload.
- A plain benchmark with per-round times (``stats.data``) becomes one trial per round, named
  by the test (``strategy``) and its group or module (``workload``); what only flagbench
  measures (counts, the ideal time, the server's view) is left empty, never made up.
- A plain benchmark saved without its rounds has no trials: its summary row comes from
  pytest-benchmark's own statistics (median, IQR, mean and standard deviation).

The same configuration in several files is one configuration with the rounds of all of them.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.define.spec import Trial
from bench.define.workload import Workload
from bench.integrations.pbimport.read import Benchmark, BenchmarkFile
from bench.results import collect, stats
from bench.results.records import TrialResult

_CATEGORIES = ("run_id", "strategy", "status", "bottleneck", "config_id", "workload_id")


@functools.cache
def trial_columns() -> dict[str, Any]:
    """The trials table's columns as the collector makes them, each with its empty value:
    "" for text, None for the rest."""
    placeholder = TrialResult(Trial(0, "-", Workload(), 0), 1, 1, 0.0)
    frame = collect.trials_frame(
        "", [placeholder], collect.requests_frame("", []), collect.probes_frame("", [])
    )
    row = frame.iloc[0].to_dict()
    return {k: "" if isinstance(v, str) else None for k, v in row.items()}


def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def _identity(b: Benchmark) -> tuple[str, str, str]:
    """(strategy, workload label, workload id) of a benchmark."""
    if b.flagbench is not None:
        first = b.flagbench["trials"][0]
        return first["strategy"], first["workload"], first["workload_id"]
    label = b.group or b.fullname.split("::")[0]
    return b.name, label, _short_hash(label)


def _strategies(files: Sequence[BenchmarkFile]) -> dict[str, str]:
    """Strategy name per benchmark (by fullname): two different tests that would share a
    configuration (the same strategy on the same workload) keep apart by their test names."""
    tests: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in files:
        for b in f.benchmarks:
            strategy, _, workload_id = _identity(b)
            tests[(strategy, workload_id)].add(b.fullname)
    names = {}
    for f in files:
        for b in f.benchmarks:
            strategy, _, workload_id = _identity(b)
            shared = len(tests[(strategy, workload_id)]) > 1
            names[b.fullname] = f"{strategy} ({b.name})" if shared else strategy
    return names


def _rows(f: BenchmarkFile, b: Benchmark, strategy: str) -> list[dict[str, Any]]:
    _, label, workload_id = _identity(b)
    config = {
        "strategy": strategy,
        "workload": label,
        "workload_id": workload_id,
        "config_id": f"{strategy}-{workload_id}",
    }
    if b.flagbench is not None:
        return [{**trial_columns(), **row, **config} for row in b.flagbench["trials"]]
    if b.data is None:
        return []
    plain = {
        **trial_columns(),
        **config,
        "python": str(f.machine.get("python_version", "")),
        "implementation": str(f.machine.get("python_implementation", "")),
        "status": "ok",
    }
    return [{**plain, "wall_s": wall} for wall in b.data]


def trials_table(run_id: str, files: Sequence[BenchmarkFile]) -> pd.DataFrame:
    """One row per measured round, numbered in file order; repeats count on across files."""
    names = _strategies(files)
    rows: list[dict[str, Any]] = []
    repeats: dict[str, int] = defaultdict(int)
    for f in files:
        for b in f.benchmarks:
            for row in _rows(f, b, names[b.fullname]):
                row.update(trial_id=len(rows), repeat=repeats[row["config_id"]])
                repeats[row["config_id"]] += 1
                rows.append(row)
    frame = pd.DataFrame(rows, columns=list(trial_columns()))
    for col, empty in trial_columns().items():
        values = frame[col].dropna()
        if empty is None and not values.map(lambda v: isinstance(v, bool)).all():
            frame[col] = pd.to_numeric(frame[col])  # unknown numbers are NaN, as in a harness run
        elif empty is None and values.empty:
            frame[col] = frame[col].astype(float)
    frame["run_id"] = run_id
    for col in _CATEGORIES:
        frame[col] = frame[col].astype("category")
    return frame


def _stats_row(b: Benchmark, strategy: str, baseline: str) -> dict[str, Any]:
    """A summary row from pytest-benchmark's statistics alone (no per-round times)."""
    s = b.stats
    n, mean = int(s["rounds"]), float(s["mean"])
    sd = float(s.get("stddev") or 0.0)
    cv = sd / mean if n > 1 and mean > 0 else math.nan
    # the log-scale interval that the harness gives, from the mean and spread alone (as if
    # the rounds were log-normal): positive by construction
    log_sd = math.sqrt(math.log1p(cv * cv)) if n > 1 else math.nan
    gmean = mean / math.sqrt(1 + cv * cv) if n > 1 else mean
    half = stats.t975(n - 1) * log_sd / math.sqrt(n) if n > 1 else math.nan
    _, label, workload_id = _identity(b)
    return {
        "config_id": f"{strategy}-{workload_id}",
        "workload_id": workload_id,
        "workload": label,
        "strategy": strategy,
        "n_jobs": math.nan,
        "concurrency": math.nan,
        "latency": "",
        "n": n,
        "wall_median_s": float(s["median"]),
        "wall_iqr_s": float(s.get("iqr", math.nan)),
        "wall_gmean_s": gmean,
        "wall_ci_low_s": gmean * math.exp(-half),
        "wall_ci_high_s": gmean * math.exp(half),
        "wall_cv": cv,
        "stability": "not assessed"
        if n < stats.MIN_SAMPLES
        else "unstable"
        if cv > stats.UNSTABLE_CV
        else "stable",
        "unstable": n >= stats.MIN_SAMPLES and cv > stats.UNSTABLE_CV,
        "efficiency_median": math.nan,
        "throughput_median_rps": math.nan,
        "ideal_s": math.nan,
        "n_error_median": math.nan,
        "cpu_user_median_s": math.nan,
        "cpu_sys_median_s": math.nan,
        "bottleneck": "",
        "baseline": baseline,
        "speedup": math.nan,
        "speedup_ci_low": math.nan,
        "speedup_ci_high": math.nan,
    }


def summary_table(
    trials: pd.DataFrame, files: Sequence[BenchmarkFile], baseline: str
) -> pd.DataFrame:
    """The collector's summary of the trials, plus a row for each benchmark saved without its
    rounds; the latter get a speed-up (ratio of medians, no interval) when the baseline is in
    the same workload."""
    summary = collect.summarize(trials, baseline) if len(trials) else pd.DataFrame()
    names = _strategies(files)
    extra = [
        _stats_row(b, names[b.fullname], baseline)
        for f in files
        for b in f.benchmarks
        if b.flagbench is None and b.data is None
    ]
    if not extra:
        return summary
    both = pd.concat([summary, pd.DataFrame(extra)], ignore_index=True)
    both = both.drop_duplicates("config_id", keep="first")
    for i, row in both.iterrows():
        if not math.isnan(row["speedup"]):
            continue
        base = both[(both["workload_id"] == row["workload_id"]) & (both["strategy"] == baseline)]
        if len(base):
            both.loc[i, "speedup"] = float(base["wall_median_s"].iloc[0]) / row["wall_median_s"]
    both["unstable"] = both["unstable"].astype(bool)
    both["n"] = both["n"].astype(np.int64)
    return both
