"""The child side of a trial: ``python -m bench.run.worker TASK.json RESULT.json``.

It runs in a fresh process so that every trial starts from the same state (no warm pools,
no imported-module or allocator history from the previous strategy). Only ``strategy.run``
is timed; imports, job building and CPU-work calibration happen before the clock starts.
The workload's switch interval and background CPU threads are in force for exactly the
timed region, and the values applied are recorded, as is what the harness's ideal needs:
the cores this process may use, the GIL, and how the strategy spreads its blocking steps.
The result travels back as a JSON file written atomically, never as a pipe dump.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import sysconfig
import time
from pathlib import Path

import strategies
from bench._atomic import write_json_atomic
from bench._exceptions import WORKER_WRITE_FAILED
from bench.define.values import CpuWork as CpuWorkSpec
from bench.define.workload import Workload
from bench.results.records import RECORD_FIELDS, WorkerResult, WorkerTask, record_row
from bench.run.background import BackgroundThreads, switch_interval
from bench.run.probes import Heartbeat, cpu_times, peak_rss_mib, reap_fork_server
from strategies.base import CpuWork, Job, ProbeSample, Settings, Strategy, make_jobs
from strategies.clients import check
from strategies.cpu import calibrate
from strategies.pools import resolved_start_method
from strategies.spread import spread_of, usable_cores


def _cpu_work(spec: CpuWorkSpec) -> CpuWork | None:
    if not spec:
        return None

    return calibrate(spec.kind, spec.ms)


def settings_for(
    w: Workload, save_dir: str | None, probe_interval_s: float, calibrate: bool = True
) -> Settings:
    """The strategy's settings: the workload fields that configure the worker (without the
    CPU work, which takes a calibration, when ``calibrate`` is False: for checks)."""
    return Settings(
        **w.settings_values(),
        save_dir=save_dir,
        cpu_work=_cpu_work(w.cpu_work) if calibrate else None,
        probe_interval_s=probe_interval_s,
    )


def _switch_interval_s(w: Workload) -> float | None:
    return w.switch_interval.seconds if w.switch_interval else None


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


def free_threaded_build() -> bool:
    """Whether this interpreter was built free-threaded ("3.13t"), whatever the GIL does now."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def run_trial(task: WorkerTask) -> WorkerResult:
    """Build the jobs, time ``strategy.run`` alone, and describe what happened."""
    strategy = (
        strategies.from_ref(task.strategy, task.strategy_ref)
        if task.strategy_ref
        else strategies.get(task.strategy)
    )
    jobs = make_jobs(task.flags_url, task.codes)
    settings = settings_for(task.workload, task.save_dir, task.probe_interval_s)
    choice = check(strategy, settings)
    progress = None
    bar = None
    if task.progress:
        # deferred: the optional per-trial progress bar (-v)
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=task.strategy, unit="flag", leave=False)
        progress = lambda record: bar.update()  # noqa: E731
    probes: list[ProbeSample] = []
    cores, gil = usable_cores(), gil_enabled()
    spread = spread_of(strategy, settings, cores, gil)
    startup_s, startup = start_up(strategy, jobs, settings)
    try:
        user0, sys0 = cpu_times()
        with (
            switch_interval(_switch_interval_s(task.workload)) as interval,
            Heartbeat(probes, settings.probe_interval_s),
            Heartbeat(probes, settings.spinner_s, "spinner_thread", on=settings.spinner_s > 0),
            BackgroundThreads(task.workload.background_threads) as background,
        ):
            t0 = time.perf_counter()
            records = strategy.run(jobs, settings, progress=progress, probes=probes)
            wall = time.perf_counter() - t0
        reap_fork_server()
        user1, sys1 = cpu_times()
        user1, sys1 = _plus_elsewhere(strategy, user1, sys1)
    finally:
        close = getattr(strategy, "close", None)
        if close is not None:
            close()
    if bar is not None:
        bar.close()
    rows = [record_row(rec, t0) for rec in records]
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
        gil_enabled=gil,
        pid=os.getpid(),
        free_threaded=free_threaded_build(),
        start_method=resolved_start_method(settings.start_method) if spread.processes else None,
        switch_interval_s=interval,
        background_threads=background.count,
        background_cpu_s=background.cpu_s,
        cores=cores,
        cpu_cores=spread.cpu_cores,
        blocking_workers=spread.workers,
        cpu_limit=spread.limit,
        blocking_in_slot=spread.in_slot,
        client=choice.client,
        loop=choice.loop,
        startup_s=startup_s,
        startup=startup,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.run.worker TASK.json RESULT.json", file=sys.stderr)
        return 2
    task = WorkerTask.from_dict(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    result = run_trial(task).to_dict()
    try:
        write_json_atomic(Path(args[1]), result)
    except OSError as exc:  # a full disk: the runner stops the run on this status
        print(f"cannot write {args[1]}: {exc.strerror or exc}", file=sys.stderr)
        return WORKER_WRITE_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
