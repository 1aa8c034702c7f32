"""The strategy x interpreter heatmap: what changing the Python under a client does to it."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from bench.present.charts.axes import InterpreterGrid, has_interpreters, interpreter_grids
from bench.present.charts.data import RunLike
from bench.present.charts.registry import chart
from bench.present.charts.style import new_figure, wrap
from bench.present.charts.text import fmt_s

CMAP = "viridis"
MISSING_COLOUR = "#DDDDDD"
MAX_WIDTH_IN = 16.0  # of all the cells together, beside the labels and the colour bar


@chart(
    kind="interpreters",
    title="Efficiency per strategy and interpreter",
    stem="interpreters",
    order=25,
    when=has_interpreters,
)
def fig_interpreters(run: RunLike) -> Figure | None:
    """One heatmap per workload: rows are strategies, columns interpreters, colour and number
    the median efficiency (ideal / wall time), the median wall time beneath."""
    grids = interpreter_grids(run)
    values = [v for g in grids for v in g.efficiency.to_numpy(float).ravel() if math.isfinite(v)]
    if not values:
        return None
    norm = Normalize(vmin=0.0, vmax=max(1.0, max(values)))
    columns = sum(len(g.pythons) for g in grids)
    per_column = min(1.35, MAX_WIDTH_IN / columns)  # many interpreters: narrower cells
    widths = [per_column * len(g.pythons) for g in grids]
    rows = len(grids[0].efficiency.index)  # every panel has the same rows
    fig = new_figure(max(7.5, sum(widths) + 3.0), 2.1 + 0.62 * rows)
    axes = fig.subplots(1, len(grids), squeeze=False, width_ratios=widths, sharey=True)[0]
    images = [
        _panel(ax, grid, norm, title_chars=int(12 * width))
        for ax, grid, width in zip(axes, grids, widths, strict=True)
    ]
    fig.colorbar(
        images[-1],
        ax=list(axes),
        label="efficiency (ideal / median wall time)",
        shrink=0.9,
        pad=0.02,
    )
    fig.suptitle(
        "Efficiency per strategy and interpreter (each cell: median efficiency, median wall time)"
    )
    return fig


def _panel(ax: Axes, grid: InterpreterGrid, norm: Normalize, title_chars: int) -> AxesImage:
    eff = grid.efficiency.to_numpy(float)
    shown = np.ma.masked_invalid(eff)
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad=MISSING_COLOUR)
    image = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto")
    strategies, pythons = list(grid.efficiency.index), grid.pythons
    for i, strategy in enumerate(strategies):
        for j, python in enumerate(pythons):
            walls = grid.walls.get((strategy, python))
            colour = "#555555"
            if walls is None:
                text = "not run"
            elif not math.isfinite(eff[i, j]):  # no ideal to compare with (latency 0)
                text = f"n/a\n{fmt_s(float(np.median(walls)))}"
            else:
                text = f"{eff[i, j]:.2f}\n{fmt_s(float(np.median(walls)))}"
                colour = "white" if norm(eff[i, j]) < 0.6 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=colour, linespacing=1.3)
    ax.set_xticks(range(len(pythons)), [f"Python {p}" for p in pythons])
    ax.set_yticks(range(len(strategies)), strategies)
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(wrap(grid.label, title_chars), loc="left", fontsize=10)
    return image
