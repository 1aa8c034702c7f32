"""The free-threading chart: does pure-Python work in threads scale on the free-threaded build
as it does not on the GIL build, and what does that build cost a single thread and the I/O path?

The numbers come from ``free_threading_tables`` (chart and reading share them): per
interpreter, strategy, kind of work and C, the speed-up over sequential on the same
interpreter and work, with its 95% interval; sequential's time per interpreter (the single-
thread cost); and the I/O-only throughput (no CPU work, no latency) per interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from bench.define.values import parse_cpu_work
from bench.present.charts.axes import interpreter_label
from bench.present.charts.data import RunLike, ok_trials, strategies
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    IDEAL_COLOUR,
    legend_below,
    new_figure,
    strategy_colours,
    wrap,
)
from bench.present.charts.text import TIMES
from bench.results import stats

BASELINE = "sequential"
KIND_TITLES = {"python": "pure-Python work", "hashlib": "hashlib work (releases the GIL)"}
# one line style and marker per interpreter, in the order of interpreter_order
_LOOKS = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))


@dataclass(frozen=True)
class FreeThreading:
    """What the chart and its reading say, from one run."""

    # interpreter, strategy, kind, cpu_ms, concurrency, speedup, ci_low, ci_high and ideal:
    # sequential's ideal time over this configuration's (bench.results.ideal), the speed-up
    # the cores allow once the latency of one flag overlaps the work of others (above C at
    # C > cores when flags wait as well as compute), min(C, cores) for a run without it
    speedups: pd.DataFrame
    single: pd.DataFrame  # interpreter, kind: sequential's median wall (the single thread)
    io: pd.DataFrame  # interpreter, strategy: I/O-only median throughput (no CPU, no latency)
    cores: int

    @property
    def interpreters(self) -> list[str]:
        return interpreter_order(self.speedups["interpreter"])


def interpreter_order(names: pd.Series) -> list[str]:
    """GIL builds first, then free-threaded ones, each by version: 3.13 before 3.13t."""

    def key(name: str) -> tuple:
        version = name.split("t")[0].split(" ")[0]
        return ("t" in name.split(" ")[0], tuple(int(p) for p in version.split(".")), name)

    return sorted(set(map(str, names)), key=key)


def _kind(spec: str) -> tuple[str, float]:
    return parse_cpu_work(spec) if spec else ("none", 0.0)


def free_threading_tables(run: RunLike) -> FreeThreading | None:
    """None unless the run has CPU work at several C on a free-threaded interpreter and on
    another one, each with its sequential reference."""
    t = ok_trials(run)
    need = {"cpu_work", "python", "free_threaded", "concurrency", "latency"}
    if t.empty or not need <= set(t.columns) or BASELINE not in set(t["strategy"]):
        return None
    t = t.assign(interpreter=interpreter_label(t))
    cores = int(t["cores"].max()) if "cores" in t and t["cores"].notna().any() else 1
    kinds = t["cpu_work"].astype(str).map(_kind)
    t = t.assign(kind=kinds.str[0], cpu_ms=kinds.str[1])
    cpu = t[t["cpu_ms"] > 0]
    threaded = cpu["free_threaded"].astype(object).eq(True)
    if not threaded.any() or threaded.all() or cpu["concurrency"].nunique() < 2:
        return None
    base = cpu[cpu["strategy"] == BASELINE].groupby(["interpreter", "cpu_work"])
    walls = {key: g["wall_s"].to_numpy(float) for key, g in base}
    ideals = {key: _median_ideal(g) for key, g in base}
    rows = []
    keys = ["interpreter", "strategy", "kind", "cpu_ms", "cpu_work", "concurrency"]
    for (python, strategy, kind, ms, spec, c), g in cpu.groupby(keys):
        ref = walls.get((python, spec))
        if ref is None:
            continue
        ratio, lo, hi = stats.ratio_ci(ref, g["wall_s"].to_numpy(float))
        ideal = ideals[(python, spec)] / _median_ideal(g)
        rows.append(
            {
                "interpreter": python,
                "strategy": strategy,
                "kind": kind,
                "cpu_ms": ms,
                "concurrency": int(c),
                "speedup": ratio,
                "ci_low": lo,
                "ci_high": hi,
                "ideal": ideal if np.isfinite(ideal) and ideal > 0 else float(min(c, cores)),
                "wall_s": float(g["wall_s"].median()),
            }
        )
    speedups = pd.DataFrame(rows)
    if speedups.empty:
        return None
    single = (
        cpu[cpu["strategy"] == BASELINE]
        .groupby(["interpreter", "kind", "cpu_ms"], as_index=False)["wall_s"]
        .median()
    )
    io = t[(t["cpu_ms"] == 0) & (t["latency"].astype(str).isin(["0", "0ms", "0s"]))]
    io = io.groupby(["interpreter", "strategy"], as_index=False)["throughput_rps"].median()
    return FreeThreading(speedups, single, io, cores)


def _median_ideal(trials: pd.DataFrame) -> float:
    """The trials' ideal time (bench.results.ideal: cores and overlapping latency), or NaN."""
    if "ideal_s" not in trials:
        return float("nan")
    return float(trials["ideal_s"].astype(float).median())


