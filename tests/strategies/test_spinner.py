"""Against the real server: the spinner coroutine on the loop freezes while the loop does the
work itself, longer as the work grows, and not when the work is awaited or handed to
run_in_executor. Ratios with wide margins; where one still does not hold while other programs
took the CPUs, the test is skipped with the reason."""

from __future__ import annotations

import dataclasses

import strategies
from bench import system
from flags_server.catalog import codes as known_codes
from strategies.base import Settings, make_jobs
from strategies.cpu import calibrate

from ..busy import skip_if_busy
from .helpers import check_records, prepare

INTERVAL_S = 0.1


def _freeze(flag_server, name: str, settings: Settings, n: int = 120, skip: int = 0) -> float:
    """The spinner coroutine's longest wait beyond its interval in one run (seconds), its
    first ``skip`` ticks left out. Enough flags that even the lightest run lasts several ticks
    on a quiet machine (30 flags of light work end before the first tick)."""
    jobs = make_jobs(flag_server.flags_url, known_codes()[:n])
    strategy = strategies.get(name)
    start = getattr(strategy, "start", None)
    if start is not None:
        start(jobs, settings)
    probes: list = []
    try:
        records = strategy.run(jobs, settings, probes=probes)
    finally:
        close = getattr(strategy, "close", None)
        if close is not None:
            close()
    check_records(records, jobs)
    ticks = [p.lag_s for p in probes if p.kind == "spinner_loop"][skip:]
    assert ticks, "the spinner never ticked"
    return max(ticks)


def _holds(start: system.CpuSample, ok: bool, what: str) -> None:
    """Return if the timing held; otherwise skip when the machine was busy, or fail."""
    if not ok:
        skip_if_busy(start, what)
    assert ok, what


def test_the_freeze_grows_with_cpu_work_inline_on_the_loop(flag_server) -> None:
    prepare(flag_server, latency="10ms")
    start = system.cpu_sample()
    base = Settings(concurrency=10, spinner_s=INTERVAL_S)
    light = _freeze(
        flag_server, "asyncio", dataclasses.replace(base, cpu_work=calibrate("python", 2))
    )
    heavy = _freeze(
        flag_server, "asyncio", dataclasses.replace(base, cpu_work=calibrate("python", 30))
    )
    # ten flags arrive together and their 30 ms of work runs one after another on the loop
    _holds(
        start,
        heavy > 3 * light,
        f"30 ms of work freezing the loop over 3x 2 ms ({heavy:.3f} s, {light:.3f} s)",
    )


def test_the_freeze_of_a_blocking_sleep_vanishes_when_awaited_or_in_an_executor(
    flag_server, tmp_path
) -> None:
    prepare(flag_server, latency="10ms")
    base = Settings(concurrency=10, spinner_s=INTERVAL_S, save_dir=str(tmp_path), save_delay_s=0.03)
    start = system.cpu_sample()
    inline = _freeze(flag_server, "asyncio", base)
    executor = _freeze(flag_server, "asyncio_executor", base)
    awaited = _freeze(flag_server, "asyncio", dataclasses.replace(base, save_wait="await"))
    # inline, each flag's time.sleep(30 ms) stops the loop: ten in a row freeze the spinner
    _holds(
        start,
        inline > 4 * max(executor, 0.01) and inline > 4 * max(awaited, 0.01),
        f"an inline sleep freezing the loop over 4x an executor's and an awaited one's "
        f"({inline:.3f} s, {executor:.3f} s, {awaited:.3f} s)",
    )


def test_cpu_work_in_an_executors_processes_leaves_the_loop_free_after_the_pool_starts(
    flag_server,
) -> None:
    """The first call of run_in_executor starts the pool's processes on the loop; after that,
    the CPU work runs elsewhere and the spinner keeps ticking."""
    prepare(flag_server, latency="10ms")
    work = calibrate("python", 30)
    base = Settings(concurrency=10, spinner_s=INTERVAL_S, cpu_work=work)
    start = system.cpu_sample()
    inline = _freeze(flag_server, "asyncio", base)
    later = _freeze(
        flag_server, "asyncio_executor", dataclasses.replace(base, executor="process"), skip=1
    )
    _holds(
        start,
        inline > 3 * max(later, 0.01),
        f"inline work freezing the loop over 3x a process pool's ({inline:.3f} s, {later:.3f} s)",
    )
