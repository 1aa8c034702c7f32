"""Charts of the client axes and of scaling out: client CPU per request by client library and
event loop, and throughput against C for one event loop, one per process, and a cluster."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.present.charts.axes import (
    SCALE_OUT,
    client_cpu,
    has_client_axis,
    has_scale_out,
    scale_out,
)
from bench.present.charts.data import RunLike, strategies
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    IDEAL_COLOUR,
    legend_below,
    new_figure,
    plain_log,
    strategy_colours,
    wrap,
)

MAX_PANELS = 4


def combo_label(row: pd.Series) -> str:
    """``asyncio: httpx on uvloop``; a strategy without a loop shows its client only."""
    loop = f" on {row['loop']}" if row["loop"] else ""
    return f"{row['strategy']}: {row['client'] or 'its own client'}{loop}"


@chart(
    kind="client_cpu",
    title="Client CPU per request by client library and event loop",
    stem="client-cpu",
    order=25,
    when=has_client_axis,
)
def fig_client_cpu(run: RunLike) -> Figure | None:
    """Median client CPU (user + system) per request, one bar per strategy, client and loop."""
    panels = client_cpu(run)[:MAX_PANELS]
    if not panels:
        return None
    colours = strategy_colours(strategies(run))
    heights = [0.9 + 0.4 * len(rows) for _, rows in panels]
    fig = new_figure(9.5, 1.2 + sum(heights))
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
    rng = np.random.default_rng(0)
    for ax, (label, rows) in zip(axes, panels, strict=True):
        best = float(rows["median"].min())
        for i, row in rows.iterrows():
            ax.barh(
                i,
                row["median"],
                height=0.62,
                color=colours[row["strategy"]],
                alpha=0.85,
                hatch="//" if row["loop"] == "uvloop" else None,
                edgecolor="white",
            )
            reps = np.asarray(row["repeats"], float)
            ax.scatter(
                reps,
                i + rng.uniform(-0.16, 0.16, len(reps)),
                s=14,
                facecolor="white",
                edgecolor="black",
                lw=0.7,
                zorder=3,
            )
            ratio = row["median"] / best if best > 0 else math.nan
            note = f"{row['median']:.3g} ms" + (f"  ({ratio:.2g}\u00d7)" if ratio > 1.005 else "")
            ax.annotate(
                note,
                (max(row["median"], reps.max(initial=0)), i),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
        ax.set_yticks(range(len(rows)), [combo_label(r) for _, r in rows.iterrows()])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, 1.3 * float(max(rows["median"].max(), max(max(r) for r in rows["repeats"]))))
        ax.grid(axis="y", visible=False)
        ax.set_title(wrap(label, 100), loc="left")
    axes[-1].set_xlabel("client CPU per request (ms): user + system time over requests sent")
    legend_below(
        fig,
        [
            Patch(facecolor="#999999", label="median of the repeats"),
            Patch(facecolor="#999999", hatch="//", edgecolor="white", label="on uvloop"),
            Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="each repeat"),
        ],
    )
    fig.suptitle("Client CPU per request by client library and event loop (lower is better)")
    return fig


@chart(
    kind="scale_out",
    title="Throughput against C: one event loop, one per process, a cluster",
    stem="scale-out",
    order=22,
    when=has_scale_out,
)
def fig_scale_out(run: RunLike) -> Figure | None:
    """Throughput of asyncio, multiprocess_asyncio and dask against C, with the ideal."""
    panels = scale_out(run)
    if not panels:
        return None
    colours = strategy_colours(SCALE_OUT)
    fig = new_figure(max(8.0, 5.2 * len(panels) + 0.6), 5.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (label, rows) in zip(axes, panels, strict=True):
        if rows["concurrency"].nunique() > 1:
            _lines(ax, rows, colours)
        else:
            _bars(ax, rows, colours)
        ax.set_title(wrap(label, 50), loc="left")
        ax.set_ylabel("throughput (requests/s)")
    handles = [
        Line2D([], [], color=colours[n], lw=2, marker="o", label=n)
        for n in SCALE_OUT
        if any(n in set(rows["strategy"]) for _, rows in panels)
    ]
    handles.append(
        Line2D(
            [],
            [],
            color=IDEAL_COLOUR,
            ls="--",
            lw=1.2,
            label="ideal: C / latency (a perfect client with C slots)",
        )
    )
    legend_below(fig, handles)
    fig.suptitle(
        "Throughput against C: one event loop, one per process, a cluster (bars: 95% intervals)"
    )
    return fig


def _interval(rows: pd.DataFrame) -> np.ndarray:
    """The 95% interval of each row's throughput, below and above its median, from its wall
    time's (a trial's request count is fixed, so the rate's interval is the time's, inverted);
    zero where the summary has none (a single repeat)."""
    tp = rows["throughput_median_rps"].to_numpy(float)
    wall = rows["wall_median_s"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = tp * wall / rows["wall_ci_high_s"].to_numpy(float)
        high = tp * wall / rows["wall_ci_low_s"].to_numpy(float)
    err = np.vstack([tp - low, high - tp])
    return np.where(np.isfinite(err), np.clip(err, 0, None), 0.0)


def _lines(ax: Axes, rows: pd.DataFrame, colours: dict[str, str]) -> None:
    for name in SCALE_OUT:
        d = rows[rows["strategy"] == name]
        if not d.empty:
            ax.errorbar(
                d["concurrency"],
                d["throughput_median_rps"],
                yerr=_interval(d),
                marker="o",
                lw=1.8,
                capsize=2.5,
                elinewidth=0.9,
                color=colours[name],
            )
    ideal = rows.drop_duplicates("concurrency")
    ax.plot(ideal["concurrency"], ideal["ideal_rps"], color=IDEAL_COLOUR, ls="--", lw=1.2)
    ax.set_xscale("log")
    plain_log(ax.xaxis)
    ax.set_xticks(sorted(rows["concurrency"].unique()))  # every C run is labelled
    if rows["throughput_median_rps"].max() / max(rows["throughput_median_rps"].min(), 1e-9) > 8:
        ax.set_yscale("log")
        plain_log(ax.yaxis)
    ax.set_xlabel("concurrency C, total (log scale)")


def _bars(ax: Axes, rows: pd.DataFrame, colours: dict[str, str]) -> None:
    names = [n for n in SCALE_OUT if n in set(rows["strategy"])]
    chosen = pd.concat([rows[rows["strategy"] == n].iloc[:1] for n in names])
    values = chosen["throughput_median_rps"].astype(float).tolist()
    ax.bar(
        range(len(names)),
        values,
        yerr=_interval(chosen),
        capsize=3,
        color=[colours[n] for n in names],
        alpha=0.85,
    )
    for i, v in enumerate(values):
        ax.annotate(
            f"{v:,.0f}/s",
            (i, v),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=9,
        )
    ax.set_xticks(range(len(names)), names)
    ax.grid(axis="x", visible=False)
    ideal = float(rows["ideal_rps"].iloc[0])
    if math.isfinite(ideal) and ideal < 3 * max(values):
        ax.axhline(ideal, color=IDEAL_COLOUR, ls="--", lw=1.2)
