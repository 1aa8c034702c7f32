"""Readings of the GIL and blocking experiments' charts, from the frames the charts draw.

Each says what this run shows, with its numbers, and only claims a trend the numbers have:
the sentence about the GIL names the ratio it measured, whatever it is.
"""

from __future__ import annotations

import pandas as pd

from bench.present.charts.data import RunLike
from bench.present.charts.experiments import blocking_table, gil_table, switch_table
from bench.present.charts.registry import reads
from bench.present.charts.text import TIMES, fmt_s, fmt_x


def _at(
    table: pd.DataFrame, strategy: str, kind: str, ms: float, c: int, executor: str = "thread"
) -> pd.Series | None:
    hit = table[
        (table["strategy"] == strategy)
        & (table["kind"] == kind)
        & (table["cpu_ms"] == ms)
        & (table["concurrency"] == c)
        & (table["executor"] == executor)
    ]
    return hit.iloc[0] if len(hit) else None


def _gil_threads(table: pd.DataFrame, ms: float, c: int) -> str:
    py = _at(table, "threadpool", "python", ms, c)
    hl = _at(table, "threadpool", "hashlib", ms, c)
    if py is None or hl is None:
        return ""
    base = py["baseline"]
    return (
        f"At {ms:g} ms of CPU work per flag and C={c}, threads reached "
        f"{fmt_x(py['speedup'])} {base} with python work (ideal {fmt_x(py['ideal_speedup'])}: "
        f"the GIL leaves the work one core) and {fmt_x(hl['speedup'])} with hashlib work "
        f"(ideal {fmt_x(hl['ideal_speedup'])}), so hashlib threads ran "
        f"{hl['speedup'] / py['speedup']:.2f}{TIMES} as fast as python threads."
    )


def _gil_others(table: pd.DataFrame, ms: float, c: int) -> str:
    parts = []
    pp = _at(table, "processpool", "python", ms, c)
    if pp is not None:
        parts.append(
            f"processpool reached {fmt_x(pp['speedup'])} with python work "
            f"(ideal {fmt_x(pp['ideal_speedup'])}, start-up and pickling included)"
        )
    at_1, at_c = (_at(table, "asyncio", "python", ms, k) for k in (1, c))
    ex = _at(table, "asyncio_executor", "python", ms, c)
    if at_1 is not None and at_c is not None:
        text = (
            f"asyncio with the work inline went from {fmt_x(at_1['speedup'])} at "
            f"C=1 to {fmt_x(at_c['speedup'])} at C={c}, its loop lag p99 "
            f"{fmt_s(at_c['loop_lag_p99_s'])}"
        )
        if ex is not None:
            text += f" against {fmt_s(ex['loop_lag_p99_s'])} through its executor"
        parts.append(text)
    return ("With python work at that cost, " + "; ".join(parts) + ".") if parts else ""


@reads("gil")
def _gil(run: RunLike, _wid: str | None) -> list[str]:
    table = gil_table(run)
    if table.empty:
        return []
    ms = float(table["cpu_ms"].max())
    c = int(table["concurrency"].max())
    first = _gil_threads(table, ms, c)
    if not first:  # no thread pool in this run: the model that gained most instead
        top = table[(table["cpu_ms"] == ms) & (table["concurrency"] == c)]
        best = top.loc[top["speedup"].idxmax()]
        first = (
            f"At {ms:g} ms of {best['kind']} work per flag and C={c}, {best['model']} "
            f"gained most: {fmt_x(best['speedup'])} {best['baseline']} (ideal "
            f"{fmt_x(best['ideal_speedup'])})."
        )
    return [first, _gil_others(table, ms, c)]


@reads("blocking")
def _blocking(run: RunLike, _wid: str | None) -> list[str]:
    table = blocking_table(run)
    if table.empty:
        return []
    top = table[table["save_delay_ms"] == table["save_delay_ms"].max()].sort_values("wall_s")
    slow, fast = top.iloc[-1], top.iloc[0]

    def said(r: pd.Series) -> str:
        return (
            f"{r['strategy']} took {fmt_s(r['wall_s'])} (loop lag p99 "
            f"{fmt_s(r['loop_lag_p99_s'])}, {r['stuck_share']:.0%} of its requests stuck "
            "behind a stalled loop)"
        )

    first = f"With each write blocking {slow['save_delay_ms']:g} ms, {said(slow)}"
    first += f" and {said(fast)}." if fast["strategy"] != slow["strategy"] else "."
    zero = table[table["save_delay_ms"] == table["save_delay_ms"].min()].set_index("strategy")
    growth = []
    for r in (slow, fast):
        if r["strategy"] in zero.index:
            was = zero.loc[r["strategy"], "wall_s"]
            growth.append(f"{fmt_x(r['wall_s'] / was)} with {r['strategy']} (from {fmt_s(was)})")
    second = ""
    if growth:
        second = (
            f"From {zero['save_delay_ms'].iloc[0]:g} to {slow['save_delay_ms']:g} ms per "
            "write, wall time grew " + ", ".join(dict.fromkeys(growth)) + "."
        )
    return [first, second]


@reads("switch_interval")
def _switch_interval(run: RunLike, _wid: str | None) -> list[str]:
    table = switch_table(run)
    if table.empty:
        return []
    busy = table[
        table["background_threads"]
        == table.loc[table["background_threads"] > 0, "background_threads"].min()
    ]
    lo, hi = busy.iloc[0], busy.iloc[-1]
    k = int(lo["background_threads"])
    ref = table[table["background_threads"] == 0]

    def alone(col: str) -> str:
        return f" ({fmt_s(ref.iloc[0][col])} without it)" if len(ref) else ""

    first = (
        f"With {k} CPU-bound thread{'s' if k > 1 else ''} beside the downloads, request "
        f"latency p99 went from {fmt_s(lo['latency_p99_s'])} at a "
        f"{lo['switch_interval_s'] * 1e3:g} ms switch interval to "
        f"{fmt_s(hi['latency_p99_s'])} at {hi['switch_interval_s'] * 1e3:g} ms"
        f"{alone('latency_p99_s')}, and the heartbeat's p99 delay from "
        f"{fmt_s(lo['heartbeat_p99_s'])} to {fmt_s(hi['heartbeat_p99_s'])}"
        f"{alone('heartbeat_p99_s')}."
    )
    second = (
        f"The background thread got {lo['background_share'] / k:.0%} of a core at "
        f"{lo['switch_interval_s'] * 1e3:g} ms and {hi['background_share'] / k:.0%} at "
        f"{hi['switch_interval_s'] * 1e3:g} ms"
    )
    if len(ref):
        base = float(ref["throughput_rps"].median())
        second += (
            f", while the downloads ran at {lo['throughput_rps'] / base:.0%} and "
            f"{hi['throughput_rps'] / base:.0%} of their throughput alone"
        )
        traded = (
            hi["background_share"] > lo["background_share"]
            and hi["throughput_rps"] < lo["throughput_rps"]
        )
        second += (
            ": the longer interval gave the spinner CPU time and took it from the I/O threads."
            if traded
            else "."
        )
    else:
        second += "."
    return [first, second]
