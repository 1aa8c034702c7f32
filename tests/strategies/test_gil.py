"""The CPU work does what it says about the GIL, costs what it was calibrated to, and goes
where each model sends it: threads, processes, the event loop or an executor of either kind.

Timings are ratios within one test, the best of a few tries (the machine is shared), with
generous margins.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

import strategies
from bench import system
from strategies.base import CpuWork, ProbeSample, Settings
from strategies.cpu import burn, calibrate
from strategies.pools import default_start_method
from strategies.save import save_flag
from strategies.spread import Spread, spread_of, usable_cores

from ..busy import skip_if_busy
from .helpers import check_records, jobs_for, prepare

TRIES = 5


def _best(fn, tries: int = TRIES) -> float:
    """The fastest of a few timings: the one least disturbed by other processes."""
    out = []
    for _ in range(tries):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return min(out)


def _in_two_threads(work: CpuWork) -> None:
    threads = [threading.Thread(target=burn, args=(work,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)


@pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(),
    reason="this interpreter runs without the GIL: pure-Python threads may overlap here",
)
def test_python_work_holds_the_gil() -> None:
    """Two threads of pure-Python work never run at once: the process's CPU time over the run
    is at most its wall time (one core's worth). A busy machine only stretches the wall time,
    so this holds however loaded the machine is, where a ratio of wall times would not."""
    work = calibrate("python", 40)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(3):
        _in_two_threads(work)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    assert cpu <= 1.15 * wall, (cpu, wall)


@pytest.mark.skipif(
    usable_cores() < 2,
    reason=f"hashlib can only overlap on two cores; this process may use {usable_cores()}",
)
def test_hashlib_work_releases_the_gil() -> None:
    """Two threads of hashing take about as long as one, on two cores.

    When they do not, two processes (which share nothing) are the control: if they cannot
    overlap either, two cores are not free right now (the machine is shared) and the test
    says so instead of failing.
    """
    start = system.cpu_sample()
    work = calibrate("hashlib", 40)
    one = _best(lambda: burn(work))
    two = _best(lambda: _in_two_threads(work), tries=2 * TRIES)
    if two > 1.3 * one:
        apart = _in_two_processes(work)
        if apart > 1.3 * one:
            pytest.skip(
                f"two cores are not free now: two processes took {apart / one:.2f}x "
                f"as long as one (threads {two / one:.2f}x)"
            )
    if two > 1.3 * one:  # the processes overlapped once; the threads may have met a busy moment
        skip_if_busy(start, f"two hashing threads within 1.3x of one ({two / one:.2f}x)")
    assert two <= 1.3 * one, (one, two)


def _in_two_processes(work: CpuWork) -> float:
    """The best time of two warm processes doing ``work`` at once."""
    import multiprocessing

    with multiprocessing.get_context(default_start_method()).Pool(2) as pool:
        pool.map(burn, [work, work], chunksize=1)  # started and warm
        return _best(lambda: pool.map(burn, [work, work], chunksize=1))


@pytest.mark.parametrize("kind", ["python", "hashlib"])
def test_calibrated_milliseconds_are_what_the_work_costs(kind: str) -> None:
    """Within 20%; a busy moment can spoil a calibration, so it gets three chances, and a
    machine kept busy by other programs all along is said, not failed."""
    start = system.cpu_sample()
    ratios = []
    for _ in range(3):
        work = calibrate(kind, 20)
        ratios.append(_best(lambda w=work: burn(w)) / 0.020)
        if 0.8 <= ratios[-1] <= 1.2:
            return
    measured = ", ".join(f"{r:.2f}" for r in ratios)
    skip_if_busy(start, f"the calibrated cost (measured / calibrated: {measured})")
    pytest.fail(f"measured / calibrated cost: {measured}")


def test_save_delay_blocks_the_caller_for_each_write(tmp_path: Path) -> None:
    start = time.perf_counter()
    path = save_flag(b"GIF89a", str(tmp_path), "br.gif", delay_s=0.05)
    assert time.perf_counter() - start >= 0.05
    assert Path(path).read_bytes() == b"GIF89a"


def test_settings_reject_a_bad_executor_or_delay() -> None:
    with pytest.raises(ValueError, match="executor 'fork' is not allowed"):
        Settings(executor="fork")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="save_delay_s"):
        Settings(save_delay_s=-1)


def test_process_pools_start_with_the_fork_server_by_default(flag_server) -> None:
    """The worker's heartbeat thread makes fork unsafe (and warned about on 3.12+)."""
    if "forkserver" in __import__("multiprocessing").get_all_start_methods():
        assert default_start_method() == "forkserver"
    prepare(flag_server, latency="5ms")
    jobs = jobs_for(flag_server, 6)
    records = strategies.get("processpool").run(jobs, Settings(concurrency=2))
    check_records(records, jobs)
    assert {r.worker.split("/")[1] for r in records} == {default_start_method()}


def test_executor_of_processes_runs_the_blocking_steps_in_children(flag_server, tmp_path) -> None:
    """asyncio_executor with a process pool: the CPU work and the saving go to children (the
    flag, its settings and the step are pickled); the files are all there, whole."""
    prepare(flag_server, latency="5ms")
    jobs = jobs_for(flag_server, 8)
    settings = Settings(
        concurrency=4, cpu_work=calibrate("python", 2), save_dir=str(tmp_path), executor="process"
    )
    records = strategies.get("asyncio_executor").run(jobs, settings)
    assert check_records(records, jobs)["ok"] == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{j.cc}.gif" for j in jobs)
    assert all(p.read_bytes().startswith(b"GIF") for p in tmp_path.iterdir())


def test_blocking_writes_stall_the_loop_inline_and_not_through_the_executor(
    flag_server, tmp_path
) -> None:
    """20 ms per write: inline, the loop-lag probe wakes a write late; offloaded, it does not."""
    prepare(flag_server, latency="10ms")
    jobs = jobs_for(flag_server, 12)
    worst = {}
    for name in ("asyncio", "asyncio_executor"):
        probes: list[ProbeSample] = []
        settings = Settings(
            concurrency=4, save_dir=str(tmp_path / name), save_delay_s=0.02, probe_interval_s=0.005
        )
        records = strategies.get(name).run(jobs, settings, probes=probes)
        assert check_records(records, jobs)["ok"] == 12
        worst[name] = max(p.lag_s for p in probes if p.kind == "loop_lag")
    assert worst["asyncio"] >= 0.015
    assert worst["asyncio"] > 2 * worst["asyncio_executor"]


@pytest.mark.parametrize(
    ("name", "kind", "executor", "expected"),
    [
        ("sequential", "python", "thread", Spread(1, 1, "workers", in_slot=True)),
        ("threadpool", "python", "thread", Spread(1, 8, "gil", in_slot=True)),
        ("threadpool", "hashlib", "thread", Spread(2, 8, "cores", in_slot=True)),
        ("processpool", "python", "thread", Spread(2, 8, "cores", True, processes=True)),
        ("asyncio", "hashlib", "thread", Spread(1, 1, "loop")),
        ("asyncio_executor", "python", "thread", Spread(1, 8, "gil")),
        ("asyncio_executor", "hashlib", "thread", Spread(2, 8, "cores")),
        ("asyncio_executor", "python", "process", Spread(2, 2, "cores", processes=True)),
    ],
)
def test_each_model_says_how_far_its_cpu_work_spreads(name, kind, executor, expected) -> None:
    settings = Settings(concurrency=8, cpu_work=CpuWork(kind, 1), executor=executor)
    assert spread_of(strategies.get(name), settings, cores=2) == expected


def test_a_free_threaded_build_lets_python_work_spread() -> None:
    settings = Settings(concurrency=8, cpu_work=CpuWork("python", 1))
    assert spread_of(strategies.get("threadpool"), settings, 2, gil=False).cpu_cores == 2


def test_usable_cores_is_what_this_process_may_run_on() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert usable_cores() == expected
