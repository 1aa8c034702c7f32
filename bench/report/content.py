"""What the report says about a run: one neutral ``Report`` of text, tables and charts.

Everything here comes from the run's tables and ``meta.json``; ``bench.report.render``
writes the result as HTML and as Markdown.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench.charts import Rendered
from bench.charts.data import RunLike, baseline_of, ok_trials, summary, workloads
from bench.charts.style import strategy_order
from bench.charts.text import DASH, IDEAL_NOTE, TIMES, fmt_s
from bench.report.model import ChartEntry, Report, Table
from bench.report.readings import reading
from bench.stats import MIN_SAMPLES

# The collector's bottleneck labels (bench/collect.py) in words.
BOTTLENECK_WORDS = {
    "client_cpu": "client-CPU-bound",
    "gil": "GIL-bound (its threads queue for the GIL)",
    "server": "server-bound",
    "errors": "error-bound (timeouts and failures set the pace)",
    "mixed": "bound by no single thing (mixed)",
}


def build_report(run: RunLike, rendered: list[Rendered]) -> Report:
    """The report of ``run``, with ``rendered`` (from ``bench.charts.render``) as its charts."""
    meta = run.meta or {}
    s = summary(run)
    run_id = str(meta.get("run_id", Path(run.path).name))
    suite = str(meta.get("suite", ""))
    return Report(
        title=f"flagbench report: {suite or 'run'} ({run_id})",
        overview=_overview(run),
        warnings=_warnings(run),
        summary=_summary_tables(run),
        charts=[ChartEntry(r.title, tuple(reading(r.kind, run, r.workload_id)), r.path("png"))
                for r in rendered],
        command=_command(meta),
        metadata=_metadata(run),
        packages=sorted((str(k), str(v)) for k, v in (meta.get("packages") or {}).items()),
        summary_note=_summary_note(baseline_of(s)) if len(s) else "",
    )


def _summary_note(baseline: str) -> str:
    return ("Median wall time over the repeats; the 95% confidence interval of the mean "
            f"(Student t); the ideal; speed-up against {baseline} on the same workload (with its "
            "interval); efficiency = ideal / wall (median); final errors per trial (median). "
            + IDEAL_NOTE)


def _overview(run: RunLike) -> list[str]:
    meta = run.meta or {}
    t = run.trials
    if len(t):
        n_trials, n_failed = len(t), int((t["status"].astype(str) != "ok").sum())
    else:
        n_trials, n_failed = int(meta.get("n_trials", 0)), int(meta.get("n_failed", 0))
    n_workloads = len(workloads(run))
    strategies = strategy_order(t["strategy"].astype(str)) if len(t) else []
    duration = _duration(meta.get("started"), meta.get("ended"))
    lines = [
        f"{_plural(n_trials, 'trial')} ({n_failed} failed) of {_plural(len(strategies), 'strategy')}"
        + (f" ({', '.join(strategies)})" if strategies else "")
        + f" on {_plural(n_workloads, 'workload')}"
        + (f", run in {duration}" if duration else "") + ".",
    ]
    spec = meta.get("spec") if isinstance(meta.get("spec"), dict) else {}
    if spec.get("description"):
        lines.insert(0, f"Suite {meta.get('suite', '')}: {spec['description']}.")
    if meta.get("started"):
        lines.append(f"Started {meta['started']}, on {meta.get('platform', 'an unknown machine')}"
                     f" with {meta.get('cpu_count', '?')} CPUs.")
    return lines


def _plural(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def _duration(start: Any, end: Any) -> str:
    try:
        a = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        b = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return ""
    return fmt_s((b - a).total_seconds())


def _warnings(run: RunLike) -> list[str]:
    meta = run.meta or {}
    out = []
    if meta.get("complete") is False:
        out.append(f"The run is incomplete ({meta.get('stopped') or 'interrupted'}); finish it with "
                   f"`flagbench suite {meta.get('suite', 'SUITE')} --resume {run.path}`.")
    load, cpus = _load(meta), meta.get("cpu_count")
    if load is not None and isinstance(cpus, int) and load > cpus:
        out.append(f"The machine was busy when the run started (load average {load:.1f} on "
                   f"{cpus} CPUs): timings may be noisier and slower than on a quiet machine.")
    t = run.trials.copy()
    if len(t):
        t["strategy"] = t["strategy"].astype(str)
        failed = t[t["status"].astype(str) != "ok"]
        for r in failed.itertuples(index=False):
            out.append(f"Failed trial {r.trial_id} ({r.strategy}, {r.workload}, repeat "
                       f"{r.repeat}): {r.failure or 'no reason recorded'}.")
        ok = t[t["status"].astype(str) == "ok"]
        bad = ok[~ok["counts_match"].fillna(False).astype(bool)]
        for r in bad.itertuples(index=False):
            out.append(f"Client and server counts differ in trial {r.trial_id} "
                       f"({r.strategy}, {r.workload}): the client made "
                       f"{_count(r.n_requests)} requests, the server saw "
                       f"{_count(r.server_requests)}.")
    s = summary(run)
    if len(s):
        shaky = s[s["unstable"].fillna(False).astype(bool)]
        few = shaky["n"] < MIN_SAMPLES
        for workload, g in shaky[~few].groupby("workload", sort=False):
            items = ", ".join(f"{r.strategy} (CV {r.wall_cv:.1%}, {r.n} repeats)"
                              for r in g.itertuples(index=False))
            out.append(f"Unstable on {workload}: {items}; the repeats disagree, so treat "
                       "these medians with care (more repeats or a quieter machine help).")
        for workload, g in shaky[few].groupby("workload", sort=False):
            items = ", ".join(f"{r.strategy} ({r.n})" for r in g.itertuples(index=False))
            out.append(f"Too few repeats to judge stability on {workload}: {items}; at least "
                       f"{MIN_SAMPLES} are needed, so these medians are marked unstable.")
    if len(s):
        labels = s["bottleneck"].fillna("").astype(str)
        counts = labels[labels != ""].value_counts()
        if len(counts):
            out.append("Bottleneck labels: " + ", ".join(f"{k} ({v} configuration"
                                                         f"{'s' if v != 1 else ''})"
                                                         for k, v in counts.items()) + ".")
        for r in s[~labels.isin(["", "latency"])].itertuples(index=False):
            what = BOTTLENECK_WORDS.get(str(r.bottleneck), f"{r.bottleneck}-bound")
            out.append(f"{r.strategy} on {r.workload} is {what}, not latency-bound.")
    return out


def _count(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def _load(meta: dict[str, Any]) -> float | None:
    """The 1-minute load average when the run started, if the harness recorded it."""
    value = meta.get("loadavg_at_start")
    try:
        return float(value[0] if isinstance(value, (list, tuple)) else value)
    except (TypeError, ValueError, IndexError):
        return None


def _summary_tables(run: RunLike) -> list[Table]:
    s = summary(run)
    if s.empty:
        return []
    header = ("strategy", "median wall", "95% CI of mean", "ideal", "speed-up", "efficiency",
              "errors", "bottleneck", "unstable")
    tables = []
    for w in workloads(run):
        g = s[s["workload_id"] == w.workload_id]
        if g.empty:
            continue
        order = {name: i for i, name in enumerate(strategy_order(g["strategy"]))}
        g = g.sort_values("strategy", key=lambda c: c.map(order))
        rows = tuple(_summary_row(r) for _, r in g.iterrows())
        numeric = (False, True, True, True, True, True, True, False, False)
        tables.append(Table(w.label, header, rows, numeric))
    return tables


def _summary_row(r: pd.Series) -> tuple[str, ...]:
    def num(v: Any, fmt: str) -> str:
        return "n/a" if pd.isna(v) else format(float(v), fmt)

    sp = r["speedup"]
    speed = "n/a" if pd.isna(sp) else f"{float(sp):.2f}{TIMES}"
    lo, hi = r["speedup_ci_low"], r["speedup_ci_high"]
    if r["strategy"] == r["baseline"] and speed != "n/a":
        speed = "baseline"
    elif speed != "n/a" and not (pd.isna(lo) or pd.isna(hi)):
        speed += f" ({float(lo):.2f}{DASH}{float(hi):.2f})"
    return (
        str(r["strategy"]),
        fmt_s(float(r["wall_median_s"])),
        f"{fmt_s(float(r['wall_ci_low_s']))} {DASH} {fmt_s(float(r['wall_ci_high_s']))}",
        "n/a" if pd.isna(r["ideal_s"]) else fmt_s(float(r["ideal_s"])),
        speed,
        num(r["efficiency_median"], ".2f"),
        num(r["n_error_median"], "g"),
        "" if pd.isna(r["bottleneck"]) else str(r["bottleneck"]),
        "yes" if not pd.isna(r["unstable"]) and bool(r["unstable"]) else "",
    )


def _command(meta: dict[str, Any]) -> str:
    cmd = meta.get("command")
    if isinstance(cmd, (list, tuple)) and cmd:
        return shlex.join(str(c) for c in cmd)
    return str(cmd or f"flagbench suite {meta.get('suite', 'SUITE')}")


def _metadata(run: RunLike) -> list[tuple[str, str]]:
    meta = run.meta or {}
    server = meta.get("server") or {}
    server_text = ", ".join(f"{k}={v}" for k, v in server.items() if v not in (None, "", False))
    pythons = sorted(set(ok_trials(run).get("python", pd.Series(dtype=str)).astype(str)))
    rows = [
        ("run id", meta.get("run_id")),
        ("suite", meta.get("suite")),
        ("started", meta.get("started")),
        ("ended", meta.get("ended")),
        ("complete", meta.get("complete")),
        ("trials", f"{meta.get('n_trials', len(run.trials))} ({meta.get('n_failed', 0)} failed)"),
        ("seed", meta.get("seed")),
        ("machine", ", ".join(str(x) for x in (meta.get("cpu_model"), meta.get("platform"),
                                                 f"{meta.get('cpu_count', '?')} CPUs") if x)),
        ("load average at start", f"{_load(meta):.2f}" if _load(meta) is not None else None),
        ("Python (harness)", " ".join(str(meta[k]) for k in ("implementation", "python")
                                      if meta.get(k))),
        ("Python (trials)", ", ".join(pythons)),
        ("git commit", meta.get("git_commit")),
        ("server", server_text),
        ("results folder", str(run.path)),
    ]
    return [(k, str(v)) for k, v in rows if v not in (None, "")]
