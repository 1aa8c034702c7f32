"""From finished trials to tidy tables: ``requests``, ``probes``, ``trials`` and the ``summary``.

One row per observation, one column per variable, units in the column names.

Derived per trial:

- ``ideal_io_s``: the time a perfect client with C slots would take on this server's own
  draws of latency and faults (``bench.results.ideal``), C being the concurrency the strategy can use
  (1 for one that declares ``max_concurrency = 1``, such as sequential). For a fixed latency L
  it is ``ceil(N / C) * L``; ``ideal_mean_s`` is that formula with the expected latency of a
  job (image, plus metadata when fetched), kept for reference.
- ``ideal_s``: with CPU work or slow writes, the largest of the I/O ideal (its slots held for
  the steps too, when the strategy's workers fetch and then work), the ``cpu_floor_s`` (the
  calibrated work over ``cpu_cores``, the cores the model can use) and the
  ``blocking_floor_s`` (work and writes over ``blocking_workers``); ``ideal_bound`` says which
  (``io``, ``cpu``, ``blocking``) and ``cpu_limit`` why the cores are what they are (``gil``,
  ``loop``, ``workers``, ``cores``). ``efficiency = ideal_s / wall_s``.
- ``bottleneck``, the first rule that matches:

  1. At its ideal (efficiency >= 0.8), what sets the ideal: ``latency`` (the requests: the
     strategy keeps C in flight and waits), ``gil`` (GIL-holding CPU work in threads of one
     process, on one core), ``client_cpu`` (CPU work on the cores the model can use: an
     event loop's one, or the pool's) or ``blocking`` (slow writes on the workers that make
     them: an event loop makes one at a time).
  2. ``server``: the server process used >= 80% of a core during the trial.
  3. ``gil``: the requests came from several threads of one process, which used 80% to 120%
     of one core, and its heartbeat thread woke >= 5 ms late (p99): the threads are queueing
     for the GIL. (One busy thread, an event loop say, is ``client_cpu``.)
  4. ``client_cpu``: the client used >= 80% of a core.
  5. ``errors``: >= 10% of the attempts were failures that cost time: timeouts, and failed
     attempts that were retried (with their back-off). An HTTP error that is not retried costs
     no more than a success.
  6. ``mixed``: none of the above dominates (start-up of a process pool, scheduling, ...).

  A failed trial (watchdog, crash, counts that do not add up: ``bench.results.accounting``) is
  labelled ``failed``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bench.define.order import label_ranks
from bench.define.plan import stands_for
from bench.define.pythons import full_version, interpreter_name
from bench.results import accounting, columns, delivery, openloop, stats
from bench.results.ideal import trial_ideal
from bench.results.records import RECORD_DEFAULTS, RECORD_FIELDS, TrialResult
from flags_server.stats import STAT_FAULTS

if TYPE_CHECKING:
    from bench.define.spec import Suite

GIL_LAG_S = 0.005


def requests_frame(run_id: str, results: Sequence[TrialResult]) -> pd.DataFrame:
    parts = []
    for r in results:
        if r.result is None:
            continue
        frame = pd.DataFrame(r.result.records, columns=r.result.record_fields)
        frame.insert(0, "trial_id", r.trial.trial_id)
        frame.insert(1, "strategy", r.trial.strategy)
        parts.append(frame)
    columns = ["trial_id", "strategy", *RECORD_FIELDS]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    for name, default in RECORD_DEFAULTS.items():  # a field added after a run was recorded
        if name not in frame:
            frame[name] = default
    frame = frame.rename(
        columns={
            "t_queued": "t_queued_s",
            "t_start": "t_start_s",
            "t_end": "t_end_s",
            "t_intended": "t_intended_s",
            "t_delivered": "t_delivered_s",
        }
    )
    frame.insert(0, "run_id", run_id)
    frame["trial_id"] = frame["trial_id"].astype("int64")
    frame["status"] = frame["status"].astype("Int64")
    frame["nbytes"] = frame["nbytes"].astype("int64")
    frame["attempt"] = frame["attempt"].astype("int64")
    frame["final"] = frame["final"].astype(bool)
    for col in ("t_queued_s", "t_start_s", "t_end_s", "t_intended_s", "t_delivered_s"):
        frame[col] = frame[col].astype(float)
    frame["latency_s"] = frame["t_end_s"] - frame["t_start_s"]
    frame["wait_s"] = frame["t_start_s"] - frame["t_queued_s"]
    # open loop (bench.results.openloop): from the scheduled arrival; NaN in closed loop
    frame["latency_corrected_s"] = frame["t_end_s"] - frame["t_intended_s"]
    frame["late_s"] = frame["t_start_s"] - frame["t_intended_s"]
    for col in ("run_id", "strategy", "cc", "resource", "outcome", "error_kind", "client"):
        frame[col] = frame[col].astype("category")
    return frame


def probes_frame(run_id: str, results: Sequence[TrialResult]) -> pd.DataFrame:
    rows = [
        (r.trial.trial_id, r.trial.strategy, kind, t, lag)
        for r in results
        if r.result is not None
        for kind, t, lag in r.result.probes
    ]
    frame = pd.DataFrame(rows, columns=["trial_id", "strategy", "kind", "t_s", "lag_s"])
    frame.insert(0, "run_id", run_id)
    frame["trial_id"] = frame["trial_id"].astype("int64")
    frame["t_s"] = frame["t_s"].astype(float)
    frame["lag_s"] = frame["lag_s"].astype(float)
    for col in ("run_id", "strategy", "kind"):
        frame[col] = frame[col].astype("category")
    return frame


def bottleneck(row: dict[str, Any]) -> str:
    """The rule in this module's docstring, on one trial row."""
    if row["status"] != "ok":
        return "failed"
    wall = row["wall_s"] or math.nan
    cpu = (row["cpu_user_s"] + row["cpu_sys_s"]) / wall
    server = row.get("server_cpu_s", math.nan) / wall
    if row["efficiency"] >= 0.8:
        bound = row.get("ideal_bound", "io")
        if bound == "cpu":
            return "gil" if row.get("cpu_limit") == "gil" else "client_cpu"
        return "blocking" if bound == "blocking" else "latency"
    if server >= 0.8:
        return "server"
    if cpu >= 0.8:
        lag = row.get("heartbeat_p99_s", math.nan)
        threads = row.get("client_processes", 1) == 1 and row.get("client_threads", 1) > 1
        return "gil" if threads and cpu < 1.2 and lag >= GIL_LAG_S else "client_cpu"
    if row["n_requests"] and row["n_costly_failures"] / row["n_requests"] >= 0.1:
        return "errors"
    return "mixed"


