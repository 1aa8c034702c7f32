"""Charts drawn from the summary and trial tables: wall time per strategy, and scaling."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from bench.present.charts.data import (
    RunLike,
    Sweep,
    Workload,
    baseline_of,
    has_sweep,
    ok_trials,
    pick,
    strategies,
    summary,
    sweeps,
    workloads,
)
from bench.present.charts.drawn import wall_workloads
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    IDEAL_COLOUR,
    legend_below,
    new_figure,
    plain_log,
    strategy_colours,
    strategy_order,
    wrap,
)
from bench.present.charts.text import DASH, IDEAL_LABEL, TIMES, fmt_s

MAX_WALL_ROWS = 96  # strategies over all panels; beyond, spread evenly, first and last kept
MIN_WALL_ROWS = 6  # strategies per panel, however many panels
IO_IDEAL_COLOUR = "#888888"


# ---------------------------------------------------------------- 1. wall time per strategy


LABEL_GAP_PT = 9  # between a row's last mark and its label
WIDE_RANGE = 5.0  # slowest / fastest above this: log axis, or the fast strategies vanish


@dataclass(frozen=True)
class _WallRow:
    median: float
    ci: tuple[float, float]
    repeats: np.ndarray
    ideal: float
    text: str
    io_ideal: float = math.nan  # the I/O ideal alone, when CPU work or slow writes raise it
    startup: float = math.nan  # median time until the first request started (process start-up)

    @property
    def io_below(self) -> bool:
        return math.isfinite(self.io_ideal) and self.io_ideal < 0.98 * self.ideal

    def values(self) -> list[float]:
        return [
            v
            for v in (self.median, *self.ci, self.ideal, self.io_ideal, *self.repeats)
            if math.isfinite(v) and v > 0
        ]


@chart(kind="wall", title="Wall time per strategy", stem="wall", order=10)
def fig_wall(run: RunLike) -> Figure | None:
    """Median wall time per strategy with CI, repeats, ideal time and speed-up."""
    s, t = summary(run), ok_trials(run)
    if s.empty:  # no trial succeeded
        return None
    all_trials = run.trials.astype({"workload_id": str, "strategy": str})
    ws = [w for w in workloads(run) if not s[s["workload_id"] == w.workload_id].empty]
    shown = wall_workloads(run)
    if not shown:
        return None
    colours = strategy_colours(strategies(run))
    panels = []
    widest = 0
    per_panel = max(MIN_WALL_ROWS, MAX_WALL_ROWS // len(shown))  # a drawing's cost is bounded
    for w in shown:
        tried = set(all_trials.loc[all_trials["workload_id"] == w.workload_id, "strategy"])
        sw = s[s["workload_id"] == w.workload_id]
        names = list(dict.fromkeys(sw["strategy"]))
        names += [n for n in strategy_order(tried) if n not in names]
        widest = max(widest, len(names))
        kept = set(pick(names, per_panel))
        tw = t[(t["workload_id"] == w.workload_id) & t["strategy"].isin(kept)]
        panels.append(_wall_rows(sw[sw["strategy"].isin(kept)], tw, tried & kept))
    dots = any(_wide(rows) for rows in panels)
    heights = [0.9 + 0.42 * len(rows) for rows in panels]
    fig = new_figure(10, 1.1 + sum(heights))
    axes = fig.subplots(len(shown), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, w, rows in zip(axes, shown, panels, strict=True):
        _wall_panel(ax, rows, w, colours, dots)
    axes[-1].set_xlabel("wall time (s)")
    median = (
        Line2D([], [], ls="", marker="o", ms=9, color="#777777", label="median wall time")
        if dots
        else Patch(facecolor="#999999", label="median wall time")
    )
    handles = [
        median,
        Line2D(
            [],
            [],
            color="black",
            marker="|",
            markersize=9,
            lw=1.2,
            label="95% CI of the geometric mean",
        ),
        Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="each repeat"),
        Line2D([], [], color=IDEAL_COLOUR, ls="--", lw=1.5, label=IDEAL_LABEL),
    ]
    if any(r is not None and _shows_startup(r) for rows in panels for _, r in rows):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="#555555",
                hatch="xx",
                label="start-up: until the first request (a process pool starting its processes)",
            )
        )
    if any(r is not None and r.io_below for rows in panels for _, r in rows):
        handles.append(
            Line2D(
                [],
                [],
                color=IO_IDEAL_COLOUR,
                ls=":",
                lw=1.5,
                label="the requests' ideal alone (without the CPU work or writes)",
            )
        )
    legend_below(fig, handles)
    extra = f" ({len(shown)} of {len(ws)} workloads)" if len(shown) < len(ws) else ""
    if widest > per_panel:
        extra += f" ({per_panel} of up to {widest} strategies per workload)"
    baseline = baseline_of(s)
    versus = f", speed-up vs {baseline}" if baseline in set(s["strategy"]) else ""
    fig.suptitle("Wall time per strategy: median of the repeats" + versus + extra)
    return fig


def _wall_rows(
    s: pd.DataFrame, t: pd.DataFrame, tried: set[str]
) -> list[tuple[str, _WallRow | None]]:
    """One row per strategy that ran on the workload; None where no trial succeeded."""
    rows: list[tuple[str, _WallRow | None]] = []
    listed = list(dict.fromkeys(s["strategy"]))  # the summary's order: the suite's, baseline first
    for st in listed + [n for n in strategy_order(tried) if n not in listed]:
        if not (s["strategy"] == st).any():
            rows.append((st, None))
            continue
        row = s[s["strategy"] == st].iloc[0]
        med = float(row["wall_median_s"])
        lo, hi = float(row["wall_ci_low_s"]), float(row["wall_ci_high_s"])
        rows.append(
            (
                st,
                _WallRow(
                    median=med,
                    ci=(med if math.isnan(lo) else lo, med if math.isnan(hi) else hi),
                    repeats=t.loc[t["strategy"] == st, "wall_s"].to_numpy(dtype=float),
                    ideal=float(row["ideal_s"]),
                    text=_speed_text(st, med, row),
                    io_ideal=float(row.get("ideal_io_s", math.nan)),
                    startup=float(row.get("pool_startup_median_s", math.nan)),
                ),
            )
        )
    return rows


STARTUP_SHOWN = 0.05  # of the wall time: a start-up smaller than this is not drawn


def _shows_startup(r: _WallRow) -> bool:
    return math.isfinite(r.startup) and r.startup >= STARTUP_SHOWN * r.median


def _wide(rows: list[tuple[str, _WallRow | None]]) -> bool:
    values = [v for _, r in rows if r is not None for v in r.values()]
    return bool(values) and max(values) / min(values) > WIDE_RANGE


def _wall_panel(
    ax: Axes, rows: list[tuple[str, _WallRow | None]], w: Workload, colours: dict, dots: bool
) -> None:
    """Bars from zero; or dots, when some panel needs a log axis (where bar lengths would lie),
    so that every panel of the figure marks a median the same way."""
    log = _wide(rows)
    values = [v for _, r in rows if r is not None for v in r.values()] or [1.0]
    lo_x, hi_x = min(values), max(values)
    left = lo_x / 1.5 if log else 0.0
    right = _room_for_labels(
        ax, [(max(r.values()), r.text) for _, r in rows if r is not None], left, hi_x, log
    )
    if log:
        ax.set_xscale("log")
        plain_log(ax.xaxis)
    rng = np.random.default_rng(0)
    for i, (name, r) in enumerate(rows):
        if r is None:
            ax.text(
                left * 1.05 if log else hi_x * 0.015,
                i,
                "no successful trial (see the report's warnings)",
                va="center",
                fontsize=9,
                color="#C0392B",
            )
            continue
        colour = colours[name]
        if dots:
            ax.plot(r.median, i, ls="", marker="o", ms=10, color=colour, zorder=2)
        else:
            ax.barh(i, r.median, height=0.62, color=colour, alpha=0.85, zorder=2)
        if _shows_startup(r):  # the part of the wall time spent before the first request
            ax.barh(
                i,
                r.startup - (left if log else 0.0),
                left=left if log else 0.0,
                height=0.62,
                facecolor="white",
                edgecolor=colour,
                hatch="xx",
                lw=0.8,
                alpha=0.9,
                zorder=2.5,
            )
        ax.plot(r.ci, (i, i), color="black", lw=1.2, marker="|", ms=9, mew=1.2, zorder=3)
        ax.scatter(
            r.repeats,
            i + rng.uniform(-0.18, 0.18, len(r.repeats)),
            s=16,
            facecolor="white",
            edgecolor="black",
            lw=0.8,
            zorder=4,
        )
        if math.isfinite(r.ideal):
            ax.plot(
                [r.ideal, r.ideal],
                [i - 0.42, i + 0.42],
                color=IDEAL_COLOUR,
                ls="--",
                lw=1.5,
                zorder=5,
            )
        if r.io_below:
            ax.plot(
                [r.io_ideal, r.io_ideal],
                [i - 0.3, i + 0.3],
                color=IO_IDEAL_COLOUR,
                ls=":",
                lw=1.5,
                zorder=5,
            )
        end = max(r.values())
        ax.annotate(
            r.text,
            (end, i),
            xytext=(LABEL_GAP_PT, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(left, right)
    ax.set_yticks(range(len(rows)), [name for name, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title(wrap(w.label + ("  (log scale)" if log else ""), 110), loc="left")


def _room_for_labels(
    ax: Axes, ends: list[tuple[float, str]], left: float, hi_x: float, log: bool
) -> float:
    """The right end of the axis so that each row's label fits after its last mark."""
    assert isinstance(ax.figure, Figure)  # a chart's axes are on a Figure, never a SubFigure
    fig_w, _ = ax.figure.get_size_inches()
    axis_px = 0.8 * fig_w * ax.figure.dpi
    pt = ax.figure.dpi / 72
    pos = (lambda v: math.log(v / left)) if log else (lambda v: v)
    need = pos(hi_x) * 1.05
    for end, text in ends:  # a 9 pt character is about 0.56 em wide
        share = min(0.6, (LABEL_GAP_PT + 0.56 * 9 * len(text)) * pt / axis_px)
        need = max(need, pos(end) / (0.98 - share))
    return left * math.exp(need) if log else need


