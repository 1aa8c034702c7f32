"""The claims check: every number a reading states is found in, or computed from, the run's
tables, and every strategy or workload a reading names is one its chart draws.

A number is accepted when, in the unit it is written in and to the precision it is written
with (half a unit of its last digit), it equals a value of the tables, or a ratio of two such
values (speed-ups, shares, "2.1x as long"). The values are every number of the trials and
summary tables, of the frames the experiment charts draw, and the statistics the readings
take of the requests and probes (mean, median, p99, max per workload and strategy).
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pandas as pd
from matplotlib.text import Text

from bench.present.charts import data
from bench.present.charts.registry import all_charts
from bench.present.charts.rendering import figures
from bench.present.report.readings import reading

NUMBER = re.compile(
    r"(?<![\w.=])(\d[\d,]*(?:\.\d+)?)\s?(µs|ms|min|s\b|%|\u00d7|/s|requests/s|cores?|of a core)?"
)
SCALE = {"µs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "%": 0.01}
CONSTANTS = {0.95}  # "at least 95% of the target", "95% CI": the report's own thresholds


def _frames(run) -> list[pd.DataFrame]:
    from bench.present.charts.experiments import blocking_table, gil_table, switch_table
    from bench.present.charts.openloop import open_loop_table

    out = [run.trials, run.summary]
    for make in (gil_table, blocking_table, switch_table, open_loop_table):
        with contextlib.suppress(KeyError, ValueError):
            out.append(make(run))
    out += _lessons_frames(run)
    ws = data.workloads(run)  # what the charts select: each workload's ideal and its rate
    out.append(pd.DataFrame([{"ideal_s": w.ideal_s, "ideal_rps": w.ideal_rps} for w in ws]))
    t = data.ok_trials(run)
    if not t.empty:
        num = t.select_dtypes("number")
        g = num.groupby([t["workload_id"], t["strategy"].astype(str)])
        out += [g.median(), g.mean(), g.max(), g.min()]
        out.append(
            (t["cpu_user_s"] + t["cpu_sys_s"])
            .groupby(t["strategy"].astype(str))
            .median()
            .to_frame()
        )
        cpu = num.assign(cpu=t["cpu_user_s"] + t["cpu_sys_s"]).groupby(
            [t["workload_id"], t["strategy"].astype(str)]
        )
        out.append(cpu.median())
    for frame, cols in ((run.requests, ("latency_s", "wait_s")), (run.probes, ("lag_s",))):
        if frame is None or frame.empty or t.empty:
            continue
        f = frame.astype({"trial_id": str}).merge(
            t[["trial_id", "workload_id"]].astype({"trial_id": str}), on="trial_id"
        )
        keys = [f["workload_id"], f["strategy"].astype(str)]
        if "kind" in f:
            keys.append(f["kind"].astype(str))
        for col in cols:
            if col not in f:
                continue
            x = f[col].clip(lower=0) if col == "wait_s" else f[col]
            for by in (keys, keys[:1] + keys[2:]):
                g = x.groupby(by)
                out += [
                    g.mean().to_frame(),
                    g.median().to_frame(),
                    g.quantile(0.99).to_frame(),
                    g.max().to_frame(),
                ]
    return out


def _lessons_frames(run) -> list[pd.DataFrame]:
    """What the lessons' readings compute from the trials their charts draw: each mode's gap
    to as_completed (and how much sooner its first response came), a result's wait behind its
    response, the jobs a TaskGroup cancelled, and
    the spinner's interval, its longest tick (the interval plus its lateness) and when it ended."""
    from bench.present.charts import lessons_data as ld

    out = []
    for faulty in (False, True):
        c = ld.consume_trials(run, faulty)
        if c.empty:
            continue
        c = c.assign(
            held_at_half_s=c["half_result_s"] - c["half_response_s"],
            n_cancelled=c["n_jobs"] - c["n_delivered"],
        )
        out.append(c.select_dtypes("number"))
        for _, g in c.groupby("strategy"):
            by_mode = g.set_index(g["consume"].astype(str))
            if "as_completed" in by_mode.index:
                for col in ("half_result_s", "first_response_s"):  # gaps and head starts
                    gap = by_mode[col] - by_mode.loc["as_completed", col]
                    out.append(gap.abs().to_frame())
    spinners = ld.spinner_trials(run)
    ticks = [s.longest(k) for s in spinners for k, _ in ld.SPINNER_KINDS]
    out.append(pd.DataFrame(ticks, columns=["longest_tick_s", "its_end_s"]))
    out.append(pd.DataFrame({"interval_s": [s.interval_s for s in spinners]}))  # the spec's
    return out