def _trial_row(r: TrialResult, reqs: pd.DataFrame, probes: pd.DataFrame) -> dict[str, Any]:
    trial, w = r.trial, r.trial.workload
    result = r.result
    # the rule of bench.results.accounting holds for every trial read, older raw files included
    failure = accounting.failure_of(r) if r.ok else (r.failure or "failed")
    row: dict[str, Any] = {
        "trial_id": trial.trial_id,
        "config_id": trial.config_id,
        "workload_id": w.workload_id,
        "workload": w.label,
        "repeat": trial.repeat,
        "strategy": trial.strategy,
        "python": full_version(result.python, result.free_threaded) if result else "",
        "interpreter": interpreter_name(result.python, result.free_threaded, result.gil_enabled)
        if result
        else "",
        "implementation": result.implementation if result else "",
        "gil_enabled": result.gil_enabled if result else None,
        "gil_enabled_by": ", ".join(result.gil_enabled_by) if result else "",
        "free_threaded": result.free_threaded if result else None,
        "start_method": result.start_method if result else None,
        "client": result.client if result else "",
        "loop": result.loop if result else "",
        **w.columns(),
        "n_jobs": r.n_jobs,
        "latency_mean_s": r.latency_mean_s,
        "status": "failed" if failure else "ok",
        "failure": failure,
        "n_saved_files": r.saved_files,
        "wall_s": result.wall_s if result else math.nan,
        "cpu_user_s": result.cpu_user_s if result else math.nan,
        "cpu_sys_s": result.cpu_sys_s if result else math.nan,
        "rss_peak_mib": result.rss_peak_mib if result else math.nan,
        "startup_s": math.nan if result is None or result.startup_s is None else result.startup_s,
    }
    wall = row["wall_s"]
    final = reqs[reqs["final"]]
    counts = final["outcome"].value_counts()
    # attempt 0 marks bookkeeping (a job cancelled by Ctrl-C, a lost pool worker): no request
    sent = reqs[reqs["attempt"] > 0]
    n_requests = len(sent)
    # workers are "pid/thread-name", or "pid/task-N" for coroutines sharing one thread, with
    # the address of the machine's dask worker in front ("tcp://HOST:PORT/pid/task-N")
    row["client_processes"] = sent["worker"].str.rpartition("/")[0].nunique() if n_requests else 0
    threads = sent.loc[~sent["worker"].str.contains("/task-", regex=False), "worker"].nunique()
    row["client_threads"] = max(threads, 1) if n_requests else 0
    row.update(
        n_ok=int(counts.get("ok", 0)),
        n_not_found=int(counts.get("not_found", 0)),
        n_error=int(counts.get("error", 0)),
        n_costly_failures=int(
            (
                (sent["error_kind"] == "timeout") | (~sent["final"] & (sent["outcome"] == "error"))
            ).sum()
        ),
        n_requests=n_requests,
        throughput_rps=n_requests / wall if wall > 0 else math.nan,
    )
    row["concurrency_effective"] = r.concurrency_effective
    ideal = trial_ideal(r)
    row["ideal_mean_s"] = ideal.mean_s
    row["ideal_io_s"] = ideal.io_s
    row["cpu_floor_s"] = r.cpu_floor_s
    row["blocking_floor_s"] = r.blocking_floor_s
    row["ideal_s"], row["ideal_bound"] = ideal.ideal_s, ideal.bound
    row["efficiency"] = ideal.efficiency
    row.update(_worker_columns(r))
    lat = sent["latency_s"].to_numpy()
    for q in (50, 90, 99):
        row[f"latency_p{q}_s"] = float(np.percentile(lat, q)) if len(lat) else math.nan
    row["latency_max_s"] = float(lat.max()) if len(lat) else math.nan
    row["wait_mean_s"] = float(sent["wait_s"].mean()) if n_requests else math.nan
    # the wall time in three parts: until the first request starts (a process pool starts
    # its processes and imports there), until its first result, and the steady rest; the
    # book's total (wall_s) keeps them all
    first_start = float(sent["t_start_s"].min()) if n_requests else math.nan
    row["pool_startup_s"] = max(first_start, 0.0) if n_requests else math.nan
    row["steady_s"] = wall - row["pool_startup_s"] if n_requests else math.nan
    row.update(openloop.columns(w, reqs))
    row.update(delivery.columns(reqs))
    cpu = row["cpu_user_s"] + row["cpu_sys_s"]
    row["cpu_per_request_ms"] = 1000 * cpu / n_requests if n_requests else math.nan
    for kind in ("loop_lag", "heartbeat", "spinner_thread", "spinner_loop"):
        lags = probes.loc[probes["kind"] == kind, "lag_s"].to_numpy()
        row[f"{kind}_max_s"] = float(lags.max()) if len(lags) else math.nan
        row[f"{kind}_p99_s"] = float(np.percentile(lags, 99)) if len(lags) else math.nan
    server = r.server or {}
    faults = server.get("faults", {})
    row.update(
        server_requests=server.get("requests", pd.NA),
        server_peak_inflight=server.get("peak_inflight", pd.NA),
        server_connections=server.get("connections", pd.NA),
        server_cpu_s=math.nan if r.server_cpu_s is None else r.server_cpu_s,
        server_error=r.server_error,
        **{f"server_injected_{k}": faults.get(k, pd.NA) for k in STAT_FAULTS},
    )
    refused = int((sent["error_kind"] == "connection_refused").sum())
    row["counts_match"] = (
        bool(server)
        and server.get("requests") == n_requests - refused
        and row["n_ok"] + row["n_not_found"] + row["n_error"] == r.n_jobs
    )
    row["bottleneck"] = bottleneck(row)
    return row


