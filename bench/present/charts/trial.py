"""Charts drawn from the per-request records: timeline, latency percentiles, time breakdown."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from numpy.typing import ArrayLike

from bench.present.charts.data import (
    RunLike,
    Workload,
    configured_percentiles,
    has_requests,
    inflight,
    main_workloads,
    median_trial,
    ok_trials,
    pick,
    requests_of,
    strategies,
    workloads,
)
from bench.present.charts.drawn import top_percentile
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    IDEAL_COLOUR,
    OUTCOME_COLOURS,
    WAIT_COLOUR,
    legend_below,
    new_figure,
    plain_log,
    strategy_colours,
    wrap,
)
from bench.present.charts.text import fmt_cores, fmt_s

MAX_TIMELINES = 3  # workloads that get a timeline of their own
MAX_ROWS = 300  # request rows drawn per timeline panel; beyond this every k-th is drawn
MAX_LATENCY_PANELS = 6
MAX_BREAKDOWN_ROWS = 4
CUT_RATIO = 4.0  # a per-request bar this many times the next longest is cut at the edge
WAIT_FILL = "#F2F2F2"
OFF_CPU = "#E6E6E6"

OUTCOME_LABELS = {
    "ok": "ok",
    "not_found": "not found (404)",
    "error": "error (final)",
    "retried": "failed attempt, retried",
}
# Attempts that failed but were retried are not the job's outcome: a lighter red.
BAR_COLOURS = {**OUTCOME_COLOURS, "retried": "#EFA39A"}


# ---------------------------------------------------------------- 3. timeline


def _timeline_workloads(run: RunLike) -> list[Workload]:
    return main_workloads(run, MAX_TIMELINES)


@chart(
    kind="timeline",
    title="Timeline of one trial per strategy",
    stem="timeline",
    order=30,
    when=has_requests,
    per_workload=_timeline_workloads,
)
def fig_timeline(run: RunLike, w: Workload) -> Figure | None:
    """Each request of the median-wall trial per strategy, with the in-flight count."""
    trials = ok_trials(run).set_index("trial_id")
    panels = []
    for st in strategies(run):
        tid = median_trial(run, w.workload_id, st)
        if tid is None:
            continue
        r = requests_of(run, [tid])
        if not r.empty:
            panels.append((st, tid, r))
    if not panels:
        return None
    colours = strategy_colours(strategies(run))
    fig = new_figure(11, 1.3 + 2.35 * len(panels))
    gs = fig.add_gridspec(2 * len(panels), 1, height_ratios=[3, 1.15] * len(panels))
    seen_outcomes: set[str] = set()
    any_wait = any_ideal = False
    for i, (st, tid, r) in enumerate(panels):
        ax = fig.add_subplot(gs[2 * i])
        axf = fig.add_subplot(gs[2 * i + 1], sharex=ax)
        trial = trials.loc[tid]
        wall = float(trial["wall_s"])
        seen, waited = _request_bars(ax, r)
        seen_outcomes |= seen
        any_wait |= waited
        _inflight_panel(axf, r, int(trial["concurrency_effective"]), colours[st])
        ideal = float(trial["ideal_s"])
        if math.isfinite(ideal):
            any_ideal = True
            ax.axvline(ideal, color=IDEAL_COLOUR, ls=":", lw=1.3)
        xmax = max(wall, float(r["t_end_s"].max()), ideal if math.isfinite(ideal) else 0)
        ax.set_xlim(0, xmax * 1.01)
        ax.tick_params(labelbottom=False)
        ideal_text = f", ideal {fmt_s(ideal)}" if math.isfinite(ideal) else ""
        ax.set_title(
            f"{st}: wall {fmt_s(wall)}{ideal_text}, {len(r)} requests",
            loc="left",
            color=colours[st],
            fontweight="bold",
        )
        axf.set_xlabel("time since the trial's timed start (s)" if i == len(panels) - 1 else "")
    handles: list[Artist] = [
        Patch(color=BAR_COLOURS[o], label=OUTCOME_LABELS[o])
        for o in BAR_COLOURS
        if o in seen_outcomes
    ]
    if any_wait:
        handles.append(
            Line2D([], [], color=WAIT_COLOUR, lw=2, label="waiting for a pool slot / semaphore")
        )
    if any_ideal:
        handles.append(
            Line2D(
                [],
                [],
                color=IDEAL_COLOUR,
                ls=":",
                lw=1.3,
                label="ideal finish (a perfect client with C slots)",
            )
        )
    handles += [
        Patch(color="#888888", alpha=0.45, label="requests in flight"),
        Line2D([], [], color=IDEAL_COLOUR, ls="--", label="concurrency the strategy can use"),
    ]
    legend_below(fig, handles)
    fig.suptitle(
        wrap(
            "Timeline of the median-wall trial per strategy (each strategy on its own "
            f"time scale): {w.label}",
            100,
        )
    )
    return fig


def _request_bars(ax: Axes, r: pd.DataFrame) -> tuple[set[str], bool]:
    r = r.sort_values(["t_start_s", "t_end_s"], kind="stable")
    step = max(1, math.ceil(len(r) / MAX_ROWS))
    shown = r.iloc[::step]
    n = len(shown)
    y = np.arange(n)
    assert isinstance(ax.figure, Figure)  # a chart's axes are on a Figure, never a SubFigure
    height_pt = ax.get_position().height * ax.figure.get_figheight() * 72
    lw = float(np.clip(0.75 * height_pt / max(n, 1), 0.5, 6.0))
    start = shown["t_start_s"].to_numpy(float)
    end = shown["t_end_s"].to_numpy(float)
    queued = shown["t_queued_s"].to_numpy(float)
    waits = (start - queued) > 1e-4
    if waits.any():
        ax.hlines(
            y[waits],
            queued[waits],
            start[waits],
            color=WAIT_COLOUR,
            lw=max(0.3, lw * 0.35),
            alpha=0.7 if n > 60 else 1.0,
        )
    outcomes = np.where(
        shown["final"].to_numpy(bool), shown["outcome"].astype(str).to_numpy(), "retried"
    )
    for outcome, colour in BAR_COLOURS.items():
        m = outcomes == outcome
        if m.any():
            # dense rows drawn without anti-aliasing: blended sub-pixel edges made moire stripes
            ax.hlines(y[m], start[m], end[m], color=colour, lw=lw, antialiased=n <= 60)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_ylabel("request #\n(by start)" if step == 1 else f"request #\n(1 in {step})")
    ax.grid(axis="y", visible=False)
    return set(outcomes), bool(waits.any())


def _inflight_panel(ax: Axes, r: pd.DataFrame, concurrency: int, colour: str) -> None:
    t, n = inflight(r["t_start_s"].to_numpy(float), r["t_end_s"].to_numpy(float))
    t = np.concatenate([[0.0], t])
    n = np.concatenate([[0.0], n])
    ax.fill_between(t, n, step="post", color="#888888", alpha=0.45, lw=0)
    ax.step(t, n, where="post", color=colour, lw=1.2)
    peak = float(n.max()) if len(n) else 0.0
    if concurrency > 1:
        ax.axhline(concurrency, color=IDEAL_COLOUR, ls="--", lw=1)
    ax.set_ylim(0, max(peak, concurrency, 1) * 1.25)
    ax.set_ylabel(f"in flight\n(peak {peak:.0f})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


# ---------------------------------------------------------------- 4. latency percentiles

_TICK_P = (50, 75, 90, 95, 99, 99.9)


def _tail_x(p: ArrayLike) -> np.ndarray:
    """Percentile -> position on a scale that gives p90, p99, p99.9 equal room."""
    return -np.log10(1 - np.asarray(p, float) / 100)


@chart(kind="latency", title="Latency distribution", stem="latency", order=40, when=has_requests)
def fig_latency(run: RunLike) -> Figure | None:
    """Latency percentiles (p50 to p99.9) per strategy with the configured latency."""
    t = ok_trials(run)
    req = requests_of(run, t["trial_id"]) if not t.empty else pd.DataFrame()
    if req.empty:
        return None
    req = req.merge(t[["trial_id", "workload_id"]], on="trial_id").astype({"strategy": str})
    ws = [w for w in workloads(run) if (req["workload_id"] == w.workload_id).any()]
    shown = pick(ws, MAX_LATENCY_PANELS)
    if not shown:
        return None
    names = strategies(run)
    colours = strategy_colours(names)
    ncols = 1 if len(shown) == 1 else 2
    nrows = math.ceil(len(shown) / ncols)
    fig = new_figure(10 if ncols == 1 else 12, 1.4 + 3.6 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    drawn: set[str] = set()
    for ax, w in zip(axes, shown, strict=False):
        drawn |= _latency_panel(ax, req[req["workload_id"] == w.workload_id], w, names, colours)
    if not drawn:
        return None
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=colours[n], lw=2, label=n) for n in names if n in drawn]
    handles.append(
        Line2D(
            [],
            [],
            color=IDEAL_COLOUR,
            ls="--",
            label="configured latency (the server's distribution)",
        )
    )
    legend_below(fig, handles)
    extra = f" ({len(shown)} of {len(ws)} workloads)" if len(shown) < len(ws) else ""
    fig.suptitle(
        "Latency per request (every attempt, all repeats): each percentile p drawn where "
        "10 / (1 - p) samples or more state it" + extra
    )
    return fig


def _latency_panel(
    ax: Axes, req: pd.DataFrame, w: Workload, names: list[str], colours: dict[str, str]
) -> set[str]:
    drawn = set()
    top_p = 50.0
    for st in names:
        lat = req.loc[req["strategy"] == st, "latency_s"].dropna().to_numpy(float)
        pmax = top_percentile(len(lat))  # only the percentiles its samples can state
        if pmax is None:
            continue
        p = 100 - np.logspace(np.log10(50), np.log10(100 - pmax), 80)
        ax.plot(_tail_x(p), np.percentile(lat, p) * 1e3, color=colours[st], lw=2)
        top_p = max(top_p, pmax)
        drawn.add(st)
    p = 100 - np.logspace(np.log10(50), np.log10(100 - top_p), 80)
    configured = configured_percentiles(w.latency, p)
    if configured is not None:
        ax.plot(_tail_x(p), configured * 1e3, color=IDEAL_COLOUR, ls="--", lw=1.3)
    ticks = [p for p in _TICK_P if p <= top_p + 1e-9]
    if top_p - ticks[-1] > 1:  # the deepest percentile drawn, named where the line ends
        ticks.append(math.floor(top_p * 10) / 10)  # rounded down: never past what is stated
    ax.set_xticks(_tail_x(ticks), [f"p{p:g}" for p in ticks])
    ax.set_xlim(_tail_x([50])[0] - 0.05, _tail_x([top_p])[0] + 0.05)
    lines = [ln.get_ydata() for ln in ax.get_lines()]
    ys = np.concatenate([np.asarray(v, float) for v in lines]) if lines else np.array([])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if len(ys) and ys.max() / ys.min() > 20:
        ax.set_yscale("log")
        plain_log(ax.yaxis)
    else:  # from zero: a 1 ms gap over a 20 ms latency must not look like a doubling
        ax.set_ylim(bottom=0)
    ax.set_ylabel("latency (ms)" + (", log scale" if ax.get_yscale() == "log" else ""))
    ax.set_xlabel("percentile")
    n = req.groupby("strategy")["latency_s"].count()
    n = n[n.index.isin(list(drawn))]
    counted = (
        f"{n.min():,} samples" if n.min() == n.max() else f"{n.min():,} to {n.max():,} samples"
    )
    ax.set_title(
        wrap(w.label, 60) + f"\n{counted}: up to p{math.floor(top_p * 10) / 10:g}", loc="left"
    )
    return drawn


# ---------------------------------------------------------------- 5. where the time goes


@chart(
    kind="breakdown",
    title="Where the time goes",
    stem="where-time-goes",
    order=50,
    when=has_requests,
)
def fig_breakdown(run: RunLike) -> Figure | None:
    """Wall time vs client CPU (user, system), and per-request wait vs service time."""
    t = ok_trials(run)
    if t.empty:
        return None
    t = t[t["cpu_user_s"].notna()]  # a benchmark imported from plain pytest-benchmark has none
    if t.empty:
        return None
    req = requests_of(run, t["trial_id"])
    if not req.empty:
        req = req.merge(t[["trial_id", "workload_id"]], on="trial_id").astype({"strategy": str})
    ws = [w for w in workloads(run) if (t["workload_id"] == w.workload_id).any()]
    shown = pick(ws, MAX_BREAKDOWN_ROWS)
    if not shown:
        return None
    names = strategies(run)
    colours = strategy_colours(names)
    heights = [
        1.0 + 0.5 * t[t["workload_id"] == w.workload_id]["strategy"].nunique() for w in shown
    ]
    fig = new_figure(12, 1.2 + sum(heights))
    axes = fig.subplots(len(shown), 2, squeeze=False, height_ratios=heights)
    for (ax_cpu, ax_wait), w in zip(axes, shown, strict=False):
        tw = t[t["workload_id"] == w.workload_id]
        present = [n for n in names if (tw["strategy"] == n).any()]
        _cpu_panel(ax_cpu, tw, present, colours, w)
        rw = req[req["workload_id"] == w.workload_id] if not req.empty else req
        _wait_panel(ax_wait, rw, present, colours)
    axes[-1, 0].set_xlabel("cores kept busy: client CPU time / wall time (medians of repeats)")
    axes[-1, 1].set_xlabel("mean time per request (ms)")
    handles = [
        Patch(facecolor="#777777", label="client CPU, user"),
        Patch(facecolor="white", edgecolor="#777777", hatch="////", label="client CPU, system"),
        Patch(facecolor=OFF_CPU, edgecolor="#BBBBBB", label="off the CPU (waiting)"),
        Patch(
            facecolor=WAIT_FILL, edgecolor=WAIT_COLOUR, hatch="...", label="wait (pool / semaphore)"
        ),
        Patch(facecolor="#777777", alpha=0.85, label="service (request start to end)"),
    ]
    legend_below(fig, handles)
    extra = f" ({len(shown)} of {len(ws)} workloads)" if len(shown) < len(ws) else ""
    fig.suptitle(
        "Where the time goes: client CPU within the wall time (left), waiting vs being "
        "served per request (right)" + extra
    )
    return fig


def _cpu_panel(
    ax: Axes, tw: pd.DataFrame, present: list[str], colours: dict[str, str], w: Workload
) -> None:
    """How many cores the client kept busy over its wall time (CPU time / wall time): one
    core throughout is 1, so several processes show above it without a share above 100%."""
    right = 1.0
    for i, st in enumerate(present):
        g = tw[tw["strategy"] == st]
        wall, user, sys_ = (float(g[c].median()) for c in ("wall_s", "cpu_user_s", "cpu_sys_s"))
        if not wall > 0:
            continue
        u, s = user / wall, sys_ / wall
        ax.barh(i, u, height=0.62, color=colours[st])
        ax.barh(
            i,
            s,
            left=u,
            height=0.62,
            facecolor="white",
            edgecolor=colours[st],
            hatch="////",
            lw=0.8,
        )
        if u + s < 1:
            ax.barh(
                i,
                1 - u - s,
                left=u + s,
                height=0.62,
                facecolor=OFF_CPU,
                edgecolor="#BBBBBB",
                lw=0.6,
            )
        ax.text(
            max(1.0, u + s),
            i,
            f"  CPU {fmt_cores(user + sys_, wall)} over {fmt_s(wall)}",
            va="center",
            fontsize=8.5,
        )
        right = max(right, u + s)
    ax.axvline(1, color=IDEAL_COLOUR, lw=0.8)
    ax.set_xlim(0, right * 1.4)
    ax.set_yticks(range(len(present)), present)
    ax.set_ylim(len(present) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title(wrap(w.label, 60), loc="left")


def _wait_panel(ax: Axes, rw: pd.DataFrame, present: list[str], colours: dict[str, str]) -> None:
    """Mean wait + service per request. A bar far longer than the rest (sequential's wait is
    the whole queue ahead of it) is cut at the axis edge, its numbers still written."""
    if rw.empty:
        ax.set_visible(False)
        return
    bars = []
    for st in present:
        g = rw[rw["strategy"] == st]
        bars.append(
            (float(g["wait_s"].clip(lower=0).mean()) * 1e3, float(g["latency_s"].mean()) * 1e3)
        )
    totals = sorted(w + s for w, s in bars)
    xmax = totals[-1] * 1.6 if totals else 1.0
    if len(totals) > 1 and totals[-1] > CUT_RATIO * totals[-2]:
        xmax = totals[-2] * 2.6
    for i, (st, (wait, service)) in enumerate(zip(present, bars, strict=True)):
        ax.barh(
            i, wait, height=0.6, facecolor=WAIT_FILL, edgecolor=WAIT_COLOUR, hatch="...", lw=0.6
        )
        ax.barh(i, service, left=wait, height=0.6, color=colours[st], alpha=0.85)
        text = f"wait {fmt_s(wait / 1e3)} + service {fmt_s(service / 1e3)}"
        if wait + service > xmax:
            ax.text(
                xmax * 0.98,
                i,
                f"{text} (bar cut) ",
                va="center",
                ha="right",
                fontsize=8.5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
            )
        else:
            ax.text(wait + service, i, f"  {text}", va="center", fontsize=8.5)
    ax.set_yticks(range(len(present)), present)
    ax.set_ylim(len(present) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, xmax)
    ax.set_title("per request: wait before starting vs service", loc="left")
