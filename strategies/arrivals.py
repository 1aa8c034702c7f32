"""Open loop: each request starts when it is due, whatever the requests before it are doing.

A closed-loop client starts a request when one finishes, so when the server slows down it
sends less and never records the waits its users would have had (coordinated omission, as
wrk2 calls it). Here each job gets an intended start from a schedule fixed before the run:
R arrivals per second, evenly spaced (``constant``) or a Poisson process (``poisson``),
optionally ramped linearly from 0 to R. The schedule is seeded, so every strategy is offered
the same arrivals. C caps the requests in flight; an arrival at the cap is queued (it starts
late and the wait counts in its corrected latency) or dropped (a final record of error kind
``dropped``, attempt 0: nothing was sent), as ``Settings.overflow`` says.

Strategies call ``pace`` (threads) or ``pace_async`` (an event loop) with three callbacks:
start a job, is the cap reached, record a dropped one.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Sequence

from . import _jobs
from .base import ARRIVALS, OVERFLOWS, Job, RequestRecord, Settings
from .classify import DROPPED

__all__ = ["ARRIVALS", "OVERFLOWS", "dropped", "pace", "pace_async", "schedule", "stamp", "stamped"]
SEED = 13  # one fixed schedule: identical conditions for every strategy

Start = Callable[[int, Job, float], None]
AtCap = Callable[[], bool]
Drop = Callable[[int, Job, float], None]


def schedule(
    n: int, rate: float, arrivals: str = "constant", ramp_s: float = 0.0, seed: int = SEED
) -> list[float]:
    """The intended starts of ``n`` arrivals, in seconds after the first (which is at 0).

    Arrival k is where the expected count of arrivals reaches its k-th step: k itself for a
    constant rate, a sum of k unit exponentials for Poisson; ``_time_of`` turns that count
    into a time, so the ramp is the same transform for both.
    """
    if rate <= 0:
        raise ValueError(f"rate must be > 0 for an open-loop schedule, got {rate}")
    rng = random.Random(seed)
    out, count = [], 0.0
    for k in range(n):
        if k:
            count += 1.0 if arrivals == "constant" else rng.expovariate(1.0)
        out.append(_time_of(count, rate, ramp_s))
    return out


def _time_of(count: float, rate: float, ramp_s: float) -> float:
    """Invert the expected count: R t^2 / (2 ramp) during the ramp, then R per second."""
    in_ramp = rate * ramp_s / 2
    if count < in_ramp:
        return math.sqrt(2 * ramp_s * count / rate)
    return ramp_s + (count - in_ramp) / rate


def stamp(records: list[RequestRecord], t_intended: float) -> list[RequestRecord]:
    """Give every attempt of a job the job's scheduled arrival."""
    for rec in records:
        rec.t_intended = t_intended
    return records


def dropped(job: Job, t_intended: float) -> RequestRecord:
    """The final record of an arrival that found C requests in flight (overflow = drop)."""
    rec = _jobs.bookkeeping(job, DROPPED, t_intended, f"{os.getpid()}/dropped")
    rec.t_intended = t_intended
    return rec


def _due_times(jobs: Sequence[Job], settings: Settings) -> list[float]:
    base = time.perf_counter()
    offsets = schedule(len(jobs), settings.rate, settings.arrivals, settings.ramp_s)
    return [base + offset for offset in offsets]


def pace(
    jobs: Sequence[Job],
    settings: Settings,
    start: Start,
    at_cap: AtCap,
    drop: Drop,
    wait: Callable[[float], None],
) -> None:
    """Start each job at its time from a thread; ``wait(seconds)`` may do useful work (collect
    finished jobs) but must return by then. A late arrival starts at once: never skipped."""
    for index, (job, due) in enumerate(zip(jobs, _due_times(jobs, settings), strict=True)):
        while (left := due - time.perf_counter()) > 0:
            wait(left)
        if settings.overflow == "drop" and at_cap():
            drop(index, job, due)
        else:
            start(index, job, due)


async def sleep_until(deadline: float) -> None:
    """Sleep until ``time.perf_counter()`` reaches ``deadline``, never less.

    An event loop's own clock can wake a sleeper early: uvloop's counts whole milliseconds
    from the start of the loop's pass, so ``asyncio.sleep(1)`` may return after 0.9995 s.
    It yields to the loop at least once, as ``asyncio.sleep(0)`` does, even when the deadline
    has passed: a pacer behind schedule still lets the started jobs run between arrivals.
    """
    await asyncio.sleep(max(deadline - time.perf_counter(), 0.0))
    while (left := deadline - time.perf_counter()) > 0:
        await asyncio.sleep(left)


async def pace_async(
    jobs: Sequence[Job], settings: Settings, start: Start, at_cap: AtCap, drop: Drop
) -> None:
    """``pace`` on an event loop: the loop runs the started jobs while this one sleeps."""
    for index, (job, due) in enumerate(zip(jobs, _due_times(jobs, settings), strict=True)):
        await sleep_until(due)
        if settings.overflow == "drop" and at_cap():
            drop(index, job, due)
        else:
            start(index, job, due)


async def stamped(job: Awaitable[list[RequestRecord]], t_intended: float) -> list[RequestRecord]:
    """A job's coroutine whose records carry its scheduled arrival."""
    return stamp(await job, t_intended)