def _worker_columns(r: TrialResult) -> dict[str, Any]:
    """What the worker applied and found: start method, switch interval, background load,
    and the spread of the blocking steps (empty for a failed trial)."""
    res = r.result
    if res is None:
        return {
            "start_method": None,
            "switch_interval_s": math.nan,
            "background_cpu_s": math.nan,
            "cores": pd.NA,
            "cpu_cores": pd.NA,
            "blocking_workers": pd.NA,
            "cpu_limit": "",
        }
    return {
        "start_method": res.start_method,
        "switch_interval_s": math.nan if res.switch_interval_s is None else res.switch_interval_s,
        "background_cpu_s": res.background_cpu_s,
        "cores": pd.NA if res.cores is None else res.cores,
        "cpu_cores": pd.NA if res.cpu_cores is None else res.cpu_cores,
        "blocking_workers": pd.NA if res.blocking_workers is None else res.blocking_workers,
        "cpu_limit": res.cpu_limit,
    }


def trials_frame(
    run_id: str, results: Sequence[TrialResult], requests: pd.DataFrame, probes: pd.DataFrame
) -> pd.DataFrame:
    by_trial_req = dict(tuple(requests.groupby("trial_id", observed=True)))
    by_trial_probe = dict(tuple(probes.groupby("trial_id", observed=True)))
    rows = [
        _trial_row(
            r,
            by_trial_req.get(r.trial.trial_id, requests.iloc[:0]),
            by_trial_probe.get(r.trial.trial_id, probes.iloc[:0]),
        )
        for r in results
    ]
    if not rows:  # no trial finished (a stop before the first): an empty table, its columns kept
        return pd.DataFrame(columns=[c.name for c in columns.trial_columns()])
    frame = pd.DataFrame(rows)
    frame.insert(0, "run_id", run_id)
    frame = frame[columns.ordered(list(frame.columns))]
    for col in ("run_id", "strategy", "status", "bottleneck", "config_id", "workload_id"):
        if col in frame:
            frame[col] = frame[col].astype("category")
    return frame


