"""What the charts and readings of the book's other lessons select from a run: the trials of
each consume mode (strategies.consume) and the spinner's ticks.

Trials that name a consume mode and differ in nothing else form a family; the family without
injected faults shows the order results reach the caller, the one with faults what each mode
does on the first error. Both charts and readings take the median-wall repeat of each
(strategy, mode), so the sentences talk about the trials drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.define.values import parse_duration
from bench.present.charts.data import WORKLOAD_PARAMS, RunLike, joined, ok_trials
from bench.present.charts.style import strategy_order
from bench.results.delivery import curves
from flags_server.fault_kinds import RATE_FIELDS

#: The modes in the order the lessons teach them; "" (a strategy's own way) last.
MODE_ORDER = ("map", "as_completed", "gather", "taskgroup", "")
MODE_COLOURS = {
    "map": "#d62728",
    "as_completed": "#1f77b4",
    "gather": "#2ca02c",
    "taskgroup": "#9467bd",
    "": "#7f7f7f",
}
SPINNER_KINDS = (("spinner_loop", "coroutine on the loop"), ("spinner_thread", "thread"))
#: A tick that took this many times its interval or more is a frozen spinner.
FROZEN = 1.5


def mode_label(mode: str) -> str:
    return mode or "own way"


def _family(t: pd.DataFrame) -> pd.Series:
    params = [c for c in WORKLOAD_PARAMS if c in t and c != "consume"]
    return joined(t, [*params, "n_jobs", "concurrency"])


def _faulty(t: pd.DataFrame) -> pd.Series:
    rates = [c for c in RATE_FIELDS if c in t]
    return t[rates].fillna(0).sum(axis=1) > 0 if rates else pd.Series(False, index=t.index)


def consume_trials(run: RunLike, faulty: bool) -> pd.DataFrame:
    """The median-wall trial of each (strategy, mode) of the largest family of consume-mode
    trials with (``faulty``) or without injected faults; empty when no family has two modes."""
    t = ok_trials(run)
    if t.empty or "consume" not in t or "first_result_s" not in t:
        return t.iloc[:0]
    t = t[(t["consume"].astype(str) != "") & (_faulty(t) == faulty)].copy()
    if t.empty:
        return t
    t["family"] = _family(t)
    modes = t.groupby("family")["consume"].nunique()
    modes = modes[modes >= 2]
    if modes.empty:
        return t.iloc[:0]
    sizes = t[t["family"].isin(modes.index)].groupby("family").size()
    t = t[t["family"] == sizes.idxmax()]
    picked = []
    for _, g in t.groupby(["strategy", "consume"], sort=False):
        g = g.sort_values("wall_s", kind="stable")
        picked.append(g.iloc[(len(g) - 1) // 2])
    out = pd.DataFrame(picked)
    order = {n: i for i, n in enumerate(strategy_order(out["strategy"]))}
    rank = {m: i for i, m in enumerate(MODE_ORDER)}
    out["_s"] = out["strategy"].map(order)
    out["_m"] = out["consume"].astype(str).map(rank)
    return out.sort_values(["_s", "_m"]).drop(columns=["_s", "_m"]).reset_index(drop=True)


def has_consume(run: RunLike) -> bool:
    return not consume_trials(run, faulty=False).empty


def has_first_error(run: RunLike) -> bool:
    return not consume_trials(run, faulty=True).empty


def final_requests(run: RunLike, trial_id: str) -> pd.DataFrame:
    """One trial's final records (one per job), bookkeeping included."""
    r = run.requests
    if r is None or r.empty:
        return pd.DataFrame()
    r = r[r["trial_id"].astype(str) == str(trial_id)]
    return r[r["final"]]


@dataclass(frozen=True)
class SpinnerTrial:
    """One trial's spinner ticks, labelled by what the downloads did meanwhile."""

    trial_id: str
    strategy: str
    condition: str  # "inline CPU work python:20ms", "time.sleep 20ms in the save", ...
    interval_s: float
    # kind -> (tick times in s since the timed region began, how long each tick took)
    ticks: dict[str, tuple[np.ndarray, np.ndarray]]
    wall_s: float

    def longest(self, kind: str) -> tuple[float, float]:
        """The longest wait for a tick (its interval plus its lateness) and when it ended;
        NaNs without ticks."""
        times, took = self.ticks.get(kind, (np.array([]), np.array([])))
        if len(took) == 0:
            return float("nan"), float("nan")
        i = int(np.argmax(took))
        return float(took[i]), float(times[i])


def condition(row: pd.Series) -> str:
    """What the downloads did besides waiting for the network, in the book's words."""
    pools = {"thread": "threads", "process": "processes"}
    where = (
        "inline"
        if row["strategy"] != "asyncio_executor"
        else f"run_in_executor ({pools.get(str(row.get('executor')), 'threads')})"
    )
    if row["strategy"] in ("threadpool", "processpool"):
        where = f"in the {row['strategy']}"
    parts = []
    if str(row.get("cpu_work", "")):
        parts.append(f"CPU work {row['cpu_work']} {where}")
    delay = str(row.get("save_delay", "0ms"))
    if bool(row.get("save")) and parse_duration(delay) > 0:
        if str(row.get("save_wait", "block")) == "await":
            parts.append(f"await asyncio.sleep({delay}) per flag")
        else:
            parts.append(f"time.sleep({delay}) per flag {where}")
    return ", ".join(parts) if parts else "network waits only"


def spinner_trials(run: RunLike) -> list[SpinnerTrial]:
    """The median-wall trial of each spinner configuration, in the suite's order."""
    t = ok_trials(run)
    if t.empty or "spinner" not in t or run.probes is None or run.probes.empty:
        return []
    t = t[t["spinner"].astype(str) != ""]
    probes = run.probes.astype({"trial_id": str, "kind": str})
    out = []
    for _, g in t.groupby("config_id", sort=False):
        g = g.sort_values("wall_s", kind="stable")
        row = g.iloc[(len(g) - 1) // 2]
        p = probes[probes["trial_id"] == str(row["trial_id"])]
        interval = parse_duration(str(row["spinner"]))
        ticks = {}
        for kind, _ in SPINNER_KINDS:
            k = p[p["kind"] == kind].sort_values("t_s")
            if len(k):
                took = interval + k["lag_s"].to_numpy(dtype=float)
                ticks[kind] = (k["t_s"].to_numpy(dtype=float), took)
        out.append(
            SpinnerTrial(
                str(row["trial_id"]),
                str(row["strategy"]),
                condition(row),
                interval,
                ticks,
                float(row["wall_s"]),
            )
        )
    order = {n: i for i, n in enumerate(strategy_order(s.strategy for s in out))}
    return sorted(out, key=lambda s: (order.get(s.strategy, 99), s.condition))


def has_spinner(run: RunLike) -> bool:
    return bool(spinner_trials(run))


def curves_of(run: RunLike, trial_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted response and delivery times of one trial (bench.results.delivery)."""
    return curves(final_requests(run, trial_id))
