"""The numbers of the GIL and blocking experiments, shared by their charts and readings.

Each function turns a run's tables into one small frame, one row per configuration, so a
chart and the sentence under it talk about the same medians. Nothing here draws. A run
without the experiment's data (or written before its columns existed) gives an empty frame,
and the chart is skipped.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.define.sweeps import sweep_params
from bench.define.values import Duration, parse_cpu_work
from bench.present.charts.axes import interpreter_label
from bench.present.charts.data import RunLike, joined, ok_trials, summary
from bench.results import stats

MIN_STALL_S = 0.001  # shorter loop lags are a busy loop, not one blocked by a write
_EXPERIMENT_COLUMNS = (
    "cpu_work",
    "executor",
    "save_delay",
    "background_threads",
    "switch_interval_s",
    "background_cpu_s",
)


def _trials(run: RunLike) -> pd.DataFrame:
    """Successful trials, or nothing when the run predates the experiments' columns."""
    t = ok_trials(run)
    if t.empty or not set(_EXPERIMENT_COLUMNS) <= set(t.columns):
        return t.iloc[0:0]
    return t


def _main_group(
    t: pd.DataFrame,
    varying: tuple[str, ...],
    among: pd.Series | None = None,
) -> pd.DataFrame:
    """The trials of the largest group of workloads that differ in ``varying`` alone, so that
    a run with other sweeps beside still gives one coherent picture."""
    cols = [c for c in (*sweep_params(), "n_jobs", "concurrency") if c not in varying]
    key = joined(t, cols)
    main = key[among if among is not None else slice(None)].mode()
    return t[key == main.iloc[0]] if len(main) else t.iloc[0:0]


