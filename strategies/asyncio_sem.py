"""``asyncio``: aiohttp, one ClientSession, ``asyncio.Semaphore(C)`` (the book's flags2_asyncio).

CPU work and saving run on the event loop, as in the book's first asyncio versions: while
they run, nothing else does, and the loop-lag probe shows it. They run one at a time, so
whatever their kind they use one core. Results reach the caller from done-callbacks, or
with ``Settings.consume`` by gather, as_completed, map order or a TaskGroup
(strategies._aio_consume).
"""

from __future__ import annotations

from collections.abc import Sequence

from . import _aio, consume
from .base import Job, ProbeSample, Progress, RequestRecord, Settings
from .clients import ASYNC_CLIENTS, LOOPS, choose
from .spread import Spread, on_loop


class AsyncioStrategy:
    name = "asyncio"
    description = "one aiohttp (or httpx) session, asyncio.Semaphore(C); blocking steps on the loop"
    rank = 3  # fourth in listings: see strategies.names()
    open_loop = True  # can start each request when due (strategies.arrivals)
    offload = False  # where CPU work and saving run: on the loop (False) or in an executor
    clients = ASYNC_CLIENTS  # Settings.client: aiohttp (the default) or httpx
    loops = LOOPS  # Settings.loop: asyncio (the default) or uvloop
    # Settings.consume (strategies.consume); its own way is a bounded producer's callbacks
    consumes = consume.ASYNC_CONSUMES
    awaits = True  # Settings.save_wait = "await": the save delay is an await asyncio.sleep

    def spread(self, settings: Settings, cores: int, gil: bool = True) -> Spread:
        return on_loop()

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        choice = choose(self, settings)
        return _aio.run(
            jobs,
            settings,
            progress,
            probes,
            offload=self.offload,
            client=choice.client,
            loop=choice.loop,
            consume=consume.resolve(self, settings),
        )