def _strategy_rank(names: Sequence[str], baseline: str) -> dict[str, int]:
    """The one row order of every table: the suite's strategy order, the baseline first."""
    ordered = [baseline, *[n for n in names if n != baseline]]
    return {n: i for i, n in enumerate(dict.fromkeys(ordered))}


def _plan_from_trials(ok: pd.DataFrame) -> list[tuple[str, str, dict[str, Any]]]:
    """Without the suite (an older run): each measured configuration stands for itself."""
    firsts = ok.drop_duplicates("config_id")
    return [(str(r["strategy"]), str(r["workload_id"]), r.to_dict()) for _, r in firsts.iterrows()]


def _plan_from_suite(suite: Suite) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (
            name,
            w.workload_id,
            {
                "workload": w.label,
                "n_jobs": w.jobs_count(),
                "concurrency": w.concurrency,
                "latency": w.latency,
                "rate": w.rate,
            },
        )
        for name, w in suite.configs()
    ]


def _mode(group: pd.DataFrame, column: str) -> str:
    return str(group[column].astype(str).mode().iloc[0]) if column in group else ""


def _gil(group: pd.DataFrame) -> bool | None:
    """True if the GIL was on in any repeat (then the configuration's numbers are not free
    threading's); None for runs from before the worker said."""
    if "gil_enabled" not in group or group["gil_enabled"].isna().all():
        return None
    return bool(group["gil_enabled"].fillna(True).astype(bool).any())


