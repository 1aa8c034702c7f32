"""The readings of the main charts (wall, scaling, timeline, latency, probes, errors, ...).

A reader skimming the report should get the point of a chart without decoding it; the
sentences are generated, so they never drift from the data. Each reading is registered under
its chart's kind (``bench.present.charts.registry``) and reads the run's tables through
``bench.present.charts.data``, never the drawing code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.present.charts.data import (
    RunLike,
    baseline_of,
    client_cpu,
    configured_percentiles,
    error_workload_ids,
    inflight,
    interpreter_grids,
    main_workloads,
    median_trial,
    ok_trials,
    requests_of,
    scale_out,
    summary,
    sweeps,
    workloads,
)
from bench.present.charts.registry import reads
from bench.present.charts.text import DASH, fmt_s, fmt_x
from bench.results import stats


def _label(run: RunLike, workload_id: str) -> str:
    return next((w.label for w in workloads(run) if w.workload_id == workload_id), workload_id)


@reads("wall")
def _wall(run: RunLike, _wid: str | None) -> list[str]:
    s = summary(run)
    if s.empty:
        return []
    shown = [w.workload_id for w in workloads(run) if w.workload_id in set(s["workload_id"])]
    wid = shown[0] if shown else next(iter(s["workload_id"]))  # the chart's first panel
    g = s[s["workload_id"] == wid].sort_values("wall_median_s")
    best, worst = g.iloc[0], g.iloc[-1]
    tied = [str(r["strategy"]) for _, r in g.iloc[1:].iterrows() if _overlap(best, r)]
    if tied:  # naming one winner among runners-up the repeats cannot tell apart would mislead
        names = ", ".join([str(best["strategy"]), *tied[:-1]]) + f" and {tied[-1]}"
        first = (
            f"{_label(run, wid)}: {names} were fastest, their intervals overlapping; "
            f"{best['strategy']} at {fmt_s(best['wall_median_s'])} (median)"
        )
    else:
        first = (
            f"{_label(run, wid)}: {best['strategy']} was fastest at "
            f"{fmt_s(best['wall_median_s'])} (median)"
        )
    baseline = baseline_of(g)
    base = g[g["strategy"] == baseline]
    if not base.empty and best["strategy"] != baseline:
        first += (
            f", {fmt_x(base.iloc[0]['wall_median_s'] / best['wall_median_s'])} faster "
            f"than {baseline} ({fmt_s(base.iloc[0]['wall_median_s'])})"
        )
    clear = not any(_overlap(worst, r) for _, r in g.iloc[:-1].iterrows())
    if worst["strategy"] != best["strategy"] and worst["strategy"] != baseline and clear:
        first += f"; slowest was {worst['strategy']} at {fmt_s(worst['wall_median_s'])}"
    n_w = s["workload_id"].nunique()
    if n_w > 1:
        wins = s.loc[s.groupby("workload_id")["wall_median_s"].idxmin(), "strategy"]
        counts = wins.value_counts()
        second = (
            f"Across the {n_w} workloads the fastest strategy was "
            + ", ".join(f"{name} in {n}" for name, n in counts.items())
            + "."
        )
    else:
        eff = best.get("efficiency_median", float("nan"))
        second = (
            f"The ideal (a perfect client with C slots, on this workload's own latencies) "
            f"was {fmt_s(best['ideal_s'])}; {best['strategy']} reached {eff:.0%} of it."
            if not pd.isna(eff)
            else ""
        )
    return [first + ".", second]


def _overlap(a: pd.Series, b: pd.Series) -> bool:
    """Whether two configurations' 95% intervals overlap; without intervals (one repeat)
    nothing separates them."""
    bounds = [
        float(x)
        for x in (a["wall_ci_low_s"], a["wall_ci_high_s"], b["wall_ci_low_s"], b["wall_ci_high_s"])
    ]
    if any(np.isnan(bounds)):
        return True
    return bool(bounds[2] <= bounds[1] and bounds[0] <= bounds[3])


def standout(t: pd.DataFrame, column: str, highest: bool = True) -> str | None:
    """The strategy whose per-trial ``column`` is highest (or lowest) with its 95% interval
    clear of every other strategy's, or None: a worst or best claim needs separated intervals,
    never one spike or a difference the repeats cannot tell from noise."""
    groups = {str(k): g.dropna().to_numpy(float) for k, g in t.groupby("strategy")[column]}
    if len(groups) < 2:
        return None
    ci = {k: stats.log_ci(v) for k, v in groups.items()}
    med = {k: float(np.median(v)) if len(v) else np.nan for k, v in groups.items()}
    pick = (max if highest else min)(med, key=lambda k: -np.inf if np.isnan(med[k]) else med[k])
    lo, hi = ci[pick]
    for other, (olo, ohi) in ci.items():
        if other == pick:
            continue
        if np.isnan([lo, hi, olo, ohi]).any() or (olo <= hi and lo <= ohi):
            return None
    return pick


@reads("scaling")
def _scaling(run: RunLike, _wid: str | None) -> list[str]:
    s = summary(run)
    lines = []
    for sw in sweeps(run):
        ser = max(sw.series, key=lambda x: len(x.workloads))
        lo_w, hi_w = ser.workloads[0], ser.workloads[-1]
        other = ("N" if sw.axis == "concurrency" else "C") + f"={ser.other}"
        sub = s[s["workload_id"] == hi_w.workload_id].sort_values("throughput_median_rps")
        if sub.empty:
            continue
        top = sub.iloc[-1]
        lo_tp = s[(s["workload_id"] == lo_w.workload_id) & (s["strategy"] == top["strategy"])]
        axis = "C" if sw.axis == "concurrency" else "N"
        start = (
            f"from {_rate(lo_tp.iloc[0]['throughput_median_rps'])} at "
            f"{axis}={getattr(lo_w, sw.axis)} "
            if not lo_tp.empty
            else ""
        )
        ideal = hi_w.ideal_rps
        fixed = sw.fixed if other in sw.fixed else f"{other}, {sw.fixed}"
        lines.append(
            f"Against {axis} ({fixed}): {top['strategy']} went "
            f"{start}to {_rate(top['throughput_median_rps'])} at "
            f"{axis}={getattr(hi_w, sw.axis)}, {top['throughput_median_rps'] / ideal:.0%} "
            f"of the ideal {_rate(ideal)}."
        )
        if len(sub) > 1:
            last = sub.iloc[0]
            lines.append(
                _furthest(run, last, hi_w.workload_id, f"{axis}={getattr(hi_w, sw.axis)}", ideal)
            )
    return lines[::2] + lines[1::2]  # the headline of each sweep first


def _furthest(run: RunLike, row: pd.Series, workload_id: str, where: str, ideal: float) -> str:
    """The strategy furthest from the ideal, and whether its one-core CPU ceiling explains it."""
    text = (
        f"At {where} the furthest from the ideal was {row['strategy']} at "
        f"{_rate(row['throughput_median_rps'])}"
    )
    t = ok_trials(run)
    cpr = t.loc[
        (t["workload_id"] == workload_id) & (t["strategy"] == row["strategy"]), "cpu_per_request_ms"
    ]
    if cpr.notna().any() and cpr.median() > 0:
        text += f"; its one-core client-CPU ceiling is {_rate(1000 / cpr.median())}"
    return text + "."


def _n(value: float, noun: str) -> str:
    """``1 fault``, ``2.5 faults``."""
    return f"{value:.3g} {noun}{'' if abs(float(value) - 1) < 1e-9 else 's'}"


def _rate(rps: float) -> str:
    return f"{rps:,.0f} requests/s" if rps >= 100 else f"{rps:.3g} requests/s"


@reads("timeline")
def _timeline(run: RunLike, wid: str | None) -> list[str]:
    w = next((w for w in workloads(run) if w.workload_id == wid), None) or next(
        iter(main_workloads(run, 1)), None
    )
    if w is None:
        return []
    t = ok_trials(run)
    slots = t.set_index("trial_id")["concurrency_effective"]
    peaks, waits, single = {}, {}, set()
    for st in t.query("workload_id == @w.workload_id")["strategy"].unique():
        tid = median_trial(run, w.workload_id, st)
        r = requests_of(run, [tid])
        if r.empty:
            continue
        _, n = inflight(r["t_start_s"].to_numpy(float), r["t_end_s"].to_numpy(float))
        peaks[st] = int(n.max())
        waits[st] = float((r["t_start_s"] - r["t_queued_s"]).clip(lower=0).mean())
        if slots[tid] <= 1:
            single.add(st)
    if not peaks:
        return []
    hi = max(peaks, key=peaks.__getitem__)
    lo = min(peaks, key=peaks.__getitem__)
    first = (
        f"At most {peaks[hi]} requests were in flight at once with {hi} "
        f"(C={w.concurrency}), {peaks[lo]} with {lo}."
    )
    # one slot only (sequential): every request waits for the whole queue ahead of it
    pooled = {k: v for k, v in waits.items() if k not in single} or waits
    tw = t[(t["workload_id"] == w.workload_id) & t["strategy"].isin(list(pooled))]
    most = standout(tw, "wait_mean_s")
    if most is not None:
        second = (
            f"Among the concurrent strategies, requests waited longest for a slot with "
            f"{most}: {fmt_s(waits[most])} on average between being ready and starting "
            "(grey lines)."
        )
    else:
        second = (
            f"Requests waited {fmt_s(min(pooled.values()))} to {fmt_s(max(pooled.values()))}"
            " on average for a slot (grey lines); the repeats cannot tell the concurrent "
            "strategies apart on this."
        )
    return [first, second]


@reads("latency")
def _latency(run: RunLike, _wid: str | None) -> list[str]:
    t = ok_trials(run)
    ws = workloads(run)
    if t.empty or not ws:
        return []
    w = ws[0]
    r = requests_of(run, t.loc[t["workload_id"] == w.workload_id, "trial_id"])
    if r.empty:
        return []
    r = r.merge(t[["trial_id"]], on="trial_id").astype({"strategy": str})
    q = r.groupby("strategy")["latency_s"].quantile([0.5, 0.99]).unstack()
    q.columns = ["p50", "p99"]
    fast, slow = q["p50"].idxmin(), q["p50"].idxmax()
    configured = configured_percentiles(w.latency, np.array([50.0]))
    server = (
        f"; the server's configured median is {fmt_s(configured[0])}"
        if configured is not None
        else ""
    )
    first = (
        f"{w.label}: median latency ranged from {fmt_s(q.loc[fast, 'p50'])} ({fast}) to "
        f"{fmt_s(q.loc[slow, 'p50'])} ({slow}){server}."
    )
    worst = standout(t[t["workload_id"] == w.workload_id], "latency_p99_s")
    if worst is not None:
        return [first, f"The worst tail was {worst}'s: p99 {fmt_s(q.loc[worst, 'p99'])}."]
    return [
        first,
        f"The tails were alike: p99 from {fmt_s(q['p99'].min())} to "
        f"{fmt_s(q['p99'].max())}, differences the repeats cannot tell from noise.",
    ]


@reads("breakdown")
def _breakdown(run: RunLike, _wid: str | None) -> list[str]:
    t = ok_trials(run)
    if t.empty:
        return []
    t = t[t["cpu_user_s"].notna()]  # as the chart: trials that measured the client's CPU
    ws = [w for w in workloads(run) if (t["workload_id"] == w.workload_id).any()]
    if t.empty or not ws:
        return []
    tw = t[t["workload_id"] == ws[0].workload_id]
    g = tw.groupby("strategy")[["wall_s", "cpu_user_s", "cpu_sys_s"]].median()
    share = (g["cpu_user_s"] + g["cpu_sys_s"]) / g["wall_s"]
    hi, lo = share.idxmax(), share.idxmin()
    first = (
        f"{ws[0].label}: the client was busy on the CPU for {share[hi]:.0%} of the wall "
        f"time with {hi} and {share[lo]:.0%} with {lo}; the rest was waiting on the network."
    )
    if share[hi] < 0.5:
        first += " Latency, not the CPU, sets the pace here."
    r = requests_of(run, t.loc[t["workload_id"] == ws[0].workload_id, "trial_id"])
    if r.empty:
        return [first]
    r = r.merge(t[["trial_id"]], on="trial_id").astype({"strategy": str})
    wait = r.groupby("strategy")["wait_s"].mean()
    service = r.groupby("strategy")["latency_s"].mean()
    single = tw.loc[tw["concurrency_effective"] <= 1, "strategy"].unique()
    concurrent = wait.drop(single, errors="ignore")
    pool = concurrent if len(concurrent) else wait
    most = standout(tw[tw["strategy"].astype(str).isin(list(pool.index))], "wait_mean_s")
    if most is None:
        return [
            first,
            f"Per request, the strategies waited {fmt_s(pool.min())} to "
            f"{fmt_s(pool.max())} for a slot and were served in {fmt_s(service.min())} "
            f"to {fmt_s(service.max())}, on average.",
        ]
    return [
        first,
        f"Per request, {most} spent {fmt_s(wait[most])} waiting for a slot and "
        f"{fmt_s(service[most])} being served, on average.",
    ]


@reads("probes")
def _probes(run: RunLike, _wid: str | None) -> list[str]:
    p = run.probes
    if p is None or p.empty:
        return []
    t = ok_trials(run)
    p = p.astype({"trial_id": str, "kind": str}).merge(t[["trial_id"]], on="trial_id")
    p = p.astype({"strategy": str})
    out = []
    for kind, what in (("loop_lag", "event-loop lag"), ("heartbeat", "thread heartbeat delay")):
        pk = p[p["kind"] == kind]
        if pk.empty:
            continue
        mx = pk.groupby("strategy")["lag_s"].max()
        p99 = pk.groupby("strategy")["lag_s"].quantile(0.99)
        # per trial, so that one spike in one repeat is not a finding
        per_trial = t[t["strategy"].isin(list(mx.index))]
        worst = standout(per_trial, f"{kind}_p99_s")
        best = standout(per_trial, f"{kind}_p99_s", highest=False)
        if worst is None:
            text = (
                f"{what.capitalize()}: p99 from {fmt_s(p99.min())} to {fmt_s(p99.max())} "
                "across strategies, too close for the repeats to single one out"
            )
        else:
            text = f"Worst {what}: {worst}, p99 {fmt_s(p99[worst])} (max {fmt_s(mx[worst])})"
            if best is not None and best != worst:
                text += f"; best {best}, p99 {fmt_s(p99[best])}"
        out.append(text + ".")
        last_kind = (what, pk)
    if len(out) == 1:
        what, pk = last_kind
        out.append(
            f"Half of all {what} samples were under {fmt_s(pk['lag_s'].median())}; "
            "a blocked event loop or a busy GIL shows as the spikes above that."
        )
    return out


@reads("errors")
def _errors(run: RunLike, _wid: str | None) -> list[str]:
    ids = error_workload_ids(run)
    if not ids:
        return []
    t = ok_trials(run)
    g = t[t["workload_id"] == ids[0]]
    per = g.groupby("strategy")[["n_ok", "n_not_found", "n_error"]].mean()
    jobs = per.sum(axis=1)
    worst = per["n_error"].idxmax()
    lo, hi = per["n_error"].min(), per["n_error"].max()
    spread = (
        f"every strategy ended with {_n(hi, 'final error')} per trial"
        if lo == hi
        else f"final errors per trial ranged from {lo:.3g} to {hi:.3g} ({worst})"
    )
    first = (
        f"{_label(run, ids[0])}: {spread}, out of {jobs.max():.0f} jobs; "
        f"{per['n_not_found'].mean():.3g} not found on average."
    )
    inj = [c for c in g.columns if c.startswith("server_injected_")]
    injected = g[inj].fillna(0).sum(axis=1).mean()
    r = requests_of(run, g["trial_id"], sent_only=False)
    failed = (r["outcome"].astype(str) == "error").sum() / max(len(g), 1) if not r.empty else 0
    mismatch = int((~g["counts_match"].astype(bool)).sum())
    second = (
        f"The server injected {_n(injected, 'fault')} per trial; the client saw "
        f"{_n(failed, 'failed attempt')} per trial"
        + (f"; counts disagreed in {mismatch} trial(s)." if mismatch else ".")
    )
    return [first, second]


@reads("interpreters")
def _interpreters(run: RunLike, _wid: str | None) -> list[str]:
    grids = interpreter_grids(run)
    if not grids:
        return []
    gaps = []  # per workload and strategy: slowest interpreter over fastest, with its interval
    for grid in grids:
        for strategy in grid.efficiency.index:
            walls = {
                p: grid.walls[(strategy, p)] for p in grid.pythons if (strategy, p) in grid.walls
            }
            if len(walls) < 2:
                continue
            medians = {p: float(np.median(w)) for p, w in walls.items()}
            fast = min(medians, key=medians.__getitem__)
            slow = max(medians, key=medians.__getitem__)
            ratio, lo, hi = stats.ratio_ci(walls[slow].tolist(), walls[fast].tolist())
            gaps.append((lo > 1, ratio, lo, hi, strategy, fast, slow, grid.label))
    if not gaps:
        return []
    supported = [g for g in gaps if g[0]]
    _, ratio, lo, hi, strategy, fast, slow, label = max(supported or gaps, key=lambda g: g[1])
    if supported:
        first = (
            f"{label}: {strategy} took {fmt_x(ratio)} as long on Python {slow} as on "
            f"{fast} (95% CI {lo:.3g}{DASH}{hi:.3g}), the largest difference between "
            f"interpreters that the repeats support"
        )
        others = len(supported) - 1
        first += (
            f"; {others} other strategy/workload pair(s) differ measurably too."
            if others
            else "; every other difference is within noise."
        )
    elif np.isnan(lo):
        first = (
            f"The largest gap between interpreters was {strategy}'s on {label}, "
            f"{fmt_x(ratio)} between Python {fast} and {slow}, but one repeat gives no "
            f"interval: whether it is more than noise needs more repeats."
        )
    else:
        first = (
            f"No strategy ran measurably faster on one interpreter than on another: the "
            f"largest gap, {strategy} on {label} at {fmt_x(ratio)} between Python {fast} "
            f"and {slow}, is within noise (95% CI {lo:.3g}{DASH}{hi:.3g})."
        )
    cells = pd.concat([g.efficiency.stack().rename("e") for g in grids]).dropna()
    if cells.empty:
        return [first]
    per_python = cells.groupby(level=1).median().sort_values()
    best, worst = cells.idxmax(), cells.idxmin()
    second = (
        "Median efficiency over every strategy and workload: "
        + ", ".join(f"Python {p} {e:.2f}" for p, e in per_python.iloc[::-1].items())
        + f"; highest cell {best[0]} on {best[1]} ({cells.max():.2f}), lowest {worst[0]} on "
        f"{worst[1]} ({cells.min():.2f})."
    )
    return [first, second]


@reads("client_cpu")
def _client_cpu(run: RunLike, _wid: str | None) -> list[str]:
    panels = client_cpu(run)
    if not panels:
        return []
    label, rows = panels[0]
    best, worst = rows.iloc[0], rows.iloc[-1]
    first = (
        f"{label}: the least client CPU per request was {_combo(best)}'s, "
        f"{best['median']:.3g} ms; the most {_combo(worst)}'s, {worst['median']:.3g} ms "
        f"({fmt_x(worst['median'] / best['median'])})."
    )
    gains: list[tuple[float, tuple[str, str]]] = []
    for _, rows in panels:
        on = rows[rows["loop"] == "uvloop"].set_index(["strategy", "client"])["median"]
        off = rows[rows["loop"] == "asyncio"].set_index(["strategy", "client"])["median"]
        both = on.index.intersection(off.index)
        gains.extend((off[k] / on[k], k) for k in both if on[k] > 0)
    if not gains:
        return [first]
    lo, hi = min(gains), max(gains)
    span = (
        f"{fmt_x(lo[0])} ({', '.join(lo[1])})"
        if lo == hi
        else f"from {fmt_x(lo[0])} ({', '.join(lo[1])}) to {fmt_x(hi[0])} ({', '.join(hi[1])})"
    )
    return [
        first,
        f"Client CPU per request on asyncio's own event loop over that on uvloop: {span}.",
    ]


def _combo(row: pd.Series) -> str:
    loop = f" on {row['loop']}" if row["loop"] else ""
    return f"{row['strategy']} with {row['client'] or 'its own client'}{loop}"


@reads("scale_out")
def _scale_out(run: RunLike, _wid: str | None) -> list[str]:
    lines = []
    for label, rows in scale_out(run)[:2]:
        top_c = rows["concurrency"].max()
        at = rows[rows["concurrency"] == top_c].set_index("strategy")["throughput_median_rps"]
        if "asyncio" not in at or len(at) < 2:
            continue
        base = at["asyncio"]
        others = "; ".join(
            f"{name} {_rate(v)} ({fmt_x(v / base)})" for name, v in at.items() if name != "asyncio"
        )
        lines.append(f"{label}, C={top_c}: asyncio reached {_rate(base)}; {others}.")
    return lines
