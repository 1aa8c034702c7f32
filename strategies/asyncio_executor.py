"""``asyncio_executor``: as ``asyncio``, but blocking steps go through ``loop.run_in_executor``.

The book's flags3_asyncio hands ``save_flag`` to the default executor without awaiting it,
which can report success before the file exists; here the call is awaited, in a
``ThreadPoolExecutor(max_workers=C)`` of its own (the default executor's
``min(32, cpus + 4)`` threads would be a hidden cap). The loop keeps serving the network
while files are written and CPU work runs; pure-Python CPU work still needs the GIL.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import _aio
from .base import Job, ProbeSample, Progress, RequestRecord, Settings


class AsyncioExecutorStrategy:
    name = "asyncio_executor"
    description = "as asyncio, with CPU work and saving awaited through loop.run_in_executor"

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        return _aio.run(jobs, settings, progress, probes, offload=True)
