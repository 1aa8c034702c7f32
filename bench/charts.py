"""Charts of a stored run, drawn from its tables alone so any old run can be re-drawn.

Each chart is one function ``chart_<name>(run, out_dir) -> list[Path]`` writing PNG and SVG;
it returns ``[]`` (and writes nothing) when the run lacks the data, so a run without a sweep
or without probes gets no empty picture. ``render_all`` draws them all; ``render`` gives the
report what it needs to caption them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from bench import _charts_faults, _charts_trial
from bench._chart_compare import compare_chart, comparison_from_summaries
from bench._chartdata import (
    RunLike,
    Sweep,
    Workload,
    ideal_wall_s,
    main_workloads,
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
    save_figure,
    slug,
    strategy_colours,
    strategy_order,
    style,
    wrap,
)

__all__ = [
    "Rendered",
    "chart_errors",
    "chart_latency",
    "chart_probes",
    "chart_scaling",
    "chart_time_breakdown",
    "chart_timeline",
    "chart_wall",
    "compare_chart",
    "comparison_from_summaries",
    "render",
    "render_all",
]

MAX_WALL_PANELS = 8
MAX_TIMELINES = 3


@dataclass(frozen=True)
class Rendered:
    """One chart as written: its kind (for the report's reading), title and files."""

    kind: str
    title: str
    paths: tuple[Path, ...]
    workload_id: str | None = None

    def path(self, fmt: str) -> Path:
        return next(p for p in self.paths if p.suffix == f".{fmt}")


def _emit(kind: str, title: str, fig: Figure | None, out_dir: Path, stem: str,
          workload_id: str | None = None) -> list[Rendered]:
    if fig is None:
        return []
    with style():
        paths = save_figure(fig, Path(out_dir), stem)
    return [Rendered(kind, title, tuple(paths), workload_id)]


# ---------------------------------------------------------------- 1. wall time per strategy


def _fig_wall(run: RunLike) -> Figure | None:
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


def chart_wall(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 1: median wall time per strategy with CI, repeats, ideal time and speed-up."""
    return _paths(_render_wall(run, out_dir))


def _render_wall(run: RunLike, out_dir: Path) -> list[Rendered]:
    with style():
        fig = _fig_wall(run)
    return _emit("wall", "Wall time per strategy", fig, out_dir, "wall")


# ---------------------------------------------------------------- 2. scaling


_SERIES_STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), ((0, (6, 2, 1, 2, 1, 2)), "D"))


def _fig_scaling(run: RunLike) -> Figure | None:
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


def chart_scaling(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 2: throughput and wall time vs concurrency and vs N, with ideal and CPU ceilings."""
    return _paths(_render_scaling(run, out_dir))


def _render_scaling(run: RunLike, out_dir: Path) -> list[Rendered]:
    with style():
        fig = _fig_scaling(run)
    return _emit("scaling", "Scaling with concurrency and job count", fig, out_dir, "scaling")


# ---------------------------------------------------------------- 3-7 (drawn in helper modules)


def _render_timeline(run: RunLike, out_dir: Path) -> list[Rendered]:
    out: list[Rendered] = []
    chosen = main_workloads(run, MAX_TIMELINES)
    for k, w in enumerate(chosen):
        with style():
            fig = _charts_trial.fig_timeline(run, w)
        stem = "timeline" if len(chosen) == 1 else f"timeline-{k + 1}-{slug(w.workload_id)}"
        out += _emit("timeline", f"Timeline of one trial per strategy: {w.label}", fig, out_dir,
                     stem, w.workload_id)
    return out


def _simple(kind: str, title: str, stem: str, draw: Callable[[RunLike], Figure | None]):
    def renderer(run: RunLike, out_dir: Path) -> list[Rendered]:
        with style():
            fig = draw(run)
        return _emit(kind, title, fig, out_dir, stem)

    return renderer


_render_latency = _simple("latency", "Latency distribution", "latency",
                          _charts_trial.fig_latency)
_render_breakdown = _simple("breakdown", "Where the time goes", "where-time-goes",
                            _charts_trial.fig_breakdown)
_render_probes = _simple("probes", "Event-loop lag and thread heartbeat delay", "probes",
                         _charts_faults.fig_probes)
_render_errors = _simple("errors", "Outcomes and errors against injected faults", "errors",
                         _charts_faults.fig_errors)


def chart_timeline(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 3: each request of the median-wall trial per strategy, with in-flight count."""
    return _paths(_render_timeline(run, out_dir))


def chart_latency(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 4: latency percentiles (p50..p99.9) per strategy with the configured latency."""
    return _paths(_render_latency(run, out_dir))


def chart_time_breakdown(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 5: wall vs client CPU (user, system), and per-request wait vs service time."""
    return _paths(_render_breakdown(run, out_dir))


def chart_probes(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 6: event-loop lag and thread heartbeat delay per strategy."""
    return _paths(_render_probes(run, out_dir))


def chart_errors(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 7: outcomes and error kinds per strategy against the server's injected faults."""
    return _paths(_render_errors(run, out_dir))


_RENDERERS = (
    _render_wall, _render_scaling, _render_timeline, _render_latency, _render_breakdown,
    _render_probes, _render_errors,
)


def render(run: RunLike, out_dir: Path | None = None) -> list[Rendered]:
    """Every chart the run has data for, in reading order (default folder: ``run.path/charts``)."""
    out = Path(out_dir) if out_dir is not None else Path(run.path) / "charts"
    rendered: list[Rendered] = []
    for fn in _RENDERERS:
        rendered += fn(run, out)
    _remove_stale(out, {p for r in rendered for p in r.paths})
    return rendered


_OWN_STEM = re.compile(r"(wall|scaling|timeline(-\d+-.+)?|latency|where-time-goes|probes|errors)")


def _remove_stale(out: Path, keep: set[Path]) -> None:
    """Drop our charts from an earlier drawing that this one did not make (now skipped or
    renamed), so the folder matches the report. Other files are left alone."""
    if not out.is_dir():
        return
    for p in out.iterdir():
        if p.suffix in (".png", ".svg") and _OWN_STEM.fullmatch(p.stem) and p not in keep:
            p.unlink(missing_ok=True)


def render_all(run: RunLike, out_dir: Path | None = None) -> list[Path]:
    """Write every chart the run has data for as PNG and SVG; return the files written."""
    return _paths(render(run, out_dir))


def _paths(items: list[Rendered]) -> list[Path]:
    return [p for r in items for p in r.paths]
