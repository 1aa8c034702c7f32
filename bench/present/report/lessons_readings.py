"""Readings of the lessons' charts (consume modes, the first error, the spinner), from the
same trials the charts draw (bench.present.charts.lessons_data). Each names the numbers it measured
and claims only the order they have."""

from __future__ import annotations

import math

import pandas as pd

from bench.present.charts import lessons_data as ld
from bench.present.charts.data import RunLike
from bench.present.charts.registry import reads
from bench.present.charts.text import fmt_s


def _pairs(t: pd.DataFrame, a: str, b: str) -> list[tuple[str, pd.Series, pd.Series]]:
    """Per strategy that ran both modes ``a`` and ``b``: (strategy, row of a, row of b)."""
    out = []
    for name, g in t.groupby("strategy", sort=False):
        by = {str(r["consume"]): r for _, r in g.iterrows()}
        if a in by and b in by:
            out.append((str(name), by[a], by[b]))
    return out


def _later(x: float, y: float) -> str:
    """How much later x was than y, in words true of the sign."""
    gap = x - y
    if abs(gap) < 0.0005:
        return "at the same moment as"
    return f"{fmt_s(abs(gap))} {'later' if gap > 0 else 'earlier'} than"


@reads("result_times")
def _result_times(run: RunLike, _wid: str | None) -> list[str]:
    t = ld.consume_trials(run, faulty=False)
    pairs = _pairs(t, "map", "as_completed")
    if not pairs:
        return []
    parts = []
    for name, m, a in pairs:
        text = (
            f"{_later(m['half_result_s'], a['half_result_s'])} as_completed with {name} "
            f"({fmt_s(m['half_result_s'])} against {fmt_s(a['half_result_s'])})"
        )
        start = m["first_response_s"] - a["first_response_s"]
        if (m["half_result_s"] < a["half_result_s"]) and start < 0:
            text += f", its first response having come {fmt_s(-start)} sooner in the map trial"
        parts.append(text)
    held_map = [m["half_result_s"] - m["half_response_s"] for _, m, _ in pairs]
    held_ac = [a["half_result_s"] - a["half_response_s"] for _, _, a in pairs]
    return [
        f"In this run map delivered its median result {'; '.join(parts)}.",
        f"Within each trial, map handed over its median result {_span(held_map)} after the "
        f"median response had finished, as_completed {_span(held_ac)} after.",
    ]


def _span(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return fmt_s(lo) if fmt_s(lo) == fmt_s(hi) else f"{fmt_s(lo)} to {fmt_s(hi)}"


@reads("delivery")
def _delivery(run: RunLike, _wid: str | None) -> list[str]:
    t = ld.consume_trials(run, faulty=False)
    if t.empty:
        return []
    modes = t["consume"].astype(str)
    parts = []
    for mode in ("map", "gather", "taskgroup"):
        g = t[modes == mode]
        if len(g):
            w = g.loc[g["held_max_s"].idxmax()]
            parts.append(
                f"up to {fmt_s(w['held_max_s'])} with {mode} ({w['strategy']}; "
                f"{fmt_s(w['held_mean_s'])} per job on average)"
            )
    ac = t[modes == "as_completed"]
    if len(ac):
        parts.append(f"at most {fmt_s(ac['held_max_s'].max())} with as_completed")
    if not parts:
        return []
    return [f"Finished responses waited to be handed over {'; '.join(parts)}."]


@reads("first_error")
def _first_error(run: RunLike, _wid: str | None) -> list[str]:
    t = ld.consume_trials(run, faulty=True)
    if t.empty:
        return []
    lines = []
    for _, row in t.iterrows():
        if str(row["consume"]) != "taskgroup":
            continue
        final = ld.final_requests(run, str(row["trial_id"]))
        cancelled = int((final["error_kind"].astype(str) == "group_cancelled").sum())
        errors = int(row["n_error"]) - cancelled
        lines.append(
            f"With a TaskGroup ({row['strategy']}), the first error cancelled {cancelled} of "
            f"{int(row['n_jobs'])} jobs: {int(row['n_ok'])} results and "
            f"{errors} {'error' if errors == 1 else 'errors'} reached the caller, at "
            f"{fmt_s(row['first_result_s'])} when the group ended."
        )
        break
    others = t[t["consume"].astype(str) != "taskgroup"]
    if len(others):
        o = others.iloc[0]
        lines.append(
            f"{ld.mode_label(str(o['consume']))} counted {int(o['n_error'])} errors and went on "
            f"to {int(o['n_ok'])} results; every mode's requests matched the server's count: "
            f"{'yes' if bool(t['counts_match'].all()) else 'no'}."
        )
    return lines


_NOUN = {"spinner_loop": "coroutine", "spinner_thread": "thread"}


@reads("spinner")
def _spinner(run: RunLike, _wid: str | None) -> list[str]:
    trials = ld.spinner_trials(run)
    found = [
        (*s.longest(kind), s, kind, what)
        for s in trials
        for kind, what in ld.SPINNER_KINDS
        if kind in s.ticks
    ]
    found = [f for f in found if not math.isnan(f[0])]
    if not found:
        return []
    took, end, s, kind, _ = max(found, key=lambda f: f[0])
    first = end == s.ticks[kind][0][0]
    when = "its first tick" if first else f"the tick that ended {fmt_s(end)} into the trial"
    cause = s.condition
    if first and "(processes)" in cause:
        cause += ", the first call of which starts the executor's processes"
    calm, _, c, calm_kind, _ = min(found, key=lambda f: f[0])
    return [
        f"The longest freeze: the spinner {_NOUN[kind]}, due every {fmt_s(s.interval_s)}, "
        f"waited {fmt_s(took)} for {when} ({s.strategy}, {cause}).",
        f"The steadiest: the spinner {_NOUN[calm_kind]} with {c.strategy}, {c.condition}, "
        f"whose longest tick took {fmt_s(calm)}.",
    ]