def model_names(t: pd.DataFrame) -> pd.Series:
    """A strategy's name, with its executor when the run tries it on more than one."""
    several = t.groupby("strategy")["executor"].nunique()
    return t.apply(
        lambda r: (
            f"{r['strategy']} ({r['executor']})"
            if several.get(r["strategy"], 1) > 1
            else r["strategy"]
        ),
        axis=1,
    )


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN (without NumPy's warning) when the denominator is 0."""
    n, d = float(numerator), float(denominator)
    return n / d if d != 0 and math.isfinite(d) else math.nan


def _cpu(spec: str) -> tuple[str, float]:
    return parse_cpu_work(spec) if spec else ("none", 0.0)


# ---------------------------------------------------------------- the gil suite


def gil_table(run: RunLike) -> pd.DataFrame:
    """Per model, interpreter, CPU kind and cost, and workers C: the speed-up over the
    baseline strategy on the same interpreter and workload (whatever its C) with its 95%
    interval, and the ideal speed-up: the baseline's measured time over the model's ideal, so
    a model at its ideal draws on the line and one below efficiency 1 under it, by
    construction.

    Only the largest group of workloads that differ in CPU work, C, executor and interpreter
    alone is kept, so a run with other sweeps beside gives one coherent picture; every
    interpreter of the run is in it, and a model's name says which when there are several.
    """
    t = _trials(run)
    s = summary(run)
    if t.empty or s.empty:
        return pd.DataFrame()
    baseline = str(s["baseline"].iloc[0])
    varying = ("cpu_work", "executor", "concurrency", "python_requested")
    t = _main_group(t, varying, among=t["strategy"] != baseline)
    if t.empty:
        return pd.DataFrame()
    t = t.assign(interpreter=interpreter_label(t))
    several = t["interpreter"].nunique() > 1
    t = t.assign(model=model_names(t) + ((" on " + t["interpreter"]) if several else ""))
    on_base = t[t["strategy"] == baseline]
    base = on_base.groupby(["interpreter", "cpu_work"])[["wall_s", "ideal_s"]].median()
    base_walls = {
        k: g.to_numpy(float) for k, g in on_base.groupby(["interpreter", "cpu_work"])["wall_s"]
    }
    rows = []
    for (model, python, spec, c), g in t[t["strategy"] != baseline].groupby(
        ["model", "interpreter", "cpu_work", "concurrency"]
    ):
        cpu_work = (python, spec)
        if cpu_work not in base.index:
            continue
        kind, ms = _cpu(spec)
        wall, ideal = float(g["wall_s"].median()), float(g["ideal_s"].median())
        walls = g["wall_s"].to_numpy(float)
        _, lo, hi = stats.ratio_ci(base_walls[cpu_work], walls)
        eff_lo, eff_hi = stats.log_ci(g["efficiency"].dropna().to_numpy(float))
        rows.append(
            {
                "model": model,
                "strategy": g["strategy"].iloc[0],
                "executor": g["executor"].iloc[0],
                "interpreter": python,
                "kind": kind,
                "cpu_ms": ms,
                "concurrency": int(c),
                "wall_s": wall,
                "ideal_s": ideal,
                "speedup": _ratio(base.loc[cpu_work, "wall_s"], wall),
                "speedup_ci_low": lo,
                "speedup_ci_high": hi,
                # a perfect client's speed-up over the baseline as measured: the point lies
                # under it exactly when the model's efficiency (ideal / wall) is at most 1
                "ideal_speedup": _ratio(base.loc[cpu_work, "wall_s"], ideal),
                # efficiency = ideal / wall: at most 1 where the ideal is a bound
                "efficiency": float(g["efficiency"].median()),
                "efficiency_ci_low": eff_lo,
                "efficiency_ci_high": eff_hi,
                # the baseline's own efficiency: the speed-up's ideal assumes it is 1
                "baseline_efficiency": _ratio(
                    base.loc[cpu_work, "ideal_s"], base.loc[cpu_work, "wall_s"]
                ),
                "cpu_cores": int(g["cpu_cores"].median()) if g["cpu_cores"].notna().any() else 0,
                "cpu_limit": str(g["cpu_limit"].mode().iloc[0]),
                "loop_lag_p99_s": float(g["loop_lag_p99_s"].median()),
                "baseline": baseline,
                "cores": g["cores"].max(),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty or out["concurrency"].nunique() < 2 or not (out["cpu_ms"] > 0).any():
        return pd.DataFrame()
    return out


def has_gil_sweep(run: RunLike) -> bool:
    """CPU work of some cost and several C, with the baseline to compare against."""
    return not gil_table(run).empty


# ---------------------------------------------------------------- the blocking suite


def _stuck(stalls: pd.DataFrame, req: pd.DataFrame) -> float:
    """The share of requests in flight when some stall of the loop began: their answers then
    waited unread behind a blocking write."""
    if stalls.empty or req.empty:
        return 0.0
    start = req["t_start_s"].to_numpy(float)[:, None]
    end = req["t_end_s"].to_numpy(float)[:, None]
    began = (stalls["t_s"] - stalls["lag_s"]).to_numpy(float)[None, :]
    return float(((start < began) & (end > began)).any(axis=1).mean())


def blocking_table(run: RunLike) -> pd.DataFrame:
    """Per strategy and write delay (saved files only): median wall and ideal, loop lag p99
    and max, stalls per trial and the share of requests stuck behind them, over every repeat.

    A stall is a loop-lag sample at least one write long (and at least ``MIN_STALL_S``): the
    loop was held by a write, or by several in a row. A request in flight when one began is
    stuck behind it: its answer waits unread. Without a delay no write blocks, and nothing is
    counted (NaN).
    """
    t = _trials(run)
    if t.empty:
        return pd.DataFrame()
    t = t[t["save"].astype(bool)]
    if t["save_delay"].nunique() < 2:
        return pd.DataFrame()
    t = _main_group(t, ("save_delay",))
    probes = run.probes.astype({"trial_id": str, "kind": str})
    lags = probes[probes["kind"] == "loop_lag"]
    req = run.requests.astype({"trial_id": str})
    req = req[req["attempt"] > 0]
    rows = []
    for (strategy, delay), g in t.groupby(["strategy", "save_delay"]):
        ids = set(g["trial_id"])
        mine = lags[lags["trial_id"].isin(ids)]
        if mine.empty:
            continue  # no event loop to stall
        write_s = Duration(delay).seconds
        stalls = mine[mine["lag_s"] >= max(write_s, MIN_STALL_S)]
        stuck = [
            _stuck(stalls[stalls["trial_id"] == tid], req[req["trial_id"] == tid]) for tid in ids
        ]
        rows.append(
            {
                "strategy": strategy,
                "save_delay": delay,
                "save_delay_ms": write_s * 1e3,
                "wall_s": float(g["wall_s"].median()),
                "ideal_s": float(g["ideal_s"].median()),
                "loop_lag_p99_s": float(np.percentile(mine["lag_s"], 99)),
                "loop_lag_max_s": float(mine["lag_s"].max()),
                "stalls_per_trial": len(stalls) / len(ids) if write_s > 0 else np.nan,
                "stuck_share": float(np.mean(stuck)) if write_s > 0 else np.nan,
                "concurrency": int(g["concurrency"].iloc[0]),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty or out["save_delay"].nunique() < 2:
        return pd.DataFrame()
    return out.sort_values(["strategy", "save_delay_ms"], ignore_index=True)


def has_blocking_sweep(run: RunLike) -> bool:
    """Saved files with several write delays, and an event loop to watch."""
    return not blocking_table(run).empty


# ---------------------------------------------------------------- the switch-interval suite


def switch_table(run: RunLike) -> pd.DataFrame:
    """Per background-thread count and applied switch interval: request latency p50 and p99
    (every request of every repeat), heartbeat delay p99 and throughput (medians of the
    repeats), and the share of a core the background threads got."""
    t = _trials(run)
    if t.empty:
        return pd.DataFrame()
    busy = t["background_threads"] > 0
    if t.loc[busy, "switch_interval_s"].nunique() < 2:
        return pd.DataFrame()
    t = _main_group(t, ("background_threads", "switch_interval"), among=busy)
    req = run.requests.astype({"trial_id": str})
    req = req[req["attempt"] > 0]
    rows = []
    for (k, interval), g in t.groupby(["background_threads", "switch_interval_s"]):
        lat = req.loc[req["trial_id"].isin(set(g["trial_id"])), "latency_s"].to_numpy(float)
        rows.append(
            {
                "background_threads": int(k),
                "switch_interval_s": float(interval),
                "latency_p50_s": float(np.percentile(lat, 50)) if len(lat) else np.nan,
                "latency_p99_s": float(np.percentile(lat, 99)) if len(lat) else np.nan,
                "heartbeat_p99_s": float(g["heartbeat_p99_s"].median()),
                "throughput_rps": float(g["throughput_rps"].median()),
                "wall_s": float(g["wall_s"].median()),
                "background_share": float((g["background_cpu_s"] / g["wall_s"]).median()),
                "strategy": str(g["strategy"].mode().iloc[0]),
            }
        )
    return pd.DataFrame(rows).sort_values(
        ["background_threads", "switch_interval_s"], ignore_index=True
    )


def has_switch_sweep(run: RunLike) -> bool:
    """Background CPU threads under several switch intervals."""
    return not switch_table(run).empty
