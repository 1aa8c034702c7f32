"""The ideal time of a trial: a perfect client with C slots and no overhead, on this server.

The server's latencies and faults are a pure function of (seed, path, attempt)
(``flags_server.decide``), so the harness can work out exactly what each request will wait
and schedule the jobs on C slots, each job starting the moment a slot frees, in job order.
For a fixed latency this is ``ceil(N / C) x latency``; for a random one it is what that
workload's own draws allow, which the mean-based formula underestimates: the slowest request
of each round sets its pace. A timeout costs the client's timeout (or the server's hold, if
shorter); retries and slow bodies are left out. It is the ideal of a client that starts
the jobs in order, as every built-in strategy does; one that reorders them (longest first,
say) could beat it by a little.

A job whose flag comes back then runs its blocking steps: the calibrated CPU work and the
emulated slow write (``save_delay``). No client can finish before its CPU work has run on
the cores its model can use (``strategies.spread``): the *CPU floor* is the total calibrated
work over those cores, one for GIL-holding work in threads of one process and for anything
inline on an event loop. Likewise the *blocking floor* is all the steps (CPU work and
writes) over the workers that run them, one on an event loop. A strategy whose pool worker
fetches and then works (sequential, the pools) holds its request slot for both, so its
slots are scheduled with each job's request and steps in series. The ideal is the largest of
these; ``ideal_parts`` says which one it is. It still leaves out the wait for the first
response before any step can start, so it is a lower bound, never a target above reach.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flags_server import ServerConfig
from flags_server.catalog import codes as country_codes
from flags_server.decide import decide
from flags_server.fault_kinds import BY_NAME as FAULTS
from strategies.classify import GROUP_CANCELLED

if TYPE_CHECKING:
    from .records import TrialResult


@dataclass(frozen=True)
class JobDraw:
    """One job as the server's draws decide it, first attempts only."""

    wait_s: float  # seconds its requests wait on the server (metadata first, then flag)
    flag_ok: bool  # the flag comes back, so the job's blocking steps run


def job_draws(
    config: ServerConfig, codes: Sequence[str], metadata: bool, timeout_s: float
) -> list[JobDraw]:
    """Per job, what its first attempts wait on the server and whether the flag comes back."""
    known = set(country_codes())
    attempts: Counter[str] = Counter()
    resources = [("metadata", config.metadata_latency_model)] if metadata else []
    resources.append(("flag", config.latency_model))
    draws = []
    for code in codes:
        cc = code.lower()
        total = 0.0
        ok = code.upper() in known
        for resource, model in resources:
            path = f"{cc}/metadata.json" if resource == "metadata" else f"{cc}/{cc}.gif"
            attempts[path] += 1
            d = decide(config.seed, path, attempts[path], model, config.fault_rates)
            if d.fault == "timeout" or d.latency_s >= timeout_s:
                total += (
                    min(timeout_s, config.timeout_hold_s) if d.fault == "timeout" else timeout_s
                )
                ok = False
                break
            total += d.latency_s
            failed = d.fault is not None and FAULTS[d.fault].client_error_kind is not None
            if failed or not ok:
                ok = False
                break  # a failed or 404 metadata request ends the job
        draws.append(JobDraw(total, ok))
    return draws


def request_waits(
    config: ServerConfig, codes: Sequence[str], metadata: bool, timeout_s: float
) -> list[float]:
    """Per job, the seconds its first attempts wait on the server (metadata first, then flag)."""
    return [d.wait_s for d in job_draws(config, codes, metadata, timeout_s)]


def scheduled_ideal(waits: Sequence[float], concurrency: int) -> float:
    """Makespan of the jobs, in order, on ``concurrency`` slots."""
    slots = [0.0] * max(1, min(concurrency, len(waits)))
    for wait in waits:
        heapq.heappush(slots, heapq.heappop(slots) + wait)
    return max(slots) if waits else 0.0


