"""pytest-benchmark results as the harness's tables: trials, the rounds of each, a summary.

- A benchmark made by ``flagbench_bench`` brings its rows (``extra_info["flagbench"]``): each
  measured round there is a whole harness trial, and its configuration id is the harness's
  (strategy + workload id), so it compares with a harness run of the same strategy and workload.
- A plain benchmark with per-round times (``stats.data``) is one trial per file it is in, named
  by the test (``strategy``) and its group or module (``workload``), whose ``wall_s`` is the
  median round. Its rounds are samples of that one benchmark, not trials: they go, as columns,
  into the rounds table (``rounds.parquet``: trial_id, config_id, round, time_s), so a million
  rounds cost a few arrays, not a million rows of every trial column. Its summary and
  ``flagbench compare`` use the rounds. What only flagbench measures (counts, the ideal time,
  the server's view) is left empty, never made up.
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


def _config(b: Benchmark, strategy: str) -> dict[str, str]:
    _, label, workload_id = _identity(b)
    return {
        "strategy": strategy,
        "workload": label,
        "workload_id": workload_id,
        "config_id": f"{strategy}-{workload_id}",
    }


def _rows(f: BenchmarkFile, b: Benchmark, strategy: str) -> list[dict[str, Any]]:
    config = _config(b, strategy)
    if b.flagbench is not None:
        return [{**trial_columns(), **row, **config} for row in b.flagbench["trials"]]
    if b.data is None:
        return []
    return [
        {
            **trial_columns(),
            **config,
            "python": str(f.machine.get("python_version", "")),
            "implementation": str(f.machine.get("python_implementation", "")),
            "status": "ok",
            "wall_s": float(np.median(b.data)),
        }
    ]


def trials_table(run_id: str, files: Sequence[BenchmarkFile]) -> pd.DataFrame:
    """One row per flagbench trial, and per plain benchmark with rounds in each file, numbered
    in file order; repeats count on across files."""
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


def rounds_table(files: Sequence[BenchmarkFile]) -> pd.DataFrame:
    """Every round of every plain benchmark, one row each, by the trial it belongs to (the
    trial ids ``trials_table`` gives, which it numbers in the same order)."""
    names = _strategies(files)
    trial_id = 0
    ids: list[np.ndarray] = []
    configs: list[str] = []
    times: list[np.ndarray] = []
    for f in files:
        for b in f.benchmarks:
            if b.flagbench is not None:
                trial_id += len(b.flagbench["trials"])
            elif b.data is not None:
                ids.append(np.full(len(b.data), trial_id, dtype=np.int64))
                configs.append(_config(b, names[b.fullname])["config_id"])
                times.append(b.data)
                trial_id += 1
    return rounds_frame(ids, configs, times)


def rounds_frame(
    ids: Sequence[np.ndarray], configs: Sequence[str], times: Sequence[np.ndarray]
) -> pd.DataFrame:
    """The rounds table from its parts: per trial, its id per round, its config, its times."""
    if not times:
        return pd.DataFrame(
            {
                "trial_id": np.array([], dtype=np.int64),
                "config_id": pd.Categorical([]),
                "round": np.array([], dtype=np.int64),
                "time_s": np.array([], dtype=float),
            }
        )
    codes = pd.Categorical(configs)
    return pd.DataFrame(
        {
            "trial_id": np.concatenate(ids),
            "config_id": pd.Categorical.from_codes(
                np.repeat(codes.codes, [len(t) for t in times]), codes.categories
            ),
            "round": np.concatenate([np.arange(len(t), dtype=np.int64) for t in times]),
            "time_s": np.concatenate(times),
        }
    )


def _stability(n: int, cv: float) -> str:
    if n < stats.MIN_SAMPLES:
        return "not assessed"
    return "unstable" if cv > stats.UNSTABLE_CV else "stable"


def _empty_row(b: Benchmark, strategy: str, baseline: str) -> dict[str, Any]:
    """A summary row's columns that an imported benchmark leaves empty, and its names."""
    return {
        **_config(b, strategy),
        "n_jobs": math.nan,
        "concurrency": math.nan,
        "latency": "",
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


def _rounds_row(b: Benchmark, strategy: str, baseline: str, times: np.ndarray) -> dict[str, Any]:
    """A summary row from every round of a configuration, as the collector makes one from
    repeats: median, IQR, the log-scale interval of the geometric mean, the spread."""
    lo, hi = stats.log_ci(times)
    cv = stats.cv(times)
    q25, q75 = np.percentile(times, [25, 75])
    return {
        **_empty_row(b, strategy, baseline),
        "n": len(times),
        "wall_median_s": float(np.median(times)),
        "wall_iqr_s": float(q75 - q25),
        "wall_gmean_s": stats.gmean(times),
        "wall_ci_low_s": lo,
        "wall_ci_high_s": hi,
        "wall_cv": cv,
        "stability": _stability(len(times), cv),
        "unstable": _stability(len(times), cv) == "unstable",
    }


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
    return {
        **_empty_row(b, strategy, baseline),
        "n": n,
        "wall_median_s": float(s["median"]),
        "wall_iqr_s": float(s.get("iqr", math.nan)),
        "wall_gmean_s": gmean,
        "wall_ci_low_s": gmean * math.exp(-half),
        "wall_ci_high_s": gmean * math.exp(half),
        "wall_cv": cv,
        "stability": _stability(n, cv),
        "unstable": n >= stats.MIN_SAMPLES and cv > stats.UNSTABLE_CV,
    }


def _plain_rows(files: Sequence[BenchmarkFile], baseline: str) -> list[dict[str, Any]]:
    """A summary row per plain configuration: from its rounds pooled over the files, else
    from pytest-benchmark's statistics; speed-ups against the baseline on the same workload
    (with an interval where both have rounds, a ratio of medians where not)."""
    names = _strategies(files)
    first: dict[str, tuple[Benchmark, str]] = {}
    pooled: dict[str, list[np.ndarray]] = defaultdict(list)
    for f in files:
        for b in f.benchmarks:
            if b.flagbench is not None:
                continue
            config_id = _config(b, names[b.fullname])["config_id"]
            first.setdefault(config_id, (b, names[b.fullname]))
            if b.data is not None:
                pooled[config_id].append(b.data)
    times = {c: np.concatenate(parts) for c, parts in pooled.items()}
    rows = {
        c: _rounds_row(b, name, baseline, times[c]) if c in times else _stats_row(b, name, baseline)
        for c, (b, name) in first.items()
    }
    base = {r["workload_id"]: c for c, r in rows.items() if r["strategy"] == baseline}
    for c, row in rows.items():
        b_id = base.get(row["workload_id"])
        if b_id is None:
            continue
        if c in times and b_id in times:
            ratio, lo, hi = stats.ratio_ci(times[b_id], times[c])
            row.update(speedup=ratio, speedup_ci_low=lo, speedup_ci_high=hi)
        else:
            row["speedup"] = rows[b_id]["wall_median_s"] / row["wall_median_s"]
    return list(rows.values())


def summary_table(
    trials: pd.DataFrame, files: Sequence[BenchmarkFile], baseline: str
) -> pd.DataFrame:
    """The collector's summary of the flagbench trials, plus a row per plain configuration
    (from its rounds, or from pytest-benchmark's statistics when saved without them)."""
    plain = _plain_rows(files, baseline)
    ids = {r["config_id"] for r in plain}
    ours = trials[~trials["config_id"].astype(str).isin(ids)]
    summary = collect.summarize(ours, baseline) if len(ours) else pd.DataFrame()
    if not plain:
        return summary
    both = pd.concat([summary, pd.DataFrame(plain)], ignore_index=True)
    both["unstable"] = both["unstable"].astype(bool)
    both["n"] = both["n"].astype(np.int64)
    return both
