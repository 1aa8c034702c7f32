"""The child side of a trial: ``python -m bench.worker TRIAL.json RESULT.json``.

It runs in a fresh process so that every trial starts from the same state (no warm pools,
no imported-module or allocator history from the previous strategy). Only ``strategy.run``
is timed; imports, job building and CPU-work calibration happen before the clock starts.
The result travels back as a JSON file written atomically, never as a pipe dump.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import strategies
from strategies.base import CpuWork, ProbeSample, RequestRecord, Settings, make_jobs

from ._atomic import write_json_atomic
from .probes import Heartbeat, cpu_times, peak_rss_mib

RECORD_FIELDS = [f.name for f in dataclasses.fields(RequestRecord)]


def _cpu_work(spec: str) -> CpuWork | None:
    if not spec:
        return None
    from strategies.cpu import calibrate

    from .spec import parse_cpu_work

    return calibrate(*parse_cpu_work(spec))


def run_trial(task: dict[str, Any]) -> dict[str, Any]:
    """Build the jobs, time ``strategy.run`` alone, and describe what happened."""
    workload = task["workload"]
    strategy = strategies.get(task["strategy"])
    codes = task["codes"]
    jobs = make_jobs(task["flags_url"], codes)
    settings = Settings(
        concurrency=workload["concurrency"],
        timeout_s=workload["timeout_s"],
        retries=workload["retries"],
        save_dir=task.get("save_dir"),
        cpu_work=_cpu_work(workload["cpu_work"]),
        metadata=workload["metadata"],
        probe_interval_s=task.get("probe_interval_s", 0.01),
    )
    progress = None
    bar = None
    if task.get("progress"):
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=task["strategy"], unit="flag", leave=False)
        progress = lambda record: bar.update()  # noqa: E731
    probes: list[ProbeSample] = []
    user0, sys0 = cpu_times()
    with Heartbeat(probes, settings.probe_interval_s):
        t0 = time.perf_counter()
        records = strategy.run(jobs, settings, progress=progress, probes=probes)
        wall = time.perf_counter() - t0
    user1, sys1 = cpu_times()
    if bar is not None:
        bar.close()
    times = [i for i, name in enumerate(RECORD_FIELDS) if name.startswith("t_")]
    rows = []
    for rec in records:
        row = [getattr(rec, name) for name in RECORD_FIELDS]
        for i in times:
            row[i] -= t0
        rows.append(row)
    return {
        "wall_s": wall,
        "cpu_user_s": user1 - user0,
        "cpu_sys_s": sys1 - sys0,
        "rss_peak_mib": peak_rss_mib(),
        "n_jobs": len(jobs),
        "record_fields": RECORD_FIELDS,
        "records": rows,
        "probes": [[p.kind, p.t - t0, p.lag_s] for p in probes if p.t >= t0],
        "python": ".".join(map(str, sys.version_info[:3])),
        "pid": os.getpid(),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.worker TRIAL.json RESULT.json", file=sys.stderr)
        return 2
    task = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    result = run_trial(task)
    write_json_atomic(Path(args[1]), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
