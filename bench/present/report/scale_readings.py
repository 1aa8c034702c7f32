"""The readings of the charts of several interpreters, client libraries and event loops, and
of scaling out over processes (``interpreters``, ``client_cpu``, ``scale_out``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.present.charts.axes import client_cpu, interpreter_grids, scale_out
from bench.present.charts.data import RunLike
from bench.present.charts.registry import reads
from bench.present.charts.text import DASH, fmt_x
from bench.present.report.basic_readings import _rate
from bench.results import stats


@reads("interpreters")
def _interpreters(run: RunLike, _wid: str | None) -> list[str]:
    grids = interpreter_grids(run)
    if not grids:
        return []
    gaps = []  # per workload and strategy: slowest interpreter over fastest, with its interval
    for grid in grids:
        for strategy in grid.efficiency.index:
            walls = {
                p: grid.walls[(strategy, p)] for p in grid.pythons if (strategy, p) in grid.walls
            }
            if len(walls) < 2:
                continue
            medians = {p: float(np.median(w)) for p, w in walls.items()}
            fast = min(medians, key=medians.__getitem__)
            slow = max(medians, key=medians.__getitem__)
            ratio, lo, hi = stats.ratio_ci(walls[slow].tolist(), walls[fast].tolist())
            gaps.append((lo > 1, ratio, lo, hi, strategy, fast, slow, grid.label))
    if not gaps:
        return []
    supported = [g for g in gaps if g[0]]
    _, ratio, lo, hi, strategy, fast, slow, label = max(supported or gaps, key=lambda g: g[1])
    if supported:
        first = (
            f"{label}: {strategy} took {fmt_x(ratio)} as long on Python {slow} as on "
            f"{fast} (95% CI {lo:.3g}{DASH}{hi:.3g}), the largest difference between "
            f"interpreters that the repeats support"
        )
        others = len(supported) - 1
        first += (
            f"; {others} other strategy/workload pair(s) differ measurably too."
            if others
            else "; every other difference is within noise."
        )
    elif np.isnan(lo):
        first = (
            f"The largest gap between interpreters was {strategy}'s on {label}, "
            f"{fmt_x(ratio)} between Python {fast} and {slow}, but one repeat gives no "
            f"interval: whether it is more than noise needs more repeats."
        )
    else:
        first = (
            f"No strategy ran measurably faster on one interpreter than on another: the "
            f"largest gap, {strategy} on {label} at {fmt_x(ratio)} between Python {fast} "
            f"and {slow}, is within noise (95% CI {lo:.3g}{DASH}{hi:.3g})."
        )
    cells = pd.concat([g.efficiency.stack().rename("e") for g in grids]).dropna()
    if cells.empty:
        return [first]
    per_python = cells.groupby(level=1).median().sort_values()
    best, worst = cells.idxmax(), cells.idxmin()
    second = (
        "Median efficiency over every strategy and workload: "
        + ", ".join(f"Python {p} {e:.2f}" for p, e in per_python.iloc[::-1].items())
        + f"; highest cell {best[0]} on {best[1]} ({cells.max():.2f}), lowest {worst[0]} on "
        f"{worst[1]} ({cells.min():.2f})."
    )
    return [first, second]


@reads("client_cpu")
def _client_cpu(run: RunLike, _wid: str | None) -> list[str]:
    panels = client_cpu(run)
    if not panels:
        return []
    label, rows = panels[0]
    best, worst = rows.iloc[0], rows.iloc[-1]
    first = (
        f"{label}: the least client CPU per request was {_combo(best)}'s, "
        f"{best['median']:.3g} ms; the most {_combo(worst)}'s, {worst['median']:.3g} ms "
        f"({fmt_x(worst['median'] / best['median'])})."
    )
    gains: list[tuple[float, tuple[str, str]]] = []
    for _, rows in panels:
        on = rows[rows["loop"] == "uvloop"].set_index(["strategy", "client"])["median"]
        off = rows[rows["loop"] == "asyncio"].set_index(["strategy", "client"])["median"]
        both = on.index.intersection(off.index)
        gains.extend((off[k] / on[k], k) for k in both if on[k] > 0)
    if not gains:
        return [first]
    lo, hi = min(gains), max(gains)
    span = (
        f"{fmt_x(lo[0])} ({', '.join(lo[1])})"
        if lo == hi
        else f"from {fmt_x(lo[0])} ({', '.join(lo[1])}) to {fmt_x(hi[0])} ({', '.join(hi[1])})"
    )
    return [
        first,
        f"Client CPU per request on asyncio's own event loop over that on uvloop: {span}.",
    ]


def _combo(row: pd.Series) -> str:
    loop = f" on {row['loop']}" if row["loop"] else ""
    return f"{row['strategy']} with {row['client'] or 'its own client'}{loop}"


@reads("scale_out")
def _scale_out(run: RunLike, _wid: str | None) -> list[str]:
    lines = []
    for label, rows in scale_out(run)[:2]:
        top_c = rows["concurrency"].max()
        at = rows[rows["concurrency"] == top_c].set_index("strategy")["throughput_median_rps"]
        if "asyncio" not in at or len(at) < 2:
            continue
        base = at["asyncio"]
        others = "; ".join(
            f"{name} {_rate(v)} ({fmt_x(v / base)})" for name, v in at.items() if name != "asyncio"
        )
        lines.append(f"{label}, C={top_c}: asyncio reached {_rate(base)}; {others}.")
    return lines
