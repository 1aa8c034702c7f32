"""Charts of the GIL experiments: speed-up against workers per CPU kind, and the convoy effect
of a CPU-bound thread under each switch interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from bench.present.charts.data import RunLike, strategies
from bench.present.charts.experiments import (
    gil_table,
    has_gil_sweep,
    has_switch_sweep,
    switch_table,
)
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    IDEAL_COLOUR,
    legend_below,
    new_figure,
    strategy_colours,
    wrap,
)
from bench.present.charts.text import TIMES

KIND_TITLES = {"python": "python work (holds the GIL)", "hashlib": "hashlib work (releases it)"}
ONE_CORE = ("gil", "loop")  # limits that leave the CPU work one core
_VARIANT_STYLE = (("-", "o"), ("--", "s"), (":", "^"))
SPREAD_IDEAL = "#222222"
ONE_CORE_IDEAL = "#999999"


# ---------------------------------------------------------------- speed-up against workers


def _styles(models: list[str], table: pd.DataFrame) -> dict[str, tuple[str, str, str]]:
    """Per model: colour (its strategy's), line style and marker (one per executor)."""
    colours = strategy_colours(table["strategy"].unique())
    seen: dict[str, int] = {}
    out = {}
    for m in models:
        st = str(table.loc[table["model"] == m, "strategy"].iloc[0])
        k = seen.get(st, 0)
        seen[st] = k + 1
        ls, marker = _VARIANT_STYLE[min(k, len(_VARIANT_STYLE) - 1)]
        out[m] = (colours[st], ls, marker)
    return out


def _model_order(table: pd.DataFrame, run: RunLike) -> list[str]:
    """Strategies in teaching order; a strategy's thread executor before its process one."""
    order = {name: i for i, name in enumerate(strategies(run))}
    first = table.drop_duplicates("model").set_index("model")
    return sorted(
        first.index,
        key=lambda m: (
            order.get(str(first.loc[m, "strategy"]), 99),
            first.loc[m, "executor"] != "thread",
            m,
        ),
    )


@chart(
    kind="gil",
    title="Speed-up against workers, per kind of CPU work",
    stem="gil",
    order=22,
    when=has_gil_sweep,
)
def fig_gil(run: RunLike) -> Figure | None:
    """Speed-up over the baseline against C, per model, one column per CPU kind, one row per
    CPU cost, with the ideal speed-ups of the work on one core and on min(C, cores)."""
    table = gil_table(run)
    if table.empty:
        return None
    kinds = [k for k in KIND_TITLES if (table["kind"] == k).any()]
    costs = sorted(table.loc[table["cpu_ms"] > 0, "cpu_ms"].unique())
    zero = bool((table["cpu_ms"] == 0).any())
    models = _model_order(table, run)
    styles = _styles(models, table)
    rows = len(costs) + zero
    fig = new_figure(5.2 * len(kinds) + 1.2, 1.6 + 2.9 * rows)
    grid = fig.add_gridspec(rows, len(kinds))
    panels = []
    if zero:
        panels.append(
            (
                fig.add_subplot(grid[0, :]),
                table[table["cpu_ms"] == 0],
                "no CPU work: waiting on the network only",
            )
        )
    for r, ms in enumerate(costs, start=int(zero)):
        for c, kind in enumerate(kinds):
            sub = table[(table["cpu_ms"] == ms) & (table["kind"] == kind)]
            panels.append(
                (fig.add_subplot(grid[r, c]), sub, f"{ms:g} ms of {KIND_TITLES[kind]} per flag")
            )
    xs = sorted(table["concurrency"].unique())
    for ax, sub, title in panels:
        _speedup_panel(ax, sub, models, styles, xs)
        ax.set_title(title, loc="left")
    for ax, _, _ in panels:
        spec = ax.get_subplotspec()
        assert spec is not None  # every panel was added on the grid above
        if spec.is_last_row():
            ax.set_xlabel("workers C (threads, processes, or requests in flight)")
        if spec.is_first_col():
            ax.set_ylabel(f"speed-up over {table['baseline'].iloc[0]} ({TIMES})")
    handles = [
        Line2D([], [], color=styles[m][0], ls=styles[m][1], marker=styles[m][2], lw=1.8, label=m)
        for m in models
    ]
    cores = table["cores"].dropna()
    n_cores = f"{int(cores.max())} cores" if len(cores) else "the cores"
    handles += [
        Line2D(
            [],
            [],
            color=SPREAD_IDEAL,
            ls="--",
            lw=1.3,
            label=f"ideal: CPU work on min(C, {n_cores.split()[0]}) cores",
        ),
        Line2D(
            [],
            [],
            color="#555555",
            marker="|",
            ms=9,
            ls="",
            label="95% CI of the speed-up (Welch's t on the log times)",
        ),
        Line2D(
            [],
            [],
            color=ONE_CORE_IDEAL,
            ls=":",
            lw=2.2,
            label="ideal: CPU work on one core (GIL-holding threads, inline on a loop)",
        ),
    ]
    legend_below(fig, handles)
    baseline = table["baseline"].iloc[0]
    fig.suptitle(
        wrap(
            "Speed-up against workers: pure-Python work holds the GIL, hashlib "
            f"releases it ({n_cores} here; {baseline} = 1{TIMES}). An ideal is "
            f"{baseline}'s measured time over a perfect client's, so a model on its line "
            "has efficiency 1 and none lies above it beyond its interval unless labelled",
            110,
        )
    )
    return fig


def _speedup_panel(
    ax: Axes, sub: pd.DataFrame, models: list[str], styles: dict, xs: list[int]
) -> None:
    # without CPU work the cores do not matter: one ideal; otherwise one per group, the
    # one-core ideal dotted under the dashed one, so where they coincide both still show
    one = sub["cpu_limit"].isin(ONE_CORE) & (sub["cpu_ms"] > 0)
    for mask, colour, ls, lw in ((one, ONE_CORE_IDEAL, ":", 2.2), (~one, SPREAD_IDEAL, "--", 1.3)):
        ideal = sub[mask].groupby("concurrency")["ideal_speedup"].max()
        if len(ideal):
            ax.plot(
                ideal.index,
                ideal.to_numpy(float),
                color=colour,
                ls=ls,
                lw=lw,
                marker="_",  # an ideal at a single C still shows
                ms=12,
                zorder=1,
            )
    for m in models:
        d = sub[sub["model"] == m].sort_values("concurrency")
        if d.empty:
            continue
        colour, ls, marker = styles[m]
        med = d["speedup"].to_numpy(float)
        lo = np.nan_to_num(med - d["speedup_ci_low"].to_numpy(float), nan=0.0).clip(0)
        hi = np.nan_to_num(d["speedup_ci_high"].to_numpy(float) - med, nan=0.0).clip(0)
        ax.errorbar(
            d["concurrency"],
            med,
            yerr=[lo, hi],
            color=colour,
            ls=ls,
            marker=marker,
            lw=1.8,
            ms=5,
            capsize=3,
            zorder=2,
        )
        above = d[d["efficiency_ci_low"] > 1]  # beyond its ideal, past the repeats' noise
        for _, r in above.iterrows():
            ax.annotate(
                f"efficiency {r['efficiency']:.2f}",
                (r["concurrency"], r["speedup"]),
                xytext=(4, 6),
                textcoords="offset points",
                fontsize=7.5,
                color=colour,
            )
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(xs))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlim(min(xs) / 1.25, max(xs) * 1.25)
    top = np.nanmax(
        np.concatenate(
            [
                sub["speedup"].to_numpy(float),
                sub["speedup_ci_high"].to_numpy(float),
                sub["ideal_speedup"].to_numpy(float),
                [1.0],
            ]
        )
    )
    ax.set_ylim(0, top * 1.12)
    ax.axhline(1, color="#CCCCCC", lw=0.8, zorder=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


# ---------------------------------------------------------------- the convoy effect


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:g}"


