"""What a chart draws, shared with its reading so the two cannot differ: the wall chart's
panels, the probes chart's workload and samples, and the percentiles a number of samples can
state at all.
"""

from __future__ import annotations

import pandas as pd

from bench.present.charts.data import (
    RunLike,
    Workload,
    main_workloads,
    ok_trials,
    pick,
    summary,
    workloads,
)

MAX_WALL_PANELS = 4  # workloads on the wall chart: its panels fit one screen
SAMPLES_PER_TAIL = 10  # a percentile p needs SAMPLES_PER_TAIL / (1 - p) samples or more


def enough_samples(n: float, percentile: float) -> bool:
    """Whether ``n`` samples can state percentile ``percentile`` (in %): about ten of them
    above it, so a p99 needs 1,000 and a p99.9 10,000; below that it is one or two samples'
    noise, drawn or written as if it were a tail."""
    return n >= SAMPLES_PER_TAIL / (1 - percentile / 100) * (1 - 1e-9)


def top_percentile(n: float, cap: float = 99.9) -> float | None:
    """The highest percentile ``n`` samples can state (at most ``cap``); None below p50."""
    if not enough_samples(n, 50):
        return None
    return min(cap, 100 * (1 - SAMPLES_PER_TAIL / n))


def wall_workloads(run: RunLike) -> list[Workload]:
    """The workloads the wall chart draws, a panel each: those with a summary row."""
    s = summary(run)
    if s.empty:
        return []
    listed = set(s["workload_id"])
    return pick([w for w in workloads(run) if w.workload_id in listed], MAX_WALL_PANELS)


def probe_samples(run: RunLike) -> tuple[Workload, pd.DataFrame] | None:
    """The workload the probes chart draws and its probe samples (successful trials only,
    with their strategy): its reading reads these, never another workload's."""
    t = ok_trials(run)
    if t.empty or run.probes is None or run.probes.empty:
        return None
    p = (
        run.probes.astype({"trial_id": str, "kind": str})
        .merge(t[["trial_id", "workload_id"]], on="trial_id")
        .astype({"strategy": str})
    )
    with_probes = set(p["workload_id"])
    main = next((w for w in main_workloads(run, 50) if w.workload_id in with_probes), None)
    if main is None:
        return None
    return main, p[p["workload_id"] == main.workload_id]