def has_free_threading(run: RunLike) -> bool:
    return free_threading_tables(run) is not None


@chart(
    kind="free_threading",
    title="Speed-up against workers on the GIL and free-threaded builds",
    stem="free-threading",
    order=23,
    when=has_free_threading,
)
def fig_free_threading(run: RunLike) -> Figure | None:
    """Top: speed-up over sequential against C, a panel per kind of work, a line per strategy
    and interpreter, 95% intervals, the ideal (the best of the drawn strategies' ideals: the
    cores, with the latency that overlaps the work). Bottom: the single-thread cost
    (sequential's time per interpreter) and the I/O path's throughput per interpreter."""
    ft = free_threading_tables(run)
    if ft is None:
        return None
    sp = ft.speedups
    kinds = [k for k in KIND_TITLES if (sp["kind"] == k).any()]
    pythons = ft.interpreters
    looks = {p: _LOOKS[min(i, len(_LOOKS) - 1)] for i, p in enumerate(pythons)}
    names = [s for s in strategies(run) if s in set(sp["strategy"]) and s != BASELINE]
    colours = strategy_colours(names)
    has_io = not ft.io.empty
    fig = new_figure(6.2 * len(kinds) + 0.6, 11.0 if has_io else 8.6)
    grid = fig.add_gridspec(2, len(kinds) * 2, height_ratios=[2.1, 1.0])
    xs = sorted(sp["concurrency"].unique())
    # the medians and the ideal set the scale; an interval from two repeats can be very wide
    top = float(np.nanmax([sp["speedup"].max(), min(max(xs), ft.cores)])) * 1.25
    for col, kind in enumerate(kinds):
        ax = fig.add_subplot(grid[0, 2 * col : 2 * col + 2])
        sub = sp[sp["kind"] == kind]
        ideal = [sub.loc[sub["concurrency"] == c, "ideal"].max() for c in xs]
        ax.plot(xs, ideal, color=IDEAL_COLOUR, ls="--", lw=1.2, zorder=1)
        ax.axhline(1, color="#CCCCCC", lw=0.8, zorder=0)
        n = len(pythons)
        for i, python in enumerate(pythons):
            ls, marker = looks[python]
            shift = 2 ** ((i - (n - 1) / 2) * 0.05)  # side by side, so intervals stay apart
            for name in names:
                d = sub[(sub["interpreter"] == python) & (sub["strategy"] == name)]
                d = d.sort_values("concurrency")
                if d.empty:
                    continue
                x = d["concurrency"].to_numpy(float) * shift
                y = d["speedup"].to_numpy(float)
                err = np.vstack([y - d["ci_low"].to_numpy(float), d["ci_high"].to_numpy(float) - y])
                ax.errorbar(
                    x,
                    y,
                    yerr=np.where(np.isfinite(err), err, 0),
                    color=colours[name],
                    ls=ls,
                    marker=marker,
                    lw=1.6,
                    ms=5,
                    capsize=2.5,
                    elinewidth=0.9,
                    zorder=2,
                )
        ms = sub["cpu_ms"].max()
        ax.set_title(f"{ms:g} ms of {KIND_TITLES[kind]} per flag", loc="left")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(xs))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlim(min(xs) / 1.3, max(xs) * 1.3)
        ax.set_ylim(0, top)
        ax.set_xlabel("workers C (threads, processes or subinterpreters)")
        ax.set_ylabel(f"speed-up over sequential on the same Python ({TIMES})")
    _single_panel(fig.add_subplot(grid[1, : len(kinds)]), ft, pythons, kinds)
    if has_io:
        _io_panel(fig.add_subplot(grid[1, len(kinds) :]), ft, pythons, colours)
    handles = [Line2D([], [], color=colours[n], lw=2.2, label=n) for n in names]
    handles += [
        Line2D(
            [], [], color="#555555", ls=looks[p][0], marker=looks[p][1], lw=1.6, label=f"Python {p}"
        )
        for p in pythons
    ]
    handles.append(
        Line2D(
            [],
            [],
            color=IDEAL_COLOUR,
            ls="--",
            lw=1.2,
            label=f"ideal: {ft.cores} cores, latency overlapped",
        )
    )
    legend_below(fig, handles)
    fig.suptitle(
        wrap(
            "Does CPU work in threads scale without the GIL? Speed-up over sequential against "
            f"workers, on {', '.join('Python ' + p for p in pythons)} (bars: 95% intervals)",
            110,
        )
    )
    return fig


