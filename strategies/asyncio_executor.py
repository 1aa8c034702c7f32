"""``asyncio_executor``: as ``asyncio``, but blocking steps go through ``loop.run_in_executor``.

The book's flags3_asyncio hands ``save_flag`` to the default executor without awaiting it,
which can report success before the file exists; here the call is awaited, in a
``ThreadPoolExecutor(max_workers=C)`` of its own (the default executor's
``min(32, cpus + 4)`` threads would be a hidden cap). The loop keeps serving the network
while files are written and CPU work runs; pure-Python CPU work still needs the GIL, so on
threads it gets one core. ``Settings.executor = "process"`` runs the steps in a
``ProcessPoolExecutor(min(C, cores))`` instead: every kind of work then spreads over the
cores, at the price of starting the processes and pickling each flag to them.

Everything else is the ``asyncio`` strategy's, so a difference between the two measures
where the blocking steps run and nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from . import _jobs
from ._aio import executor_workers
from .asyncio_sem import AsyncioStrategy
from .base import Job, Settings
from .pools import warm_fork_server
from .spread import Spread, in_processes, in_threads


class AsyncioExecutorStrategy(AsyncioStrategy):
    name = "asyncio_executor"
    description = "as asyncio, with CPU work and saving awaited through loop.run_in_executor"
    rank = 4  # fifth in listings: see strategies.names()
    open_loop = True  # can start each request when due (strategies.arrivals)
    offload = True

    def start(self, jobs: Sequence[Job], settings: Settings) -> dict[str, Any]:
        if settings.executor != "process" or not settings.blocking:
            return {}
        return warm_fork_server(settings.start_method, [_jobs.__name__])

    def spread(self, settings: Settings, cores: int, gil: bool = True) -> Spread:
        workers = executor_workers(settings, cores)
        if settings.executor == "thread":
            return in_threads(settings, workers, cores, gil, in_slot=False)
        spread = in_processes(workers, cores, in_slot=False)
        return spread if settings.blocking else dataclasses.replace(spread, processes=False)
