"""Data selection shared by the charts and the report's readings.

Both must talk about the same trials (the median-wall repeat, the same workloads), so the
choices live here once rather than in each chart. Everything here reads the run's tables
(summary, trials, requests, probes); nothing draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import SupportsInt

import numpy as np
import pandas as pd

from bench.define.order import label_key
from bench.define.sweeps import sweep_params
from bench.present.charts.style import strategy_order
from bench.results.store import Run as RunLike  # what bench.load returns; charts read only it
from bench.results.store import per_run
from flags_server.latency import parse_latency

SWEEP_AXES = ("concurrency", "n_jobs")
# The workload parameters (trial columns) besides the sweep axes N and C: workloads equal in
# all of them and differing only in N or C form a sweep (see bench.define.workload).
WORKLOAD_PARAMS = sweep_params()


@dataclass(frozen=True)
class Workload:
    workload_id: str
    label: str
    n_jobs: int
    concurrency: int
    latency: str
    ideal_s: float  # a perfect client with C slots on this workload's own draws (IDEAL_NOTE)
    ideal_rps: float  # the requests a trial makes, over ideal_s


@per_run
def ok_trials(run: RunLike) -> pd.DataFrame:
    """Trials that finished, with plain-string ids (categoricals confuse groupby)."""
    t = run.trials
    if t is None or t.empty:
        return pd.DataFrame(columns=["trial_id", "strategy", "workload_id", "wall_s"])
    t = t.astype(
        {col: str for col in ("strategy", "workload_id", "workload", "config_id", "trial_id")}
    )
    return t[t["status"].astype(str) == "ok"]


def summary(run: RunLike) -> pd.DataFrame:
    """The summary with plain-string ids; empty (without columns) when no trial succeeded."""
    s = run.summary if run.summary is not None else pd.DataFrame()
    if s.empty:
        return s.copy()
    return s.astype(
        {col: str for col in ("strategy", "workload_id", "workload", "config_id", "baseline")}
    )


def baseline_of(s: pd.DataFrame) -> str:
    """The strategy speed-ups are measured against (the summary names it; one per run)."""
    return str(s["baseline"].iloc[0])


def row_order(run: RunLike) -> list[str]:
    """The run's strategies in the one order of every table and chart: the summary's (the
    suite's strategy order, the baseline first), then any others in teaching order."""
    s = summary(run)
    listed = list(dict.fromkeys(s["strategy"])) if "strategy" in s else []
    names = list(run.trials["strategy"].astype(str).unique()) if not run.trials.empty else []
    return listed + [n for n in strategy_order(names) if n not in listed]


def strategies(run: RunLike) -> list[str]:
    return row_order(run)


@per_run
def workloads(run: RunLike) -> list[Workload]:
    """Every workload, in the order the summary lists them, except that workloads differing
    only in N and C are put in ascending (N, C) order, so a sweep reads left to right."""
    t = ok_trials(run)
    if t.empty:
        t = run.trials.astype({"workload_id": str})
    first = t.drop_duplicates("workload_id")
    if first.empty:
        return []
    listed = list(dict.fromkeys(summary(run).get("workload_id", pd.Series(dtype=str))))
    listed += [w for w in first["workload_id"] if w not in listed]
    by_id = first.set_index("workload_id")
    # by number, also in a folder whose summary was written in text order (1, 10, 2 ms)
    labels = by_id["workload"].astype(str)
    listed.sort(key=lambda w: label_key(labels[w]) if w in labels.index else ())
    rank = {w: i for i, w in enumerate(listed)}
    group = _param_keys(by_id)
    group_rank = {g: min(rank[w] for w in ids.index) for g, ids in group.groupby(group)}
    order = sorted(
        listed,
        key=lambda w: (
            (
                group_rank[group[w]],
                _size(by_id.loc[w, "n_jobs"]),
                _size(by_id.loc[w, "concurrency"]),
                rank[w],
            )
            if w in by_id.index
            else (len(listed), 0, 0, rank[w])
        ),
    )
    rows = {r.workload_id: r for r in first.itertuples(index=False)}
    out = []
    for wid in order:
        if wid not in rows:
            continue
        r = rows[wid]
        mine = t[t["workload_id"] == wid]
        # with all C slots: a strategy that can use one only (sequential) has a larger ideal
        ideal = float(mine["ideal_s"].min())
        requests = mine["n_requests"]
        per_trial = float(requests.median()) if requests.notna().any() else float(r.n_jobs)
        out.append(
            Workload(
                workload_id=wid,
                label=str(r.workload),
                n_jobs=_size(r.n_jobs),
                concurrency=_size(r.concurrency),
                latency=str(r.latency),
                ideal_s=ideal,
                ideal_rps=per_trial / ideal if ideal > 0 else float("nan"),
            )
        )
    return out


def _size(value: SupportsInt) -> int:
    """N or C; 0 where unknown (a benchmark imported from plain pytest-benchmark has neither)."""
    return 0 if pd.isna(value) else int(value)


def joined(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Per row, the columns' values as one string: rows with equal keys go together. Element by
    element, so a missing value becomes "nan" instead of staying a float."""
    return frame[list(columns)].astype(object).map(str).agg("|".join, axis=1)


def _param_keys(by_id: pd.DataFrame) -> pd.Series:
    """Per workload, its parameters besides N and C as one string: equal keys, one sweep."""
    return joined(by_id, WORKLOAD_PARAMS)


def pick(items: list, limit: int) -> list:
    """At most ``limit`` items spread evenly over the list, first and last kept."""
    if len(items) <= limit:
        return list(items)
    idx = np.unique(np.linspace(0, len(items) - 1, limit).round().astype(int))
    return [items[i] for i in idx]


def main_workloads(run: RunLike, limit: int) -> list[Workload]:
    """The workloads worth a per-trial picture (two or more strategies to compare), in order."""
    t = ok_trials(run)
    ws = workloads(run)
    if not ws:
        return []
    n_strat = t.groupby("workload_id")["strategy"].nunique()
    best = n_strat.max() if len(n_strat) else 0
    chosen = [w for w in ws if n_strat.get(w.workload_id, 0) >= min(2, best)]
    return pick(chosen, limit)


def median_trial(run: RunLike, workload_id: str, strategy: str) -> str | None:
    """The repeat whose wall time is the median (the lower middle one for an even count)."""
    t = ok_trials(run)
    g = t[(t["workload_id"] == workload_id) & (t["strategy"] == strategy)]
    if g.empty:
        return None
    g = g.sort_values("wall_s", kind="stable")
    return str(g.iloc[(len(g) - 1) // 2]["trial_id"])


def requests_of(
    run: RunLike, trial_ids: Iterable[object], *, sent_only: bool = True
) -> pd.DataFrame:
    """The trials' request records. ``sent_only`` drops bookkeeping records (attempt 0: a job
    that ended without a request, such as a lost pool worker), as the collector does for its
    counts and percentiles; the error chart keeps them, as failures the client saw."""
    r = run.requests
    if r is None or r.empty:
        return pd.DataFrame(columns=["trial_id"])
    ids = {str(i) for i in trial_ids}
    key = r["trial_id"].astype(str)
    keep = key.isin(ids)
    if sent_only and "attempt" in r:
        keep &= r["attempt"] > 0
    return r[keep].assign(trial_id=key[keep])


@dataclass(frozen=True)
class Series:
    """Workloads that differ only in the swept axis; ``other`` is the other axis's value."""

    other: int
    workloads: tuple[Workload, ...]  # sorted by the axis value


@dataclass(frozen=True)
class Sweep:
    axis: str  # "concurrency" or "n_jobs"
    series: tuple[Series, ...]  # one per value of the other axis, each with >= 2 points
    fixed: str  # human text for what stayed the same

    @property
    def other_axis(self) -> str:
        return "n_jobs" if self.axis == "concurrency" else "concurrency"

    @property
    def workloads(self) -> tuple[Workload, ...]:
        return tuple(w for s in self.series for w in s.workloads)


MAX_SERIES = 4


def sweeps(run: RunLike) -> list[Sweep]:
    """Per axis, the workloads that differ only in N and C, as series along that axis.

    Among groups with different other parameters (latency, faults, ...), the one with the
    most points wins; a suite sweeping C at N=100 and at N=1000 gives two series.
    """
    t = ok_trials(run)
    if t.empty:
        return []
    by_id = {w.workload_id: w for w in workloads(run)}
    first = t.drop_duplicates("workload_id").set_index("workload_id")
    keys = _param_keys(first)
    out = []
    for axis in SWEEP_AXES:
        other = "n_jobs" if axis == "concurrency" else "concurrency"
        best: list[Series] = []
        for _, ids in keys.groupby(keys):
            group = first.loc[ids.index]
            series = []
            for value, g in group.groupby(other):
                if g[axis].nunique() >= 2:
                    ws = sorted(
                        (by_id[i] for i in g.index if i in by_id), key=lambda w: getattr(w, axis)
                    )
                    series.append(Series(int(value), tuple(ws)))
            if sum(len(x.workloads) for x in series) > sum(len(x.workloads) for x in best):
                best = series
        if best:
            best = pick(sorted(best, key=lambda x: -len(x.workloads))[:MAX_SERIES], MAX_SERIES)
            best.sort(key=lambda x: x.other)
            # the whole workload but the swept axis (and the series' axis, with several):
            # a chart of one sweep names every setting its points share
            ref = best[0].workloads[0]
            drop = {"C" if axis == "concurrency" else "N"}
            if len(best) > 1:
                drop.add("N" if other == "n_jobs" else "C")
            fixed = " ".join(p for p in ref.label.split() if p.split("=", 1)[0] not in drop)
            out.append(Sweep(axis, tuple(best), fixed))
    return out


def error_workload_ids(run: RunLike) -> list[str]:
    """Workloads with failures or injected faults; if none, those with 404s; else nothing."""
    t = ok_trials(run)
    if t.empty:
        return []
    inj = [c for c in t.columns if c.startswith("server_injected_")]
    failed = t["n_error"].fillna(0) + t[inj].fillna(0).sum(axis=1)
    missing = t["n_not_found"].fillna(0)
    for mask in (failed > 0, missing > 0):
        ids = set(t.loc[mask, "workload_id"])
        if ids:
            return [w.workload_id for w in workloads(run) if w.workload_id in ids]
    return []


MIN_FAILED_SHARE = 0.05  # failed attempts and 404s per job that make an errors chart worth it


def has_errors(run: RunLike) -> bool:
    """Whether the run has failures, injected faults or 404s worth a chart: the strategies
    ended differently, the client's counts disagree with the server's, or they are a
    noticeable share of the jobs. One error per trial that every strategy met alike (a
    small injected error rate) is said by the summary table's errors column; a chart of
    identical one-error bars would spend the reader's time on nothing."""
    ids = error_workload_ids(run)
    if not ids:
        return False
    t = ok_trials(run)
    t = t[t["workload_id"].isin(ids)]
    inj = [c for c in t.columns if c.startswith("server_injected_")]
    failed = t["n_error"].fillna(0) + t[inj].fillna(0).sum(axis=1) + t["n_not_found"].fillna(0)
    if (failed / t["n_jobs"].clip(lower=1)).mean() >= MIN_FAILED_SHARE:
        return True
    if "counts_match" in t and t["counts_match"].eq(False).any():
        return True
    outcomes = t.groupby(["workload_id", "strategy"], observed=True)[
        ["n_ok", "n_not_found", "n_error"]
    ].mean()
    return bool((outcomes.groupby(level=0).nunique() > 1).any().any())


def has_sweep(run: RunLike) -> bool:
    """Whether some workloads differ only in N or in C."""
    return bool(sweeps(run))


def has_requests(run: RunLike) -> bool:
    """Whether the run has request records (an imported pytest-benchmark run has none)."""
    return run.requests is not None and not run.requests.empty


def has_probes(run: RunLike) -> bool:
    """Whether the run has probe samples (event-loop lag, thread heartbeats)."""
    return run.probes is not None and not run.probes.empty


def inflight(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step function of requests in flight: ends sort before starts at equal times."""
    times = np.concatenate([starts, ends])
    delta = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((delta, times))
    return times[order], np.cumsum(delta[order])


def configured_percentiles(spec: str, p: np.ndarray) -> np.ndarray | None:
    """The server's own latency percentiles for ``spec`` (its models are inverse CDFs)."""
    try:
        model = parse_latency(spec)
    except ValueError:  # ConfigError; a run stored with a spec this server no longer reads
        return None
    return np.array([model.sample(q / 100) for q in p])
