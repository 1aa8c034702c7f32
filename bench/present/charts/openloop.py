"""The open-loop charts: what each model carries, and what its users wait, as the offered
rate grows past its capacity.

``open_loop_table`` gives the medians (over repeats) that the charts and their readings share,
one row per strategy and rate, from the largest group of open-loop workloads that differ in
the rate alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.define.sweeps import sweep_params
from bench.present.charts.data import (
    RunLike,
    joined,
    ok_trials,
    strategies,
)
from bench.present.charts.drawn import enough_samples
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    IDEAL_COLOUR,
    legend_below,
    new_figure,
    plain_log,
    strategy_colours,
)
from bench.results import hdr

MEDIANS = (
    "target_rate_rps",
    "achieved_rate_rps",
    "n_late",
    "n_dropped",
    "n_jobs",
    "latency_corrected_p50_s",
    "latency_corrected_p90_s",
    "latency_corrected_p99_s",
    "latency_corrected_p99_9_s",
    "latency_corrected_max_s",
    "latency_uncorrected_p50_s",
    "latency_uncorrected_p90_s",
    "latency_uncorrected_p99_s",
    "latency_uncorrected_p99_9_s",
)
SHOWN = (
    ("latency_corrected_p50_s", "p50", ":"),
    ("latency_corrected_p99_s", "p99", "-"),
    ("latency_corrected_p99_9_s", "p99.9", "--"),
)


def open_loop_table(run: RunLike) -> pd.DataFrame:
    """Medians per strategy and rate (latency percentiles: of the repeats' requests pooled,
    NaN where too few to state them), with ``capacity_rps`` (C over the mean latency: what a
    perfect client with C in flight carries); empty for a run without open-loop trials."""
    t = ok_trials(run)
    if t.empty or "load" not in t.columns:
        return pd.DataFrame()
    t = t[t["load"].astype(str) == "open"]
    if t.empty:
        return pd.DataFrame()
    key = joined(t, [c for c in sweep_params() if c != "rate"] + ["concurrency"])
    t = t[key == key.mode().iloc[0]]
    g = t.groupby(["strategy", "rate"], sort=True)
    out = g[list(MEDIANS)].median().reset_index()
    first = (
        g[["concurrency", "latency_mean_s", "latency", "overflow"]].first().reset_index(drop=True)
    )
    out = pd.concat([out, first], axis=1)
    out["capacity_rps"] = out["concurrency"] / out["latency_mean_s"]
    # the repeats' requests pooled (their HDR histograms add exactly), and a percentile kept
    # only where the pooled requests can state it (a p99.9 needs 10,000): charts and readings
    # alike then see NaN, never a tail of a few samples
    for kind in ("corrected", "uncorrected"):
        column = f"hdr_{kind}"
        if column not in t.columns:
            continue
        pooled = [hdr.merged(rows[column].dropna().astype(str)) for _, rows in g]
        counts = pd.Series([h.get_total_count() for h in pooled], index=out.index)
        table = pd.DataFrame(
            [hdr.percentiles(h, f"latency_{kind}") for h in pooled], index=out.index
        )
        for col in table.columns:
            if col in out.columns and col.endswith("_s") and "_max_" not in col:
                p = float(col.split("_p", 1)[1][:-2].replace("_", "."))
                stated = counts.map(lambda n, p=p: enough_samples(n, p))
                out[col] = table[col].where(stated & (counts > 0), np.nan)
    tail = omission_percentile(out)
    out["understated"] = (
        out[f"latency_corrected_{tail}_s"] / out[f"latency_uncorrected_{tail}_s"]
        if tail
        else np.nan
    )
    return out


def omission_percentile(table: pd.DataFrame) -> str | None:
    """The deepest percentile (p99, else p90, else p50) stated at every rate, corrected and
    uncorrected: what the omission chart and its reading compare."""
    for tail in ("p99", "p90", "p50"):
        cols = [f"latency_corrected_{tail}_s", f"latency_uncorrected_{tail}_s"]
        if all(c in table.columns for c in cols) and table[cols].notna().all().all():
            return tail
    return None


def has_open_loop(run: RunLike) -> bool:
    return not open_loop_table(run).empty


def _names(run: RunLike, table: pd.DataFrame) -> list[str]:
    return [n for n in strategies(run) if (table["strategy"] == n).any()]


def _capacity(ax: Axes, table: pd.DataFrame) -> None:
    capacity = float(table["capacity_rps"].iloc[0])
    ax.axvline(capacity, color=IDEAL_COLOUR, ls=":", lw=1)
    ax.annotate(
        f"C / latency = {capacity:,.0f}/s",
        (capacity, 1),
        xycoords=("data", "axes fraction"),
        xytext=(3, -12),
        textcoords="offset points",
        fontsize=8,
        color=IDEAL_COLOUR,
    )


@chart(
    kind="openloop_latency",
    title="Latency percentiles against offered rate",
    stem="openloop-latency",
    order=27,
    when=has_open_loop,
)
def fig_openloop_latency(run: RunLike) -> Figure | None:
    """The hockey stick: corrected p50, p99 and p99.9 against the offered rate, log scale."""
    table = open_loop_table(run)
    if table.empty:
        return None
    colours = strategy_colours(strategies(run))
    fig = new_figure(9, 5.5)
    ax = fig.subplots()
    for name in _names(run, table):
        d = table[table["strategy"] == name]
        for col, _, ls in SHOWN:
            if d[col].notna().any():  # a percentile the requests can state somewhere
                ax.plot(d["rate"], d[col] * 1e3, color=colours[name], ls=ls, marker="o", ms=3)
    _capacity(ax, table)
    ax.set_yscale("log")
    plain_log(ax.yaxis)
    ax.set_xlabel("offered rate (arrivals per second)")
    ax.set_ylabel("latency from the scheduled arrival (ms)")
    handles = [Line2D([], [], color=colours[n], lw=2, label=n) for n in _names(run, table)]
    handles += [
        Line2D([], [], color="#555555", ls=ls, label=label)
        for col, label, ls in SHOWN
        if table[col].notna().any()
    ]
    legend_below(fig, handles)
    fig.suptitle(
        "Latency users wait (corrected) against the offered rate; repeats pooled, each "
        "percentile p where 10 / (1 - p) requests or more state it"
    )
    return fig


@chart(
    kind="openloop_omission",
    title="Corrected against uncorrected p99",
    stem="openloop-omission",
    order=28,
    when=has_open_loop,
)
def fig_openloop_omission(run: RunLike) -> Figure | None:
    """p99 from the scheduled arrival (solid) and from the actual start (dashed): the gap is
    the wait a closed-loop measurement omits."""
    table = open_loop_table(run)
    tail = omission_percentile(table) if not table.empty else None
    if tail is None:
        return None
    colours = strategy_colours(strategies(run))
    fig = new_figure(9, 5.5)
    ax = fig.subplots()
    for name in _names(run, table):
        d = table[table["strategy"] == name]
        ax.plot(d["rate"], d[f"latency_corrected_{tail}_s"] * 1e3, color=colours[name], marker="o")
        ax.plot(
            d["rate"],
            d[f"latency_uncorrected_{tail}_s"] * 1e3,
            color=colours[name],
            ls="--",
            marker="x",
        )
    _capacity(ax, table)
    ax.set_yscale("log")
    plain_log(ax.yaxis)
    ax.set_xlabel("offered rate (arrivals per second)")
    ax.set_ylabel(f"{tail} latency (ms)")
    handles = [Line2D([], [], color=colours[n], lw=2, label=n) for n in _names(run, table)]
    handles += [
        Line2D([], [], color="#555555", label="corrected (from the schedule)"),
        Line2D([], [], color="#555555", ls="--", label="uncorrected (from the start)"),
    ]
    legend_below(fig, handles)
    fig.suptitle(
        f"{tail} latency: corrected against uncorrected (coordinated omission); the deepest "
        "percentile the pooled requests state at every rate"
    )
    return fig


@chart(
    kind="openloop_rate",
    title="Achieved against target rate",
    stem="openloop-rate",
    order=29,
    when=has_open_loop,
)
def fig_openloop_rate(run: RunLike) -> Figure | None:
    """What each model carried against what it was offered; the diagonal is keeping up."""
    table = open_loop_table(run)
    if table.empty:
        return None
    colours = strategy_colours(strategies(run))
    fig = new_figure(8, 5.5)
    ax = fig.subplots()
    top = float(table[["target_rate_rps", "achieved_rate_rps"]].max().max())
    ax.plot([0, top], [0, top], color=IDEAL_COLOUR, ls="--", lw=1)
    for name in _names(run, table):
        d = table[table["strategy"] == name]
        ax.plot(d["target_rate_rps"], d["achieved_rate_rps"], color=colours[name], marker="o")
    _capacity(ax, table)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("target rate (arrivals per second)")
    ax.set_ylabel("achieved rate (request starts per second)")
    handles = [Line2D([], [], color=colours[n], lw=2, label=n) for n in _names(run, table)]
    handles.append(Line2D([], [], color=IDEAL_COLOUR, ls="--", label="keeping up"))
    legend_below(fig, handles)
    fig.suptitle("Achieved against target rate")
    return fig