def summarize(
    trials: pd.DataFrame, baseline: str = "sequential", suite: Suite | None = None
) -> pd.DataFrame:
    """One row per configuration (strategy x workload) over its successful repeats.

    ``speedup`` is the baseline strategy's wall time over this one's, on the same workload;
    the ``baseline`` column names that strategy, so charts and readings never guess it. With
    the ``suite``, a configuration measured once for several workloads (``bench.define.plan``) gets a
    row for each, ``measured_on`` naming the configuration that ran. Rows come workload by
    workload in sweep order (N, then C, then R), strategies in the suite's order, the
    baseline first.
    """

    ok = trials[trials["status"] == "ok"]
    groups = {str(c): g for c, g in ok.groupby("config_id", observed=True, sort=False)}
    if suite is not None:
        plan, source = _plan_from_suite(suite), stands_for(suite.configs())
        names: Sequence[str] = suite.strategies
    else:
        plan, source = _plan_from_trials(ok), {}
        names = list(dict.fromkeys(ok["strategy"].astype(str)))

    def measured(strategy: str, workload_id: str) -> pd.DataFrame | None:
        # its own trials first: a run from before configurations were shared has them
        own = groups.get(f"{strategy}-{workload_id}")
        shared = f"{strategy}-{source.get((strategy, workload_id), workload_id)}"
        return own if own is not None else groups.get(shared)

    rows = []
    for strategy, workload_id, about in plan:
        group = measured(strategy, workload_id)
        if group is None:
            continue
        first = group.iloc[0]
        walls = group["wall_s"].to_numpy()
        lo, hi = stats.log_ci(walls)
        config_id = f"{strategy}-{workload_id}"
        row = {
            "config_id": config_id,
            "workload_id": workload_id,
            "workload": about["workload"],
            "strategy": strategy,
            # what ran, as the worker saw it: "3.13t (GIL re-enabled)" if the GIL came back
            "interpreter": _mode(group, "interpreter"),
            "gil_enabled": _gil(group),
            "n_jobs": about["n_jobs"],
            "concurrency": about["concurrency"],
            "latency": about["latency"],
            "rate": float(about.get("rate", 0.0)),  # open loop's R; 0 in closed loop
            "measured_on": "" if str(first["config_id"]) == config_id else str(first["config_id"]),
            "n": len(walls),
            "wall_median_s": float(np.median(walls)),
            "wall_iqr_s": stats.iqr(walls),
            "wall_gmean_s": stats.gmean(walls),
            "wall_ci_low_s": lo,
            "wall_ci_high_s": hi,
            "wall_cv": stats.cv(walls),
            "stability": stats.stability(walls),
            "efficiency_median": float(group["efficiency"].median()),
            "throughput_median_rps": float(group["throughput_rps"].median()),
            "ideal_s": float(first["ideal_s"]),
            "ideal_io_s": float(first["ideal_io_s"]),
            "ideal_bound": first["ideal_bound"],
            "n_ok_median": float(group["n_ok"].median()),
            "n_not_found_median": float(group["n_not_found"].median()),
            "n_error_median": float(group["n_error"].median()),
            "cpu_user_median_s": float(group["cpu_user_s"].median()),
            "cpu_sys_median_s": float(group["cpu_sys_s"].median()),
            "pool_startup_median_s": float(group["pool_startup_s"].median())
            if "pool_startup_s" in group
            else math.nan,
            "bottleneck": group["bottleneck"].astype(str).mode().iloc[0],
        }
        row["unstable"] = row["stability"] == "unstable"
        row.update(openloop.summary_columns(group))
        base = measured(baseline, workload_id)
        if base is not None:
            ratio, rlo, rhi = stats.ratio_ci(base["wall_s"].to_numpy(), walls)
        else:
            ratio = rlo = rhi = math.nan
        row.update(baseline=baseline, speedup=ratio, speedup_ci_low=rlo, speedup_ci_high=rhi)
        rows.append(row)
    if not rows:  # no trial succeeded: an empty summary, which every reader accepts
        return pd.DataFrame()
    rank = _strategy_rank([*names, *[r["strategy"] for r in rows]], baseline)
    frame = pd.DataFrame(rows).assign(_rank=lambda d: d["strategy"].map(rank))
    frame["_label"] = frame["workload"].map(label_ranks(frame["workload"]))
    # workloads in sweep order (N, then C, then R, then the other axes by number), not in the
    # shuffled order the trials ran
    return (
        frame.sort_values(["n_jobs", "concurrency", "rate", "_label", "_rank"], kind="stable")
        .drop(columns=["_rank", "_label"])
        .reset_index(drop=True)
    )


def collect(
    run_id: str,
    results: Sequence[TrialResult],
    baseline: str = "sequential",
    suite: Suite | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """All tables of a run from its finished (non-warm-up) trials."""
    measured = [r for r in results if not r.trial.warmup]
    requests = requests_frame(run_id, measured)
    probes = probes_frame(run_id, measured)
    trials = trials_frame(run_id, measured, requests, probes)
    summary = summarize(trials, baseline, suite) if len(trials) else pd.DataFrame()
    return {"trials": trials, "requests": requests, "probes": probes}, summary
