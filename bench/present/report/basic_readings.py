"""The readings of the main charts (wall, scaling, timeline, latency, probes, errors, ...).

A reader skimming the report should get the point of a chart without decoding it; the
sentences are generated, so they never drift from the data. Each reading is registered under
its chart's kind (``bench.present.charts.registry``) and reads the run's tables through
``bench.present.charts.data``, never the drawing code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench._words import plural
from bench.present.charts.data import (
    RunLike,
    baseline_of,
    configured_percentiles,
    error_workload_ids,
    inflight,
    main_workloads,
    median_trial,
    ok_trials,
    requests_of,
    summary,
    sweeps,
    workloads,
)
from bench.present.charts.drawn import enough_samples, probe_samples, wall_workloads
from bench.present.charts.registry import reads
from bench.present.charts.text import fmt_cores, fmt_pct, fmt_s, fmt_span, fmt_x
from bench.results import stats


def _label(run: RunLike, workload_id: str) -> str:
    return next((w.label for w in workloads(run) if w.workload_id == workload_id), workload_id)


@reads("wall")
def _wall(run: RunLike, _wid: str | None) -> list[str]:
    s = summary(run)
    if s.empty:
        return []
    shown = [w.workload_id for w in wall_workloads(run)]  # the panels the chart draws
    if not shown:
        return []
    s = s[s["workload_id"].isin(shown)]
    wid = shown[0]
    g = s[s["workload_id"] == wid].sort_values("wall_median_s")
    best, worst = g.iloc[0], g.iloc[-1]
    if len(g) == 1:  # nothing to contrast: the one fact
        return _wall_alone(run, s, best, shown)
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
    n_w = len(shown)
    if n_w > 1:
        wins = s.loc[s.groupby("workload_id")["wall_median_s"].idxmin(), "strategy"]
        counts = wins.value_counts()
        second = (
            f"Across the {n_w} workloads drawn the fastest strategy was "
            + ", ".join(f"{name} in {n}" for name, n in counts.items())
            + "."
        )
    else:
        second = _wall_ideal(best)
    return [first + ".", second]


def _wall_ideal(row: pd.Series) -> str:
    eff = row.get("efficiency_median", float("nan"))
    if pd.isna(eff):
        return ""
    share = fmt_pct(row["ideal_s"], row["wall_median_s"])
    reached = f"{share} of it" if share else f"efficiency {eff:.2f}"
    return (
        f"The ideal (a perfect client with C slots, on this workload's own latencies) "
        f"was {fmt_s(row['ideal_s'])}; {row['strategy']} reached {reached}."
    )


def _wall_alone(run: RunLike, s: pd.DataFrame, row: pd.Series, shown: list[str]) -> list[str]:
    """One strategy on the chart's first panel: its time, and no winner among one."""
    first = (
        f"{_label(run, row['workload_id'])}: {row['strategy']} took "
        f"{fmt_s(row['wall_median_s'])} (median)."
    )
    if len(shown) > 1 and s["strategy"].nunique() == 1:
        walls = s.set_index("workload_id")["wall_median_s"]
        lo, hi = walls.idxmin(), walls.idxmax()
        return [
            first,
            f"Over the {len(shown)} workloads drawn its median went from {fmt_s(walls[lo])} "
            f"({_label(run, lo)}) to {fmt_s(walls[hi])} ({_label(run, hi)}).",
        ]
    return [first, _wall_ideal(row)]


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
    if peaks[hi] == peaks[lo]:
        first = (
            f"At most {plural(peaks[hi], 'request')} {'was' if peaks[hi] == 1 else 'were'} "
            f"in flight at once with {_and(list(peaks))} (C={w.concurrency})."
        )
    else:
        first = (
            f"At most {plural(peaks[hi], 'request')} were in flight at once with {hi} "
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
    elif len(pooled) == 1:
        (name, wait), *_ = pooled.items()
        second = f"With {name}, requests waited {fmt_s(wait)} on average for a slot (grey lines)."
    else:
        second = (
            f"Requests waited {fmt_span(pooled, who='with ')} on average for a slot (grey "
            "lines); the repeats cannot tell the concurrent strategies apart on this."
        )
    return [first, second]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


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
    configured = configured_percentiles(w.latency, np.array([50.0]))
    server = (
        f"; the server's configured median is {fmt_s(configured[0])}"
        if configured is not None
        else ""
    )
    first = f"{w.label}: median latency {fmt_span(q['p50'].to_dict())}{server}."
    if len(q) == 1:
        return [first, f"Its p99 was {fmt_s(q['p99'].iloc[0])}."]
    worst = standout(t[t["workload_id"] == w.workload_id], "latency_p99_s")
    if worst is not None:
        return [first, f"The worst tail was {worst}'s: p99 {fmt_s(q.loc[worst, 'p99'])}."]
    return [
        first,
        f"The tails were alike: p99 {fmt_span(q['p99'].to_dict())}, differences the "
        "repeats cannot tell from noise.",
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
    cpu = g["cpu_user_s"] + g["cpu_sys_s"]
    share = cpu / g["wall_s"]  # cores kept busy, as the chart's bars draw it
    busy = {k: (cpu[k], g.loc[k, "wall_s"]) for k in share.index}
    first = (
        f"{ws[0].label}: over its wall time the client kept busy "
        + _busy_span(busy)
        + ("; the rest was waiting on the network." if share.max() < 0.995 else ".")
    )
    if share.max() < 0.5:
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
    if most is None and len(pool) == 1:
        name = pool.index[0]
        return [
            first,
            f"Per request, {name} waited {fmt_s(pool[name])} for a slot and was served in "
            f"{fmt_s(service[name])}, on average.",
        ]
    if most is None:
        served = service[list(pool.index)]
        return [
            first,
            f"Per request, the strategies waited {fmt_span(pool.to_dict())} for a slot and "
            f"were served in {fmt_span(served.to_dict())}, on average.",
        ]
    return [
        first,
        f"Per request, {most} spent {fmt_s(wait[most])} waiting for a slot and "
        f"{fmt_s(service[most])} being served, on average.",
    ]


def _busy_span(busy: dict[str, tuple[float, float]]) -> str:
    """Cores kept busy per strategy (one fact for one strategy, else the two ends)."""
    share = {k: c / w for k, (c, w) in busy.items() if w > 0}
    if len(share) == 1:
        (name, (c, w)), *_ = busy.items()
        return f"{fmt_cores(c, w)} with {name}"
    lo, hi = min(share, key=share.__getitem__), max(share, key=share.__getitem__)
    if fmt_cores(*busy[lo]) == fmt_cores(*busy[hi]):
        return f"{fmt_cores(*busy[hi])} with every strategy"
    return f"{fmt_cores(*busy[hi])} with {hi} and {fmt_cores(*busy[lo])} with {lo}"


@reads("probes")
def _probes(run: RunLike, _wid: str | None) -> list[str]:
    drawn = probe_samples(run)  # the workload and samples the chart draws, no others
    if drawn is None:
        return []
    main, p = drawn
    t = ok_trials(run)
    t = t[t["workload_id"] == main.workload_id]
    out = []
    for kind, what in (("loop_lag", "event-loop lag"), ("heartbeat", "thread heartbeat delay")):
        pk = p[p["kind"] == kind]
        if pk.empty:
            continue
        lags = pk.groupby("strategy")["lag_s"]
        mx = lags.max()
        # the p99 where every strategy has the samples to state it (as the chart draws it)
        tail = "p99" if all(enough_samples(k, 99) for k in lags.count()) else "max"
        top = lags.quantile(0.99) if tail == "p99" else mx
        # per trial, so that one spike in one repeat is not a finding
        per_trial = t[t["strategy"].isin(list(mx.index))]
        worst = standout(per_trial, f"{kind}_{tail}_s")
        best = standout(per_trial, f"{kind}_{tail}_s", highest=False)
        if len(top) == 1:
            text = f"{what.capitalize()} with {top.index[0]}: {tail} {fmt_s(top.iloc[0])}"
            if tail != "max":
                text += f", max {fmt_s(mx.iloc[0])}"
        elif worst is None:
            text = (
                f"{what.capitalize()}: {tail} {fmt_span(top.to_dict())}, too close for the "
                "repeats to single one out"
            )
        else:
            text = f"Worst {what}: {worst}, {tail} {fmt_s(top[worst])}"
            if tail != "max":
                text += f" (max {fmt_s(mx[worst])})"
            if best is not None and best != worst:
                text += f"; best {best}, {tail} {fmt_s(top[best])}"
        out.append(text + ".")
        last_kind = (what, pk)
    if len(out) == 1 and enough_samples(len(last_kind[1]), 50):
        what, pk = last_kind
        out.append(
            f"Half of all {what} samples were under {fmt_s(pk['lag_s'].median())}; "
            "a blocked event loop or a busy GIL shows as the spikes above that."
        )
    if not out:
        return []
    return [f"{main.label}: {out[0]}", *out[1:]]


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
