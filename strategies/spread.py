"""How far a strategy's blocking steps (CPU work, saving) can spread over the machine.

The harness's ideal time needs it: CPU work cannot finish faster than its total cost over the
cores that can run it at once, and that number depends on the model, not on C alone.
Pure-Python work holds the GIL, so all the threads of one process share one core; anything
run inline on an event loop runs on the loop's one thread; processes, and work that releases
the GIL (``hashlib``), get ``min(workers, cores)``. A strategy says which applies through an
optional ``spread(settings, cores, gil)`` method (see ``strategies.base.Strategy``); one
without it gets ``default_spread``, the optimistic ``min(C, cores)``, so its ideal is never
too high.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from .base import Settings

#: What sets ``Spread.cpu_cores``: the GIL (GIL-holding work in threads of one process), an
#: event loop (work run inline on it), too few workers, or the machine's cores.
Limit = Literal["gil", "loop", "workers", "cores"]


@dataclass(frozen=True, slots=True)
class Spread:
    """Where a strategy runs the blocking steps of each job."""

    cpu_cores: int  # cores its CPU work can keep busy at once
    workers: int  # blocking steps (CPU work, a slow write) that can run at once
    limit: Limit  # what sets cpu_cores
    # the steps run while the job holds one of the C request slots (a pool thread fetches,
    # then works), so a slot's turn lasts the request plus the steps
    in_slot: bool = False
    processes: bool = False  # it starts child processes (their start method is recorded)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _limit(workers: int, cores: int) -> Limit:
    return "workers" if workers < cores else "cores"


def in_threads(settings: Settings, workers: int, cores: int, gil: bool, *, in_slot: bool) -> Spread:
    """``workers`` threads of one process: GIL-holding work gets one core between them."""
    holds_gil = gil and settings.cpu_work is not None and settings.cpu_work.kind == "python"
    if holds_gil and workers > 1:
        return Spread(1, workers, "gil", in_slot)
    return Spread(min(workers, cores), workers, _limit(workers, cores), in_slot)


def in_processes(workers: int, cores: int, *, in_slot: bool) -> Spread:
    """``workers`` processes, each with its own interpreter (and GIL)."""
    return Spread(min(workers, cores), workers, _limit(workers, cores), in_slot, processes=True)


def on_loop() -> Spread:
    """Inline on an event loop: one step at a time, whatever the kind of work."""
    return Spread(1, 1, "loop")


def default_spread(settings: Settings, cores: int) -> Spread:
    """For a strategy that does not say: the most its C workers could possibly use."""
    c = settings.concurrency
    return Spread(min(c, cores), c, _limit(c, cores))


def spread_of(strategy: object, settings: Settings, cores: int, gil: bool = True) -> Spread:
    """The strategy's own answer, or ``default_spread``."""
    method = getattr(strategy, "spread", None)
    if method is None:
        return default_spread(settings, cores)
    return method(settings, cores, gil)
