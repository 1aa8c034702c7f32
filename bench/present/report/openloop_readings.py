"""Readings of the open-loop charts, from the medians the charts draw.

Each names its numbers; a knee is only claimed where the run shows one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from bench.present.charts.data import RunLike, strategies
from bench.present.charts.openloop import omission_percentile, open_loop_table
from bench.present.charts.registry import reads
from bench.present.charts.text import TIMES, fmt_s

KEEPING_UP = 0.95  # achieved over target at or above this: the model carried the load


def _knee(d: pd.DataFrame) -> tuple[float | None, float | None]:
    """The highest rate carried, and the first one that was not (None when none was)."""
    carried = d["achieved_rate_rps"] >= KEEPING_UP * d["target_rate_rps"]
    last = d.loc[carried, "rate"].max() if carried.any() else None
    beyond = d.loc[~carried & (d["rate"] > (last or 0)), "rate"]
    return last, (beyond.min() if len(beyond) else None)


def _by_strategy(run: RunLike, table: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each strategy's rows by rate, in the run's strategy order."""
    for name in strategies(run):
        d = table[table["strategy"] == name]
        if len(d):
            yield name, d.sort_values("rate")


@reads("openloop_latency")
def _latency(run: RunLike, _wid: str | None) -> list[str]:
    table = open_loop_table(run)
    if table.empty:
        return []
    low, high = table["rate"].min(), table["rate"].max()
    # the highest percentile the chart draws at every rate (bench.charts.openloop masks the
    # ones a trial's requests cannot state)
    label = next(
        (t for t in ("p99", "p90", "p50") if table[f"latency_corrected_{t}_s"].notna().all()),
        None,
    )
    if label is None:
        return []
    col = f"latency_corrected_{label}_s"
    parts = []
    for name, d in _by_strategy(run, table):
        first, last = d.iloc[0], d.iloc[-1]
        deeper = last["latency_corrected_p99_9_s"]
        parts.append(
            f"{name} {fmt_s(first[col])} at {first['rate']:g}/s "
            f"to {fmt_s(last[col])} at {last['rate']:g}/s"
            + (f" (p99.9 {fmt_s(deeper)})" if deeper == deeper else "")
        )
    capacity = table["capacity_rps"].iloc[0]
    return [
        f"Corrected {label} from {low:g} to {high:g} arrivals per second: "
        + "; ".join(parts)
        + ".",
        f"C requests in flight carry at most {capacity:,.0f}/s at this latency; past a "
        "model's knee, queued arrivals wait ever longer, so the corrected percentiles "
        "climb with the length of the run.",
    ]


@reads("openloop_omission")
def _omission(run: RunLike, _wid: str | None) -> list[str]:
    table = open_loop_table(run)
    if table.empty:
        return []
    tail = omission_percentile(table)  # the percentile the chart compares
    if tail is None:
        return []
    parts = []
    for name, d in _by_strategy(run, table):
        worst = d.loc[d["understated"].idxmax()]
        parts.append(
            f"{name} at {worst['rate']:g}/s "
            f"{fmt_s(worst[f'latency_uncorrected_{tail}_s'])} against "
            f"{fmt_s(worst[f'latency_corrected_{tail}_s'])} "
            f"({worst['understated']:.1f}{TIMES})"
        )
    return [
        f"The {tail} from the actual start understates the {tail} from the scheduled arrival "
        "most: " + "; ".join(parts) + "."
    ]


@reads("openloop_rate")
def _rate(run: RunLike, _wid: str | None) -> list[str]:
    table = open_loop_table(run)
    if table.empty:
        return []
    parts = []
    for name, d in _by_strategy(run, table):
        last, beyond = _knee(d)
        top = d["achieved_rate_rps"].max()
        if beyond is None:
            parts.append(f"{name} kept up with every rate (up to {d['rate'].max():g}/s)")
        elif last is None:
            parts.append(
                f"{name} fell behind from {d['rate'].min():g}/s, carrying at most {top:,.0f}/s"
            )
        else:
            parts.append(
                f"{name} kept up to {last:g}/s, fell behind at {beyond:g}/s and "
                f"carried at most {top:,.0f}/s"
            )
    return [f"Keeping up means at least {KEEPING_UP:.0%} of the target: " + "; ".join(parts) + "."]
