"""Data selection for the charts and readings across the other axes: interpreters (one
workload under several Pythons), client libraries and event loops, and scaling out over
processes. Like ``data``, it reads the run's tables and draws nothing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.define.pythons import trial_names
from bench.define.workload import FIELDS
from bench.present.charts.data import (
    WORKLOAD_PARAMS,
    RunLike,
    joined,
    ok_trials,
    pick,
    summary,
    workloads,
)
from bench.present.charts.style import strategy_order

# The workload's parameters besides the interpreter: workloads equal in these and differing
# only in ``python`` are one row of the strategy x interpreter comparison.
_NOT_INTERPRETER = tuple(f.column_name for f in FIELDS if f.configures != "interpreter")
MAX_INTERPRETER_PANELS = 4


@dataclass(frozen=True)
class InterpreterGrid:
    """One workload run under several interpreters: per strategy and interpreter, the
    efficiency medians (``efficiency``: strategies x interpreters) and the wall times."""

    label: str  # the workload without its python=...
    efficiency: pd.DataFrame
    walls: dict[tuple[str, str], np.ndarray]

    @property
    def pythons(self) -> list[str]:
        return list(self.efficiency.columns)


def interpreter_label(trials: pd.DataFrame) -> pd.Series:
    """What each trial ran on, as its worker said (``bench.define.pythons.trial_names``)."""
    flags = [
        [d if pd.isna(v) else bool(v) for v in trials.get(c, pd.Series(d, index=trials.index))]
        for c, d in (("free_threaded", False), ("gil_enabled", True))
    ]
    names = trial_names(list(trials["python"].astype(str)), *flags)
    return pd.Series(names, index=trials.index)


def _version_key(label: str) -> tuple:
    m = re.match(r"(\d+(?:\.\d+)*)(.*)", label)
    return (tuple(int(p) for p in m.group(1).split(".")), m.group(2)) if m else ((), label)


def interpreter_grids(run: RunLike) -> list[InterpreterGrid]:
    """The workloads that ran under more than one interpreter, in the run's workload order."""
    t = ok_trials(run)
    if t.empty or "python" not in t:
        return []
    t = t.assign(interpreter=interpreter_label(t))
    keys = joined(t, _NOT_INTERPRETER)
    order = {w.workload_id: i for i, w in enumerate(workloads(run))}
    grids = []
    for _, g in sorted(
        t.groupby(keys), key=lambda kv: min(order.get(w, 0) for w in kv[1]["workload_id"])
    ):
        pythons = sorted(g["interpreter"].unique(), key=_version_key)
        if len(pythons) < 2:
            continue
        eff = g.pivot_table(
            index="strategy",
            columns="interpreter",
            values="efficiency",
            aggfunc="median",
            dropna=False,
        )
        walls = {
            (str(s), str(p)): sub["wall_s"].to_numpy(float)
            for (s, p), sub in g.groupby(["strategy", "interpreter"])
        }
        label = re.sub(r"\s*python=\S+", "", str(g["workload"].iloc[0]))
        grids.append(InterpreterGrid(label, eff.reindex(columns=pythons), walls))
    grids = pick(grids, MAX_INTERPRETER_PANELS)
    # the same rows in every panel, so a strategy reads across them
    rows = strategy_order({s for g in grids for s in g.efficiency.index})
    return [dataclasses.replace(g, efficiency=g.efficiency.reindex(index=rows)) for g in grids]


def has_interpreters(run: RunLike) -> bool:
    """Whether some workload ran under more than one interpreter."""
    return bool(interpreter_grids(run))


# ---------------------------------------------------------------- clients and scale-out

#: The models that answer "asyncio uses one core": one loop, one loop per process, a cluster.
SCALE_OUT = ("asyncio", "multiprocess_asyncio", "dask")
#: What a workload is besides its client library and event loop, N and C.
SETTING_PARAMS = tuple(
    p for p in WORKLOAD_PARAMS if p not in ("client_requested", "loop_requested")
)


def _setting(t: pd.DataFrame) -> pd.Series:
    """Per trial, its workload without the client and loop: equal keys compare clients."""
    keys = ["n_jobs", "concurrency", *SETTING_PARAMS]
    return joined(t, keys)


def client_cpu(run: RunLike) -> list[tuple[str, pd.DataFrame]]:
    """Per workload setting where some strategy ran with more than one client or loop, its
    rows (strategy, client, loop): median client CPU per request in ms and each repeat's,
    lowest first. The setting is named by the label of its first workload."""
    t = ok_trials(run)
    if t.empty or "client" not in t:
        return []
    t = t.assign(setting=_setting(t), client=t["client"].astype(str), loop=t["loop"].astype(str))
    out = []
    for _, g in t.groupby("setting", sort=False):
        combos = g.groupby("strategy")[["client", "loop"]].apply(lambda d: len(d.drop_duplicates()))
        if combos.max() < 2:
            continue
        rows = (
            g.groupby(["strategy", "client", "loop"])["cpu_per_request_ms"]
            .agg(median="median", repeats=list)
            .reset_index()
            .sort_values("median")
        )
        label = _without_client(str(g["workload"].iloc[0]))
        out.append((label, rows.reset_index(drop=True)))
    return out


def _without_client(label: str) -> str:
    return " ".join(p for p in label.split() if not p.startswith(("client=", "loop=")))


def scale_out(run: RunLike) -> list[tuple[str, pd.DataFrame]]:
    """Per workload setting without N and C where two or more of ``SCALE_OUT`` ran: the
    summary rows of those strategies (concurrency, throughput, ideal), by C. When a C was run
    with several N, the largest N stands for it."""
    s, t = summary(run), ok_trials(run)
    if s.empty or t.empty:
        return []
    first = t.drop_duplicates("workload_id").set_index("workload_id")
    key = joined(first, WORKLOAD_PARAMS)
    ideal = {w.workload_id: w.ideal_rps for w in workloads(run)}
    s = s[s["strategy"].isin(SCALE_OUT) & s["workload_id"].isin(key.index)]
    s = s.assign(key=s["workload_id"].map(key), ideal_rps=s["workload_id"].map(ideal))
    out = []
    for _, g in s.groupby("key", sort=False):
        if g["strategy"].nunique() < 2:
            continue
        g = g.sort_values(["concurrency", "n_jobs"]).drop_duplicates(
            ["strategy", "concurrency"], keep="last"
        )
        w = first.loc[g["workload_id"].iloc[0]]
        label = " ".join(
            p
            for p in str(w["workload"]).split()
            if g["concurrency"].nunique() == 1 or not p.startswith(("N=", "C="))
        )
        out.append((label, g.reset_index(drop=True)))
    return sorted(out, key=lambda item: -item[1]["concurrency"].nunique())[:3]


def has_client_axis(run: RunLike) -> bool:
    """Whether some strategy ran on one workload with more than one client or event loop."""
    return bool(client_cpu(run))


def has_scale_out(run: RunLike) -> bool:
    """Whether two of asyncio, multiprocess_asyncio and dask ran on a workload."""
    return bool(scale_out(run))
