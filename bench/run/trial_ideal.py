"""A trial's ideal: what a perfect client would take on the server's own draws of latency and
faults for this trial's jobs (``bench.results.ideal``), with the blocking steps spread as the
worker found the strategy spreads them."""

from __future__ import annotations

import dataclasses

from bench.define.workload import Workload
from bench.results import ideal
from bench.results.records import TrialResult, WorkerResult
from flags_server import AdminClient, AdminError, ServerConfig


def draws_for(srv: AdminClient, w: Workload, codes: list[str]) -> list[ideal.JobDraw] | None:
    """The jobs as this server's draws decide them (see ``bench.results.ideal``); None if unknown."""
    try:
        config = srv.config()
    except AdminError:
        return None
    return ideal.job_draws(ServerConfig.from_dict(config), codes, w.metadata, w.timeout_s)


def io_ideal(draws: list[ideal.JobDraw] | None, concurrency: int) -> float | None:
    """A perfect client's time with ``concurrency`` slots on these draws; None if unknown."""
    return None if draws is None else ideal.scheduled_ideal([d.wait_s for d in draws], concurrency)


def with_blocking_ideal(
    failed: TrialResult, draws: list[ideal.JobDraw] | None, result: WorkerResult
) -> TrialResult:
    """The trial's ideal with its blocking steps, spread as the worker says the strategy
    spreads them on the cores it found (older workers say nothing: C workers on C cores)."""
    cpu_s, save_s = failed.trial.workload.blocking_steps_s()
    if draws is None or cpu_s + save_s <= 0:
        return failed
    c = failed.concurrency_effective
    parts = ideal.blocking_ideal(
        draws,
        c,
        cpu_s,
        save_s,
        result.cpu_cores or c,
        result.blocking_workers or c,
        result.blocking_in_slot,
    )
    return dataclasses.replace(
        failed,
        ideal_slots_s=parts.slots_s,
        cpu_floor_s=parts.cpu_floor_s,
        blocking_floor_s=parts.blocking_floor_s,
    )
