"""The reading of the free-threading chart, from the tables it draws.

It names the interpreters the run had and the ratios it measured, whatever they are: threads
on the free-threaded build against the GIL build, then what one thread and the I/O path pay.
"""

from __future__ import annotations

import pandas as pd

from bench.present.charts.data import RunLike
from bench.present.charts.freethreading import BASELINE, FreeThreading, free_threading_tables
from bench.present.charts.registry import reads
from bench.present.charts.text import TIMES, fmt_s, fmt_x


def _threads(ft: FreeThreading, c: int) -> str:
    sp = ft.speedups
    parts = []
    ideals = sp[(sp["strategy"] == "threadpool") & (sp["concurrency"] == c)]["ideal"]
    for kind in ("python", "hashlib"):
        said = []
        for python in ft.interpreters:
            hit = sp[
                (sp["interpreter"] == python)
                & (sp["strategy"] == "threadpool")
                & (sp["kind"] == kind)
                & (sp["concurrency"] == c)
            ]
            if len(hit):
                said.append(f"{fmt_x(float(hit['speedup'].iloc[0]))} on {python}")
        if said:
            parts.append(f"with {kind} work " + ", ".join(said))
    if not parts:
        return ""
    return (
        f"Threads at C={c} ({ft.cores} cores, ideal {fmt_x(float(ideals.max()))}) reached, "
        f"against {BASELINE} on the same Python: " + "; ".join(parts) + "."
    )


def _costs(ft: FreeThreading) -> str:
    """Single-thread cost and the I/O path, free-threaded builds against the GIL ones."""
    threaded = [p for p in ft.interpreters if "t" in p.split(" ")[0]]
    plain = [p for p in ft.interpreters if p not in threaded]
    if not threaded or not plain:
        return ""
    ft_py, gil_py = threaded[0], plain[-1]
    one = ft.single

    def wall(python: str, kind: str) -> float:
        hit = one[(one["interpreter"] == python) & (one["kind"] == kind)]
        return float(hit["wall_s"].iloc[0]) if len(hit) else float("nan")

    parts = [
        f"{kind} {fmt_s(wall(ft_py, kind))} against {fmt_s(wall(gil_py, kind))} "
        f"({wall(ft_py, kind) / wall(gil_py, kind):.2f}{TIMES})"
        for kind in ("python", "hashlib")
        if pd.notna(wall(ft_py, kind) / wall(gil_py, kind))
    ]
    text = f"One thread (sequential) on {ft_py} against {gil_py}: " + ", ".join(parts)
    io = ft.io[ft.io["strategy"] == BASELINE].set_index("interpreter")["throughput_rps"]
    if ft_py in io and gil_py in io:
        text += (
            f"; the I/O path alone, {io[ft_py]:.0f} against {io[gil_py]:.0f} requests per "
            f"second ({io[ft_py] / io[gil_py]:.2f}{TIMES})"
        )
    return text + "."


@reads("free_threading")
def _free_threading(run: RunLike, _wid: str | None) -> list[str]:
    ft = free_threading_tables(run)
    if ft is None:
        return []
    cs = sorted(ft.speedups["concurrency"].unique())
    c = max([x for x in cs if x <= ft.cores] or cs[:1])
    return [_threads(ft, int(c)), _costs(ft)]
