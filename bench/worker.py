"""The child side of a trial: ``python -m bench.worker TASK.json RESULT.json``.

It runs in a fresh process so that every trial starts from the same state (no warm pools,
no imported-module or allocator history from the previous strategy). Only ``strategy.run``
is timed; imports, job building and CPU-work calibration happen before the clock starts.
The result travels back as a JSON file written atomically, never as a pipe dump.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import strategies
from strategies.base import CpuWork, Job, ProbeSample, Settings, Strategy, make_jobs
from strategies.clients import check

from ._atomic import write_json_atomic
from .probes import Heartbeat, cpu_times, peak_rss_mib
from .records import RECORD_FIELDS, WorkerResult, WorkerTask
from .workload import Workload, parse_cpu_work


def _cpu_work(spec: str) -> CpuWork | None:
    if not spec:
        return None
    from strategies.cpu import calibrate

    return calibrate(*parse_cpu_work(spec))


def settings_for(w: Workload, save_dir: str | None, probe_interval_s: float,
                 calibrate: bool = True) -> Settings:  # fmt: skip
    """The strategy's settings: the workload fields that configure the worker (without the
    CPU work, which takes a calibration, when ``calibrate`` is False: for checks)."""
    return Settings(
        concurrency=w.concurrency,
        timeout_s=w.timeout_s,
        retries=w.retries,
        save_dir=save_dir,
        cpu_work=_cpu_work(w.cpu_work) if calibrate else None,
        metadata=w.metadata,
        probe_interval_s=probe_interval_s,
        client=w.client or None,
        loop=w.loop or None,
        processes=w.processes,
        scheduler=w.scheduler,
        dask_workers=w.dask_workers,
        dask_threads=w.dask_threads,
    )


def start_up(strategy: Strategy, jobs: list[Job], settings: Settings) -> tuple[float | None, dict]:
    """What the strategy sets up before its first request (processes, a cluster), outside the
    timed region: (seconds it took, what it says about it); (None, {}) when it has nothing."""
    start = getattr(strategy, "start", None)
    if start is None:
        return None, {}
    t = time.perf_counter()
    about = start(jobs, settings) or {}
    return time.perf_counter() - t, about


def _plus_elsewhere(strategy: Strategy, user: float, system: float) -> tuple[float, float]:
    """Add the CPU a strategy spent in processes this one cannot count (a cluster's workers),
    as it reports it with ``cpu_elsewhere()``."""
    elsewhere = getattr(strategy, "cpu_elsewhere", None)
    if elsewhere is None:
        return user, system
    more_user, more_system = elsewhere()
    return user + more_user, system + more_system


def gil_enabled() -> bool:
    """False only on a free-threaded build running without the GIL (3.13+ can ask)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return check() if check is not None else True


def run_trial(task: WorkerTask) -> WorkerResult:
    """Build the jobs, time ``strategy.run`` alone, and describe what happened."""
    strategy = strategies.get(task.strategy)
    jobs = make_jobs(task.flags_url, task.codes)
    settings = settings_for(task.workload, task.save_dir, task.probe_interval_s)
    choice = check(strategy, settings)
    progress = None
    bar = None
    if task.progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=task.strategy, unit="flag", leave=False)
        progress = lambda record: bar.update()  # noqa: E731
    probes: list[ProbeSample] = []
    startup_s, startup = start_up(strategy, jobs, settings)
    try:
        user0, sys0 = cpu_times()
        with Heartbeat(probes, settings.probe_interval_s):
            t0 = time.perf_counter()
            records = strategy.run(jobs, settings, progress=progress, probes=probes)
            wall = time.perf_counter() - t0
        user1, sys1 = cpu_times()
        user1, sys1 = _plus_elsewhere(strategy, user1, sys1)
    finally:
        close = getattr(strategy, "close", None)
        if close is not None:
            close()
    if bar is not None:
        bar.close()
    times = [i for i, name in enumerate(RECORD_FIELDS) if name.startswith("t_")]
    rows = []
    for rec in records:
        row = [getattr(rec, name) for name in RECORD_FIELDS]
        for i in times:
            row[i] -= t0
        rows.append(row)
    return WorkerResult(
        wall_s=wall,
        cpu_user_s=user1 - user0,
        cpu_sys_s=sys1 - sys0,
        rss_peak_mib=peak_rss_mib(),
        n_jobs=len(jobs),
        record_fields=RECORD_FIELDS,
        records=rows,
        probes=[[p.kind, p.t - t0, p.lag_s] for p in probes if p.t >= t0],
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        gil_enabled=gil_enabled(),
        pid=os.getpid(),
        client=choice.client,
        loop=choice.loop,
        startup_s=startup_s,
        startup=startup,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.worker TASK.json RESULT.json", file=sys.stderr)
        return 2
    task = WorkerTask.from_dict(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    write_json_atomic(Path(args[1]), run_trial(task).to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
