"""What the report says about a run: one neutral ``Report`` of text, tables and charts.

Everything here comes from the run's tables and ``meta.json``; ``bench.present.report.render``
writes the result as HTML and as Markdown.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench._words import plural
from bench.present.charts import Rendered
from bench.present.charts.data import RunLike, baseline_of, ok_trials, row_order, summary, workloads
from bench.present.charts.text import DASH, IDEAL_NOTE, TIMES, fmt_s
from bench.present.report.model import ChartEntry, Report, Table
from bench.present.report.readings import reading
from bench.results.stats import MIN_SAMPLES
from bench.system import busy_during, is_busy

# The collector's bottleneck labels (bench/results/collect.py) in words.
BOTTLENECK_WORDS = {
    "client_cpu": "client-CPU-bound",
    "gil": "GIL-bound (its threads queue for the GIL)",
    "server": "server-bound",
    "errors": "error-bound (timeouts and failures set the pace)",
    "blocking": "bound by its slow, blocking writes",
    "mixed": "bound by no single thing (mixed)",
}


def build_report(run: RunLike, rendered: list[Rendered]) -> Report:
    """The report of ``run``, with ``rendered`` (from ``bench.present.charts.render``) as its charts."""
    meta = run.meta or {}
    s = summary(run)
    run_id = str(meta.get("run_id", Path(run.path).name))
    suite = str(meta.get("suite", ""))
    return Report(
        title=f"flagbench report: {suite or 'run'} ({run_id})",
        overview=_overview(run),
        warnings=_warnings(run),
        summary=_summary_tables(run),
        charts=[
            ChartEntry(r.title, tuple(reading(r.kind, run, r.workload_id)), r.path("png"))
            for r in rendered
        ],
        command=_command(meta),
        metadata=_metadata(run),
        packages=sorted((str(k), str(v)) for k, v in (meta.get("packages") or {}).items()),
        summary_note=_summary_note(baseline_of(s)) if len(s) else "",
    )


def _summary_note(baseline: str) -> str:
    labels = "; ".join(f"{k}: {v}" for k, v in BOTTLENECK_WORDS.items())
    return (
        "Median wall time over the repeats; the 95% confidence interval of the geometric "
        "mean (Student t on the log times, so never below zero); the ideal; speed-up against "
        f"{baseline} on the same workload (with its interval); efficiency = ideal / wall "
        "(median); final errors per trial (median); the bottleneck label of the trials "
        f"(latency: efficiency of 80% or more; {labels}); stability: unstable when the "
        f"repeats' CV exceeds 10%, not assessed with fewer than {MIN_SAMPLES} repeats. A "
        "strategy marked * was measured once on another workload it cannot tell apart from "
        "this one (sequential does not depend on C). " + IDEAL_NOTE
    )


def _overview(run: RunLike) -> list[str]:
    meta = run.meta or {}
    t = run.trials
    if len(t):
        n_trials, n_failed = len(t), int((t["status"].astype(str) != "ok").sum())
    else:
        n_trials, n_failed = int(meta.get("n_trials", 0)), int(meta.get("n_failed", 0))
    n_workloads = len(workloads(run))
    strategies = row_order(run) if len(t) else []
    duration = _duration(meta.get("started"), meta.get("ended"))
    lines = [
        f"{plural(n_trials, 'trial')} ({n_failed} failed) of {plural(len(strategies), 'strategy')}"
        + (f" ({', '.join(strategies)})" if strategies else "")
        + f" on {plural(n_workloads, 'workload')}"
        + (f", run in {duration}" if duration else "")
        + ".",
    ]
    spec = found if isinstance(found := meta.get("spec"), dict) else {}
    if spec.get("description"):
        lines.insert(0, f"Suite {meta.get('suite', '')}: {spec['description']}.")
    if meta.get("started"):
        lines.append(
            f"Started {meta['started']}, on {meta.get('platform', 'an unknown machine')}"
            f" with {meta.get('cpu_count', '?')} CPUs."
        )
    return lines


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
        out.append(
            f"The run is incomplete ({meta.get('stopped') or 'interrupted'}); finish it with "
            f"`flagbench suite {meta.get('suite', 'SUITE')} --resume {run.path}`."
        )
    cpus = meta.get("cpu_count")
    use = meta.get("cpu_during_run")
    for key, when, at_end in (
        ("loadavg_at_start", "started", False),
        ("loadavg_at_end", "ended", True),
    ):
        load = _load(meta, key)
        if at_end and use:  # measured: whose CPU time it was, not a load average
            during = busy_during(use)
            if during:
                out.append(during[0].upper() + during[1:] + ".")
            continue
        if isinstance(cpus, int) and is_busy(load, cpus, at_end):
            whose = (
                "this run's own worker processes and flag server are part of that load"
                if at_end
                else "other programs competed with the trials for the CPU"
            )
            out.append(
                f"The machine was busy when the run {when} (load average {load:.2f} on "
                f"{cpus} CPUs; {whose}): timings may be noisier and slower than on a quiet "
                "machine."
            )
    t = run.trials.copy()
    if len(t):
        t["strategy"] = t["strategy"].astype(str)
        failed = t[t["status"].astype(str) != "ok"]
        for r in failed.itertuples(index=False):
            out.append(
                f"Failed trial {r.trial_id} ({r.strategy}, {r.workload}, repeat "
                f"{r.repeat}): {r.failure or 'no reason recorded'}."
            )
        ok = t[t["status"].astype(str) == "ok"]
        bad = ok[ok["counts_match"].eq(False)]  # unknown (an imported benchmark) is no mismatch
        for r in bad.itertuples(index=False):
            out.append(
                f"Client and server counts differ in trial {r.trial_id} "
                f"({r.strategy}, {r.workload}): the client made "
                f"{_count(r.n_requests)} requests, the server saw "
                f"{_count(r.server_requests)}."
            )
    s = summary(run)
    if len(s):
        stability = s["stability"].astype(str) if "stability" in s else pd.Series("", s.index)
        shaky = s[stability == "unstable"]
        for workload, g in shaky.groupby("workload", sort=False):
            items = ", ".join(
                f"{r.strategy} (CV {r.wall_cv:.1%}, {r.n} repeats)"
                for r in g.itertuples(index=False)
            )
            out.append(
                f"Unstable on {workload}: {items}; the repeats disagree, so treat "
                "these medians with care (more repeats or a quieter machine help)."
            )
        few = s[stability == "not assessed"]
        if len(few):
            out.append(
                f"Stability not assessed for {plural(len(few), 'configuration')}: "
                f"fewer than {MIN_SAMPLES} repeats cannot tell a steady result from noise."
            )
    return out


def _count(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def _load(meta: dict[str, Any], key: str = "loadavg_at_start") -> float | None:
    """The 1-minute load average at the start (or end) of the run, if the harness recorded it."""
    value: Any = meta.get(key)  # JSON: anything, checked by trying
    try:
        return float(value[0] if isinstance(value, (list, tuple)) else value)
    except (TypeError, ValueError, IndexError):
        return None


def _summary_tables(run: RunLike) -> list[Table]:
    s = summary(run)
    if s.empty:
        return []
    header = (
        "strategy",
        "median wall",
        "95% CI",
        "ideal",
        "speed-up",
        "efficiency",
        "errors",
        "bottleneck",
        "stability",
    )
    tables = []
    for w in workloads(run):
        g = s[s["workload_id"] == w.workload_id]
        if g.empty:
            continue
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
    shared = isinstance(r.get("measured_on"), str) and bool(r["measured_on"])
    return (
        str(r["strategy"]) + ("*" if shared else ""),
        fmt_s(float(r["wall_median_s"])),
        f"{fmt_s(float(r['wall_ci_low_s']))} {DASH} {fmt_s(float(r['wall_ci_high_s']))}",
        "n/a" if pd.isna(r["ideal_s"]) else fmt_s(float(r["ideal_s"])),
        speed,
        num(r["efficiency_median"], ".2f"),
        num(r["n_error_median"], "g"),
        "" if pd.isna(r["bottleneck"]) else str(r["bottleneck"]),
        "" if pd.isna(r.get("stability")) else str(r.get("stability")),
    )


def _command(meta: dict[str, Any]) -> str:
    cmd = meta.get("command")
    if isinstance(cmd, (list, tuple)) and cmd:
        return shlex.join(str(c) for c in cmd)
    return str(cmd or f"flagbench suite {meta.get('suite', 'SUITE')}")


def _interpreters(meta: dict[str, Any]) -> str:
    """The interpreters the trials ran on, as ``meta.json`` lists them (runs since it does)."""
    out = []
    for e in meta.get("interpreters") or []:
        text = (
            f"{e.get('implementation', '')} {e.get('label') or e.get('version')} ({e.get('path')}"
        )
        if e.get("free_threaded"):
            text += ", free-threaded, GIL " + ("on" if e.get("gil_enabled") else "off")
        text += f"; venv {e['venv']})" if e.get("venv") else ")"
        out.append(text.strip())
    return "; ".join(out)


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
        (
            "machine",
            ", ".join(
                str(x)
                for x in (
                    meta.get("cpu_model"),
                    meta.get("platform"),
                    f"{meta.get('cpu_count', '?')} CPUs",
                )
                if x
            ),
        ),
        ("load average at start", f"{_load(meta):.2f}" if _load(meta) is not None else None),
        (
            "load average at end",
            f"{_load(meta, 'loadavg_at_end'):.2f}"
            if _load(meta, "loadavg_at_end") is not None
            else None,
        ),
        (
            "Python (harness)",
            " ".join(str(meta[k]) for k in ("implementation", "python") if meta.get(k)),
        ),
        ("Python (trials)", _interpreters(meta) or ", ".join(pythons)),
        ("git commit", meta.get("git_commit")),
        ("server", server_text),
        ("results folder", str(run.path)),
    ]
    return [(k, str(v)) for k, v in rows if v not in (None, "")]
