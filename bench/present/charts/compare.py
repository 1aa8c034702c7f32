"""The ``flagbench compare`` chart: per configuration, B / A with its interval.

Apart from the run charts because it reads a comparison table, not a run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from bench.present.charts.style import (
    IDEAL_COLOUR,
    freeze_layout,
    legend_below,
    new_figure,
    plain_log,
    strategy_colours,
    style,
    wrap,
    write_atomic_figure,
)
from bench.present.charts.text import TIMES
from bench.results.gate import ALPHA, WALL


def compare_chart(
    comparison: pd.DataFrame, out_path: Path, *, label_a: str = "A", label_b: str = "B"
) -> Path:
    """Per configuration, the ratio of wall times B / A with its interval: the geometric means'
    ratio and the gate's interval from ``flagbench compare``, the medians' from summaries.

    ``comparison`` is ``bench.present.compare.compare_runs``'s table (config_id, strategy, workload,
    ratio, ratio_ci_low, ratio_ci_high, significant); ``comparison_from_summaries`` builds one
    from two summary tables. The format follows the suffix of ``out_path`` (.png or .svg).
    """
    out_path = Path(out_path)
    fmt = out_path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        raise ValueError(f"compare chart path must end in .png or .svg, got {out_path.name!r}")
    if comparison.empty:
        raise ValueError("the two runs share no configuration (config_id) to compare")
    if "measure" in comparison:  # the chart draws wall times; the request measure is a table's
        comparison = comparison[comparison["measure"] == WALL]
    data = comparison.astype({"strategy": str, "workload": str, "config_id": str})
    with style():
        fig = _fig_compare(data.reset_index(drop=True), label_a, label_b)
        freeze_layout(fig)
        return write_atomic_figure(fig, out_path, fmt)


def comparison_from_summaries(summary_a: pd.DataFrame, summary_b: pd.DataFrame) -> pd.DataFrame:
    """A comparison table from two runs' summaries alone.

    Without the trials there is no interval of the ratio; this one is the conservative
    quotient of the two intervals (B low / A high .. B high / A low), and none (NaN) where a
    bound is not positive.
    """
    keep = ["config_id", "workload", "strategy", "wall_median_s", "wall_ci_low_s", "wall_ci_high_s"]
    a = summary_a[keep].astype({"config_id": str})
    b = summary_b[keep].astype({"config_id": str})
    m = a.merge(b, on="config_id", suffixes=("_a", "_b"))
    # a ratio's bound from a bound that is not positive (an older run's raw-scale interval)
    # would be meaningless, or negative: no interval then
    positive = (m[["wall_ci_low_s_a", "wall_ci_low_s_b"]] > 0).all(axis=1)
    m.loc[~positive, ["wall_ci_low_s_a", "wall_ci_high_s_a"]] = np.nan
    return pd.DataFrame(
        {
            "config_id": m["config_id"],
            "strategy": m["strategy_a"].astype(str),
            "workload": m["workload_a"].astype(str),
            "a_median_s": m["wall_median_s_a"],
            "b_median_s": m["wall_median_s_b"],
            "ratio": m["wall_median_s_b"] / m["wall_median_s_a"],
            "ratio_ci_low": m["wall_ci_low_s_b"] / m["wall_ci_high_s_a"],
            "ratio_ci_high": m["wall_ci_high_s_b"] / m["wall_ci_low_s_a"],
        }
    ).assign(significant=lambda d: (d["ratio_ci_low"] > 1) | (d["ratio_ci_high"] < 1))


def _centre(m: pd.DataFrame) -> str:
    return "geometric-mean" if "tests" in m else "median"


def _interval_label(m: pd.DataFrame) -> str:
    """The gate's intervals are Bonferroni intervals, wider than 95% when it ran several tests."""
    if "tests" not in m or m.empty:
        return "95% interval"
    level = 100 * (1 - ALPHA / max(int(m["tests"].iloc[0]), 1))
    return f"{level:.2f}% interval (the gate's, Bonferroni)"


def _fig_compare(m: pd.DataFrame, label_a: str, label_b: str) -> Figure:
    colours = strategy_colours(m["strategy"])
    groups = list(m.groupby("workload", sort=False))
    heights = [0.75 + 0.4 * len(g) for _, g in groups]
    fig = new_figure(10, 1.6 + sum(heights))
    axes = fig.subplots(len(groups), 1, squeeze=False, sharex=True, height_ratios=heights)[:, 0]
    ratio_all = m["ratio"].to_numpy(float)
    lo_all = np.fmin(m["ratio_ci_low"].to_numpy(float), ratio_all)
    hi_all = np.fmax(m["ratio_ci_high"].to_numpy(float), ratio_all)
    for ax, (workload, g) in zip(axes, groups, strict=True):
        for i, (_, row) in enumerate(g.iterrows()):
            r = float(row["ratio"])
            lo = min(float(row["ratio_ci_low"]), r)
            hi = max(float(row["ratio_ci_high"]), r)
            c = colours[row["strategy"]]
            sig = bool(row["significant"])
            ax.errorbar(
                r,
                i,
                xerr=[[r - lo], [hi - r]],
                fmt="o",
                color=c,
                mfc=c if sig else "white",
                ms=7,
                capsize=3,
                lw=1.4,
            )
            verdict = ("slower" if r > 1 else "faster") if sig else "n.s."
            ax.text(hi, i, f"  {r:.3f}{TIMES} ({verdict})", va="center", fontsize=9)
        ax.axvline(1.0, color=IDEAL_COLOUR, lw=1.2)
        ax.set_yticks(range(len(g)), list(g["strategy"]))
        ax.set_ylim(len(g) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.set_title(wrap(str(workload), 110), loc="left")
    _ratio_axis(axes[-1], lo_all, hi_all)
    axes[-1].set_xlabel(f"wall time ratio B / A (< 1: B is faster){_scale_note(axes[-1])}")
    handles = [
        Line2D([], [], ls="", marker="o", color="#444444", label="significant difference"),
        Line2D(
            [], [], ls="", marker="o", color="#444444", mfc="white", label="not significant (n.s.)"
        ),
        Line2D([], [], color="#444444", marker="|", label=_interval_label(m)),
    ]
    legend_below(fig, handles)
    fig.suptitle(
        f"Ratio of {_centre(m)} wall times per configuration, B / A\n"
        + wrap(f"A: {label_a}    B: {label_b}", 120)
    )
    return fig


def _ratio_axis(ax: Axes, lo: np.ndarray, hi: np.ndarray) -> None:
    """Linear around 1 for small differences, log (symmetric around 1) for large ones."""
    finite = np.concatenate([lo, hi])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    span = float(np.max(np.abs(np.log(finite)))) if len(finite) else math.log(1.1)
    span = max(span, math.log(1.05))
    if span > math.log(2):
        ax.set_xscale("log")
        plain_log(ax.xaxis)
        ax.set_xlim(math.exp(-span * 1.3), math.exp(span * 1.5))
    else:
        left, right = min(1.0, float(finite.min())), max(1.0, float(finite.max()))
        pad = max(right - left, 0.02)
        ax.set_xlim(left - 0.12 * pad, right + 0.45 * pad)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _scale_note(ax: Axes) -> str:
    return ", log scale" if ax.get_xscale() == "log" else ""