@chart(
    kind="switch_interval",
    title="Request latency and heartbeat against the switch interval",
    stem="switch-interval",
    order=26,
    when=has_switch_sweep,
)
def fig_switch_interval(run: RunLike) -> Figure | None:
    """Latency p50/p99 and heartbeat p99 against the switch interval with background CPU
    threads, next to the reference without them; and who got the CPU."""
    table = switch_table(run)
    if table.empty:
        return None
    busy = table[table["background_threads"] > 0]
    ref = table[table["background_threads"] == 0]
    counts = sorted(busy["background_threads"].unique())
    colour = strategy_colours([busy["strategy"].iloc[0]])[busy["strategy"].iloc[0]]
    fig = new_figure(14, 5.2)
    ax_l, ax_h, ax_c = fig.subplots(1, 3)
    xs = sorted(busy["switch_interval_s"].unique())
    for k, (ls, marker) in zip(counts, _VARIANT_STYLE, strict=False):
        d = busy[busy["background_threads"] == k]
        ax_l.plot(
            d["switch_interval_s"],
            d["latency_p99_s"] * 1e3,
            color=colour,
            ls=ls,
            marker=marker,
            lw=2,
        )
        ax_l.plot(
            d["switch_interval_s"],
            d["latency_p50_s"] * 1e3,
            color=colour,
            ls=ls,
            marker=marker,
            lw=1,
            alpha=0.6,
            mfc="white",
        )
        ax_h.plot(
            d["switch_interval_s"],
            d["heartbeat_p99_s"] * 1e3,
            color=colour,
            ls=ls,
            marker=marker,
            lw=2,
        )
        if len(ref):
            base_tp = float(ref["throughput_rps"].median())
            ax_c.plot(
                d["switch_interval_s"],
                100 * d["throughput_rps"] / base_tp,
                color=colour,
                ls=ls,
                marker=marker,
                lw=2,
            )
        ax_c.plot(
            d["switch_interval_s"],
            100 * d["background_share"] / k,
            color="#E69F00",
            ls=ls,
            marker=marker,
            lw=2,
        )
    if len(ref):
        r = ref.iloc[0]
        ax_l.axhline(r["latency_p99_s"] * 1e3, color=IDEAL_COLOUR, ls="--", lw=1.3)
        ax_l.axhline(r["latency_p50_s"] * 1e3, color=IDEAL_COLOUR, ls="--", lw=0.8, alpha=0.6)
        ax_h.axhline(r["heartbeat_p99_s"] * 1e3, color=IDEAL_COLOUR, ls="--", lw=1.3)
        ax_c.axhline(100, color=IDEAL_COLOUR, ls="--", lw=1.3)
    for ax in (ax_l, ax_h, ax_c):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(xs))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _ms(v)))
        ax.set_xlabel("switch interval (ms, log scale; Python's default is 5)")
        ax.axvline(0.005, color="#BBBBBB", ls=":", lw=1, zorder=0)
        ax.set_ylim(bottom=0)
    ax_l.set_ylabel("request latency (ms)")
    ax_l.set_title("Request latency: p99 (filled), p50 (hollow)", loc="left")
    ax_h.set_ylabel("heartbeat delay p99 (ms)")
    ax_h.set_title("Heartbeat thread: how late it woke", loc="left")
    ax_c.set_ylabel("downloads: % of their throughput alone\nbackground thread: % of a core")
    ax_c.set_title("Who got the CPU: downloads or the spinner", loc="left")
    ax_c.set_ylim(0, max(115.0, ax_c.get_ylim()[1]))
    name = busy["strategy"].iloc[0]
    handles = [
        Line2D(
            [],
            [],
            color=colour,
            ls=ls,
            marker=marker,
            lw=2,
            label=f"{name} beside {k} CPU-bound thread{'s' if k > 1 else ''}: "
            "requests, heartbeat, throughput",
        )
        for k, (ls, marker) in zip(counts, _VARIANT_STYLE, strict=False)
    ]
    handles.append(
        Line2D(
            [], [], color="#E69F00", lw=2, label="the background thread's share of a core (right)"
        )
    )
    if len(ref):
        handles.append(
            Line2D(
                [],
                [],
                color=IDEAL_COLOUR,
                ls="--",
                lw=1.3,
                label="no background thread (reference); right panel: its "
                "download throughput = 100%",
            )
        )
    legend_below(fig, handles)
    fig.suptitle(
        wrap(
            "The GIL convoy: a CPU-bound thread beside I/O threads, against the "
            "interpreter's switch interval",
            110,
        )
    )
    return fig