@dataclass(frozen=True)
class BlockingIdeal:
    """What a job's blocking steps add to the ideal (zeros when there are none)."""

    slots_s: float | None  # makespan with slots held for request and steps; None: not held
    cpu_floor_s: float  # calibrated CPU work of every job that runs it, over cpu_cores
    blocking_floor_s: float  # CPU work and slow writes together, over the workers


def blocking_ideal(
    draws: Sequence[JobDraw],
    concurrency: int,
    cpu_s: float,
    save_s: float,
    cpu_cores: int,
    workers: int,
    in_slot: bool,
) -> BlockingIdeal:
    """The floors and slot schedule of ``cpu_s`` of CPU work and ``save_s`` of blocking
    write per job whose flag comes back."""
    steps = cpu_s + save_s
    if steps <= 0:
        return BlockingIdeal(None, 0.0, 0.0)
    n_ok = sum(d.flag_ok for d in draws)
    slots = None
    if in_slot:
        slots = scheduled_ideal(
            [d.wait_s + (steps if d.flag_ok else 0.0) for d in draws], concurrency
        )
    return BlockingIdeal(slots, n_ok * cpu_s / max(cpu_cores, 1), n_ok * steps / max(workers, 1))


def ideal_parts(
    io_s: float,
    slots_s: float | None,
    cpu_floor_s: float,
    blocking_floor_s: float,
    cpu_s: float,
    save_s: float,
) -> tuple[float, str]:
    """The ideal (the largest bound) and what sets it: ``io`` (the requests), ``cpu`` (the
    CPU work on the cores the model can use) or ``blocking`` (the slow writes)."""
    base = io_s if slots_s is None else slots_s
    ideal = max(base, cpu_floor_s, blocking_floor_s)
    steps = "cpu" if cpu_s >= save_s else "blocking"

    def above(a: float, b: float) -> bool:  # beyond rounding: 100 x 0.02 / 10 is not 0.2
        return a > b * (1 + 1e-9)

    if cpu_floor_s > 0 and not above(max(base, blocking_floor_s), cpu_floor_s):
        return ideal, "cpu"
    if above(blocking_floor_s, base):
        return ideal, steps
    if slots_s is not None and above(slots_s - io_s, io_s):  # the slots wait more on the steps
        return ideal, steps
    return ideal, "io"


@dataclass(frozen=True)
class TrialIdeal:
    """A finished trial's ideal and efficiency: the one computation that the progress line,
    the trials table and everything read from it share."""

    mean_s: float  # ceil(N / C) x the mean latency: the book's formula
    io_s: float  # the requests alone, on this server's own draws
    ideal_s: float  # the largest bound (``ideal_parts``)
    bound: str  # io, cpu or blocking
    efficiency: float  # ideal_s / wall_s; NaN without a wall time or an ideal


def trial_ideal(r: TrialResult) -> TrialIdeal:
    """The ideal of ``r`` with its blocking steps, and its efficiency."""
    mean_s = math.ceil(r.n_jobs / max(r.concurrency_effective, 1)) * r.latency_mean_s
    io_s = mean_s if r.ideal_s is None else r.ideal_s
    ideal, bound = ideal_parts(
        io_s,
        r.ideal_slots_s,
        r.cpu_floor_s,
        r.blocking_floor_s,
        *r.trial.workload.blocking_steps_s(),
    )
    wall = r.result.wall_s if r.result is not None else math.nan
    eff = ideal / wall if wall > 0 and ideal > 0 and not _group_cancelled(r) else math.nan
    return TrialIdeal(mean_s, io_s, ideal, bound, eff)


def _group_cancelled(r: TrialResult) -> bool:
    """A TaskGroup that cancelled the rest on the first error did not download every job,
    which the ideal does: no efficiency for it."""
    res = r.result
    if res is None or "error_kind" not in res.record_fields:
        return False
    at = res.record_fields.index("error_kind")
    return any(record[at] == GROUP_CANCELLED for record in res.records)