def candidates(run) -> tuple[np.ndarray, np.ndarray]:
    """The values of the tables, and the ratios a reading may state: two values of one
    column (a strategy against another, one rate against another) or the shares the
    readings take within a row (CPU time or the ideal over the wall time)."""
    values, ratios = [], []
    frames = _frames(run)
    for i, f in enumerate(frames):
        if f is None or len(f) == 0:
            continue
        num = f.select_dtypes("number")
        values.append(num.to_numpy(float).ravel())
        if i < 2 and len(num) > 60:  # the raw trials: their medians per group stand in
            continue
        for col in num.columns:
            v = np.unique(np.abs(num[col].to_numpy(float)))
            v = v[np.isfinite(v) & (v > 0)]
            if 1 < len(v) <= 300:
                ratios.append((v[:, None] / v[None, :]).ravel())
        for a, b in (("cpu", "wall_s"), ("ideal_s", "wall_s"), ("ideal_s", "wall_median_s")):
            if a in num and b in num:
                ratios.append((num[a] / num[b]).to_numpy(float))

    def clean(parts):
        v = np.concatenate(parts) if parts else np.array([])
        v = np.abs(v[np.isfinite(v)])
        return np.unique(v[v > 0])

    return clean(values), clean(ratios)


def _stated(text: str, unit: str | None) -> tuple[float, float]:
    """The value a number states, in base units, and half a unit of its last digit."""
    digits = text.replace(",", "")
    decimals = len(digits.split(".", 1)[1]) if "." in digits else 0
    scale = SCALE.get(unit or "", 1.0)
    return float(digits) * scale, 0.5 * 10**-decimals * scale * 1.0001


def _found(x: float, tol: float, values: np.ndarray, ratios: np.ndarray, ratio: bool) -> bool:
    if x == 0 or any(abs(x - c) <= tol for c in CONSTANTS):
        return True
    for pool in (values, ratios) if ratio else (values,):
        i = np.searchsorted(pool, x - tol)
        if i < len(pool) and pool[i] <= x + tol:
            return True
    return False


def _strip_labels(run, text: str) -> str:
    """The text without the configurations it names (a workload's label, a spinner trial's
    condition such as "CPU work python:20ms inline"): their numbers are the spec's, not claims."""
    from bench.present.charts import lessons_data as ld

    named = [w.label for w in data.workloads(run)] + [s.condition for s in ld.spinner_trials(run)]
    for label in sorted(named, key=len, reverse=True):
        text = text.replace(label, " ")
    text = re.sub(r"\b[NC]=\d+", " ", text)  # N and C named on their own
    text = re.sub(r"\bp\d+(?:\.\d+)?", " ", text)  # percentile names: p50, p99.9
    text = re.sub(r"\bPython \d+\.\d+t?", " ", text)
    return text


def drawn_texts(run) -> list[tuple[str, str | None, str]]:
    """Each chart the report would draw, as (kind, workload id, every text on it): drawn by
    ``charts.render``'s own ``figures``, and not saved (the claims are about what it says)."""
    return [
        (
            c.kind,
            d.workload_id,
            " ".join(t.get_text() for t in d.figure.findobj(Text)).replace("\n", " "),
        )
        for c in all_charts()
        for d in figures(c, run)
    ]


def unclaimed(run) -> list[str]:
    """What the readings say that the tables or the charts do not hold (empty: all true)."""
    values, ratios = candidates(run)
    names = sorted(set(run.trials["strategy"].astype(str)), key=len, reverse=True)
    labels = {w.label for w in data.workloads(run)}
    problems = []
    for kind, workload_id, drawn in drawn_texts(run):
        lines = reading(kind, run, workload_id)
        for line in lines:
            for m in NUMBER.finditer(_strip_labels(run, line)):
                number, unit = m.group(1), m.group(2)
                x, tol = _stated(number, unit)
                ratio = unit not in ("µs", "ms", "s", "min")
                if not (
                    ratio and float(number.replace(",", "")) <= 12 and "." not in number
                ) and not _found(x, tol, values, ratios, ratio):
                    problems.append(f"{kind}: {m.group(0)!r} in: {line}")
            said = line
            for name in names:  # longest first: asyncio_executor before asyncio
                if re.search(rf"\b{name}\b", said):
                    if not re.search(rf"\b{name}\b", drawn):
                        problems.append(
                            f"{kind}: names {name}, which its chart does not draw: {line}"
                        )
                    said = re.sub(rf"\b{name}\b", " ", said)
            for label in labels:
                if (
                    label in line
                    and label not in drawn
                    and label.replace(" ", "") not in drawn.replace(" ", "")
                ):
                    problems.append(f"{kind}: speaks of {label}, which its chart does not draw")
    return problems