def _speed_text(strategy: str, med: float, row: pd.Series) -> str:
    sp = row["speedup"]
    if strategy == row["baseline"]:
        return f"{fmt_s(med)}  (baseline)"
    if pd.isna(sp):
        return fmt_s(med)
    lo, hi = row["speedup_ci_low"], row["speedup_ci_high"]
    ci = f" (CI {lo:.3g}{DASH}{hi:.3g})" if not (pd.isna(lo) or pd.isna(hi)) else ""
    return f"{fmt_s(med)}   {float(sp):.3g}{TIMES} speed-up{ci}"


# ---------------------------------------------------------------- 2. scaling


_SERIES_STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), ((0, (6, 2, 1, 2, 1, 2)), "D"))


@chart(
    kind="scaling",
    title="Scaling with concurrency and job count",
    stem="scaling",
    order=20,
    when=has_sweep,
)
def fig_scaling(run: RunLike) -> Figure:
    """Throughput and wall time vs concurrency and vs N, with ideal and CPU ceilings."""
    found = sweeps(run)
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
            handles.append(
                Line2D([], [], color="#555555", ls=ls, marker=marker, label=f"{name}={ser.other}")
            )
    ideal_ls = "-" if multi else "--"
    handles += [
        Line2D(
            [],
            [],
            color=IDEAL_COLOUR,
            ls=ideal_ls,
            lw=1.1,
            alpha=0.8,
            label=wrap(f"{IDEAL_LABEL}: its throughput (top) and wall time (bottom)", 28),
        ),
        Line2D(
            [],
            [],
            color="#666666",
            ls=":",
            lw=1.5,
            label=wrap(
                "client-CPU ceiling on one core: 1 / CPU per request (in the strategy's colour)", 28
            ),
        ),
    ]
    fig.legend(handles=handles, loc="outside right center", ncols=1, frameon=False)
    fig.suptitle("Scaling: throughput and wall time against concurrency and job count")
    return fig