def _single_panel(ax: Axes, ft: FreeThreading, pythons: list[str], kinds: list[str]) -> None:
    """Sequential's time per kind of work and interpreter: what one thread pays."""
    width = 0.8 / len(pythons)
    shades = ["#4477AA", "#EE6677", "#228833", "#CCBB44"]
    for i, python in enumerate(pythons):
        values = []
        for kind in kinds:
            hit = ft.single[(ft.single["interpreter"] == python) & (ft.single["kind"] == kind)]
            values.append(float(hit["wall_s"].iloc[0]) if len(hit) else np.nan)
        xs = np.arange(len(kinds)) + (i - (len(pythons) - 1) / 2) * width
        bars = ax.bar(
            xs, values, width * 0.92, color=shades[i % len(shades)], label=f"Python {python}"
        )
        ax.bar_label(
            bars, labels=[f"{v:.2f} s" if np.isfinite(v) else "" for v in values], fontsize=8
        )
    ax.set_xticks(range(len(kinds)), [KIND_TITLES[k].split(" (")[0] for k in kinds])
    ax.set_ylabel("sequential: median wall time (s)")
    ax.set_title("One thread: the same work, timed on each Python", loc="left")
    ax.legend(fontsize=8, loc="lower right")


def _io_panel(ax: Axes, ft: FreeThreading, pythons: list[str], colours: dict[str, str]) -> None:
    """Throughput with no CPU work and no latency, per strategy and interpreter."""
    io = ft.io
    names = [n for n in [BASELINE, *colours] if n in set(io["strategy"])]
    width = 0.8 / max(len(names), 1)
    palette = {**colours, BASELINE: "#BBBBBB"}
    for j, name in enumerate(names):
        values = []
        for python in pythons:
            hit = io[(io["interpreter"] == python) & (io["strategy"] == name)]
            values.append(float(hit["throughput_rps"].iloc[0]) if len(hit) else np.nan)
        xs = np.arange(len(pythons)) + (j - (len(names) - 1) / 2) * width
        ax.bar(xs, values, width * 0.92, color=palette.get(name, "#777777"), label=name)
    ax.set_xticks(range(len(pythons)), [f"Python {p}" for p in pythons])
    ax.set_ylabel("requests per second (median)")
    ax.set_title("The I/O path alone: no CPU work, no latency", loc="left")
    ax.legend(fontsize=8, ncols=2)
