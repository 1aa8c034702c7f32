"""Charts drawn from the summary and trial tables: wall time per strategy, and scaling."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from bench._chartdata import (
    RunLike,
    Sweep,
    Workload,
    ideal_wall_s,
    ok_trials,
    pick,
    strategies,
    summary,
    sweeps,
    workloads,
)
from bench._chartstyle import (
    DASH,
    IDEAL_COLOUR,
    IDEAL_TEXT,
    TIMES,
    fmt_s,
    new_figure,
    plain_log,
    strategy_colours,
    strategy_order,
    wrap,
)

MAX_WALL_PANELS = 8


# ---------------------------------------------------------------- 1. wall time per strategy


def fig_wall(run: RunLike) -> Figure | None:
    s, t = summary(run), ok_trials(run)
    all_trials = run.trials.astype({"workload_id": str, "strategy": str})
    ws = [w for w in workloads(run) if not s[s["workload_id"] == w.workload_id].empty]
    if s.empty or not ws:
        return None
    shown = pick(ws, MAX_WALL_PANELS)
    colours = strategy_colours(strategies(run))
    heights = [0.9 + 0.42 * s[s["workload_id"] == w.workload_id]["strategy"].nunique()
               for w in shown]
    fig = new_figure(10, 1.1 + sum(heights))
    axes = fig.subplots(len(shown), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, w in zip(axes, shown, strict=False):
        tried = all_trials[all_trials["workload_id"] == w.workload_id]["strategy"]
        _wall_panel(ax, s[s["workload_id"] == w.workload_id], t[t["workload_id"] == w.workload_id],
                    w, colours, set(tried))
    axes[-1].set_xlabel("wall time (s)")
    handles = [
        Patch(facecolor="#999999", label="median wall time"),
        Line2D([], [], color="black", marker="|", markersize=8, lw=1.2, label="95% CI"),
        Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="each repeat"),
        Line2D([], [], color=IDEAL_COLOUR, ls="--", lw=1.5, label=f"ideal {IDEAL_TEXT}"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)
    extra = f" ({len(shown)} of {len(ws)} workloads)" if len(shown) < len(ws) else ""
    versus = ", speed-up vs sequential" if "sequential" in set(s["strategy"]) else ""
    fig.suptitle("Wall time per strategy: median of the repeats" + versus + extra)
    return fig


def _wall_panel(ax, s: pd.DataFrame, t: pd.DataFrame, w: Workload, colours: dict,
                tried: set[str]) -> None:
    present = strategy_order(set(s["strategy"]) | tried)
    xmax = 0.0
    labels = []
    failed = []
    rng = np.random.default_rng(0)
    for i, st in enumerate(present):
        if not (s["strategy"] == st).any():
            failed.append(i)
            continue
        row = s[s["strategy"] == st].iloc[0]
        med = float(row["wall_median_s"])
        lo = float(row.get("wall_ci_low_s", med))
        hi = float(row.get("wall_ci_high_s", med))
        lo, hi = (med if math.isnan(lo) else lo), (med if math.isnan(hi) else hi)
        ax.barh(i, med, height=0.62, color=colours[st], alpha=0.85, zorder=2)
        ax.errorbar(med, i, xerr=[[med - min(lo, med)], [max(hi, med) - med]], fmt="none",
                    ecolor="black", capsize=4, lw=1.2, zorder=3)
        reps = t[t["strategy"] == st]["wall_s"].to_numpy(dtype=float)
        ax.scatter(reps, i + rng.uniform(-0.18, 0.18, len(reps)), s=16, facecolor="white",
                   edgecolor="black", lw=0.8, zorder=4)
        ideal = float(row.get("ideal_s", float("nan")))
        if not math.isnan(ideal):
            ax.plot([ideal, ideal], [i - 0.42, i + 0.42], color=IDEAL_COLOUR, ls="--", lw=1.5,
                    zorder=5)
        right = max([med, hi, ideal if not math.isnan(ideal) else 0, *reps])
        xmax = max(xmax, right)
        labels.append((i, right, med, st, row))
    for i, right, med, st, row in labels:
        ax.text(right + xmax * 0.015, i, _speed_text(st, med, row), va="center", fontsize=9)
    for i in failed:
        ax.text(xmax * 0.015, i, "no successful trial (see the report's warnings)", va="center",
                fontsize=9, color="#C0392B")
    ax.set_yticks(range(len(present)), present)
    ax.set_ylim(len(present) - 0.5, -0.5)
    ax.set_xlim(0, xmax * 1.42 if xmax > 0 else 1)
    ax.grid(axis="y", visible=False)
    ax.set_title(wrap(w.label, 110), loc="left")


def _speed_text(strategy: str, med: float, row: pd.Series) -> str:
    sp = row.get("speedup", float("nan"))
    if strategy == "sequential":
        return f"{fmt_s(med)}  (baseline)"
    if sp is None or pd.isna(sp):
        return fmt_s(med)
    lo, hi = row.get("speedup_ci_low"), row.get("speedup_ci_high")
    ci = f" (CI {lo:.3g}{DASH}{hi:.3g})" if lo is not None and hi is not None and not (
        pd.isna(lo) or pd.isna(hi)) else ""
    return f"{fmt_s(med)}   {float(sp):.3g}{TIMES} speed-up{ci}"


# ---------------------------------------------------------------- 2. scaling


_SERIES_STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), ((0, (6, 2, 1, 2, 1, 2)), "D"))


def fig_scaling(run: RunLike) -> Figure | None:
    found = sweeps(run)
    if not found:
        return None
    s, t = summary(run), ok_trials(run)
    names = strategies(run)
    colours = strategy_colours(names)
    fig = new_figure(5.4 * len(found) + 2.9, 8.4)
    axes = fig.subplots(2, len(found), squeeze=False)
    multi = [sw for sw in found if len(sw.series) > 1]
    for col, sweep in enumerate(found):
        _scaling_column(axes[0, col], axes[1, col], sweep, s, t, names, colours, bool(multi))
    handles = [Line2D([], [], color=colours[n], lw=2, label=n) for n in names]
    for sw in multi:
        name = "N" if sw.other_axis == "n_jobs" else "C"
        for k, ser in enumerate(sw.series):
            ls, marker = _SERIES_STYLES[k]
            handles.append(Line2D([], [], color="#555555", ls=ls, marker=marker,
                                  label=f"{name}={ser.other}"))
    ideal_ls = "-" if multi else "--"
    handles += [
        Line2D([], [], color=IDEAL_COLOUR, ls=ideal_ls, lw=1.1, alpha=0.8,
               label=wrap(f"ideal N / ({IDEAL_TEXT}) (top), ideal wall time (bottom)", 28)),
        Line2D([], [], color="#666666", ls=":", lw=1.5,
               label=wrap("client-CPU ceiling on one core: 1 / CPU per request "
                          "(in the strategy's colour)", 28)),
    ]
    fig.legend(handles=handles, loc="outside right center", ncols=1, frameon=False)
    fig.suptitle("Scaling: throughput and wall time against concurrency and job count")
    return fig


def _scaling_column(ax_tp, ax_w, sweep: Sweep, s: pd.DataFrame, t: pd.DataFrame,
                    names: list[str], colours: dict, styled: bool) -> None:
    """``styled``: some sweep has several series, so ideal lines follow the series' style
    (solid for the first) instead of the plain dashed line."""
    axis = sweep.axis
    multi = len(sweep.series) > 1
    ys_tp: list[float] = []
    ys_w: list[float] = []
    all_x: set[float] = set()
    for k, ser in enumerate(sweep.series):
        ls, marker = _SERIES_STYLES[k] if multi else ("-", "o")
        xval = {w.workload_id: float(getattr(w, axis)) for w in ser.workloads}
        all_x |= set(xval.values())
        sub = s[s["workload_id"].isin(xval)].assign(x=lambda d, xv=xval: d["workload_id"].map(xv))
        for name in names:
            d = sub[sub["strategy"] == name].sort_values("x")
            if d.empty:
                continue
            tp = d["throughput_median_rps"].to_numpy(float)
            ax_tp.plot(d["x"], tp, marker=marker, ls=ls, color=colours[name], lw=1.8, ms=5)
            med = d["wall_median_s"].to_numpy(float)
            lo = d.get("wall_ci_low_s", d["wall_median_s"]).to_numpy(float)
            hi = d.get("wall_ci_high_s", d["wall_median_s"]).to_numpy(float)
            ax_w.errorbar(d["x"], med, yerr=[np.clip(med - lo, 0, None),
                                             np.clip(hi - med, 0, None)],
                          marker=marker, ls=ls, color=colours[name], lw=1.8, ms=5, capsize=3)
            ys_tp.extend(tp)
            ys_w.extend(med)
        xs = np.array([xval[w.workload_id] for w in ser.workloads])
        ideal_w = np.array([ideal_wall_s(w) for w in ser.workloads])
        ideal_tp = np.array([w.n_jobs for w in ser.workloads]) / ideal_w
        ideal_ls = ls if styled else "--"
        ax_tp.plot(xs, ideal_tp, color=IDEAL_COLOUR, ls=ideal_ls, lw=1.1, alpha=0.8)
        ax_w.plot(xs, ideal_w, color=IDEAL_COLOUR, ls=ideal_ls, lw=1.1, alpha=0.8)
        ys_tp.extend(ideal_tp)
        ys_w.extend(ideal_w)
    tsub = t[t["workload_id"].isin({w.workload_id for w in sweep.workloads})]
    for name in names:
        cpr = tsub[tsub["strategy"] == name].get("cpu_per_request_ms")
        if cpr is not None and cpr.notna().any() and cpr.median() > 0:
            ceiling = 1000.0 / float(cpr.median())
            ax_tp.axhline(ceiling, color=colours[name], ls=":", lw=1.4)
            ys_tp.append(ceiling)
    xs_all = np.array(sorted(all_x))
    what = "concurrency C" if axis == "concurrency" else "jobs N"
    for ax, ys in ((ax_tp, ys_tp), (ax_w, ys_w)):
        _log_if_wide(ax, xs_all, "x")
        _log_if_wide(ax, np.array(ys, float), "y")
        ax.set_xticks(xs_all)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel(what + (" (log scale)" if ax.get_xscale() == "log" else ""))
        if ax.get_xscale() == "log" and len(xs_all) > 6:
            ax.tick_params(axis="x", labelrotation=45)
    ax_tp.set_ylabel("throughput (requests/s)")
    ax_w.set_ylabel("wall time (s)")
    ax_tp.set_title(wrap(f"Throughput vs {what} ({sweep.fixed})", 60), loc="left")
    ax_w.set_title(wrap(f"Wall time vs {what} ({sweep.fixed})", 60), loc="left")


def _log_if_wide(ax, values: np.ndarray, which: str) -> None:
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) and v.max() / v.min() >= 8:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        plain_log(ax.xaxis if which == "x" else ax.yaxis)