def _scaling_column(
    ax_tp: Axes,
    ax_w: Axes,
    sweep: Sweep,
    s: pd.DataFrame,
    t: pd.DataFrame,
    names: list[str],
    colours: dict,
    styled: bool,
) -> None:
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
            lo = d["wall_ci_low_s"].to_numpy(float)
            hi = d["wall_ci_high_s"].to_numpy(float)
            ax_w.errorbar(
                d["x"],
                med,
                yerr=[np.clip(med - lo, 0, None), np.clip(hi - med, 0, None)],
                marker=marker,
                ls=ls,
                color=colours[name],
                lw=1.8,
                ms=5,
                capsize=3,
            )
            ys_tp.extend(tp)
            ys_w.extend(med)
        xs = np.array([xval[w.workload_id] for w in ser.workloads])
        ideal_w = np.array([w.ideal_s for w in ser.workloads])
        ideal_tp = np.array([w.ideal_rps for w in ser.workloads])
        ideal_ls = ls if styled else "--"
        ax_tp.plot(xs, ideal_tp, color=IDEAL_COLOUR, ls=ideal_ls, lw=1.1, alpha=0.8)
        ax_w.plot(xs, ideal_w, color=IDEAL_COLOUR, ls=ideal_ls, lw=1.1, alpha=0.8)
        ys_tp.extend(ideal_tp)
        ys_w.extend(ideal_w)
    tsub = t[t["workload_id"].isin({w.workload_id for w in sweep.workloads})]
    for name in names:
        cpr = tsub.loc[tsub["strategy"] == name, "cpu_per_request_ms"]
        if cpr.notna().any() and cpr.median() > 0:
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


def _log_if_wide(ax: Axes, values: np.ndarray, which: str) -> None:
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) and v.max() / v.min() >= 8:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        plain_log(ax.xaxis if which == "x" else ax.yaxis)
