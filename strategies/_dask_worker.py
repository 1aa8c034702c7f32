"""What a dask worker runs for the ``dask`` strategy: one event loop per trial, fed in batches.

Each worker keeps, for the length of a trial, an event loop in a thread of its own with one
client session and ``asyncio.Semaphore(share)``, its share of C. Batches of jobs arrive as
ordinary dask tasks and go onto that loop, so every batch a worker runs at once draws on the
same slots and connections: the worker never has more than its share in flight, its
connections are kept alive from batch to batch, and a batch that arrives while another is
finishing fills the slots the other frees. Times are this machine's ``perf_counter``; the
client corrects them by the offset it measured for this worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import threading
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from . import _aio, _jobs
from ._clients_async import AsyncTransport, open_transport
from .base import Job, ProbeSample, RequestRecord, Settings
from .probes import loop_lag_probe

CALL_TIMEOUT_S = 30.0
_RUNNERS: dict[str, _Runner] = {}

Batch = list[tuple[int, Job]]
Results = list[tuple[int, list[RequestRecord]]]


def warm(client: str, loop: str) -> None:
    """Import the trial's libraries on this worker before the clock starts, as the harness
    does in its own process: a first import would otherwise land in the first batch."""
    for name in ("strategies._aio", "strategies._clients_async", client, loop):
        importlib.import_module(name)


def clock() -> float:
    """This worker's clock, for the client's offset measurement."""
    return time.perf_counter()


def open_runner(
    token: str,
    shares: dict[str, int],
    settings: Settings,
    client: str,
    loop: str,
    lag_probe: bool,
    dask_worker: Any = None,
) -> int:
    """Start this worker's loop for trial ``token`` with its share of C; its pid."""
    address = dask_worker.address
    settings = dataclasses.replace(settings, concurrency=shares[address])
    _jobs.prepare(settings)  # the save directory, on this machine
    _RUNNERS[token] = _Runner(address, settings, client, loop, lag_probe)
    return os.getpid()


def run_batch(token: str, batch: Batch, t_queued: float) -> Results:
    """Every job of the batch, on the trial's loop: (index, records) per job."""
    runner = _RUNNERS.get(token)
    if runner is None:
        raise RuntimeError(f"no event loop for trial {token} on this worker (stopped)")
    return runner.run_batch(batch, t_queued)


def close_runner(token: str) -> tuple[list[ProbeSample], float, float]:
    """Stop the trial's loop (cancelling what still runs): its loop-lag samples, and the user
    and system CPU seconds this worker process used while the loop ran."""
    runner = _RUNNERS.pop(token, None)
    if runner is None:
        return [], 0.0, 0.0
    probes = runner.close()
    now = os.times()
    return probes, now.user - runner.cpu0.user, now.system - runner.cpu0.system


class _Runner:
    def __init__(
        self, address: str, settings: Settings, client: str, loop: str, lag_probe: bool
    ) -> None:
        self.cpu0 = os.times()
        self.address = address
        self.settings = settings
        self.probes: list[ProbeSample] = []
        self.tasks: set[asyncio.Task[list[RequestRecord]]] = set()
        if loop == "uvloop":
            # deferred: an optional event loop, loaded only when chosen
            import uvloop

            self.loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        else:
            self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="flagbench-loop", daemon=True
        )
        self.thread.start()
        self._transport: AbstractAsyncContextManager[AsyncTransport] = open_transport(
            client, settings
        )
        self._probe: asyncio.Task[None] | None = None
        self.ctx = self._call(self._open(lag_probe), CALL_TIMEOUT_S)

    def _call(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _open(self, lag_probe: bool) -> Any:
        session = await self._transport.__aenter__()
        if lag_probe:
            self._probe = asyncio.create_task(
                loop_lag_probe(self.probes, self.settings.probe_interval_s)
            )
        return _aio._Context(
            session, asyncio.Semaphore(self.settings.concurrency), self.settings, None
        )

    def run_batch(self, batch: Batch, t_queued: float) -> Results:
        return self._call(self._batch(batch, t_queued))

    async def _batch(self, batch: Batch, t_queued: float) -> Results:
        tasks = [
            asyncio.create_task(_aio._run_job(self.ctx, job, t_queued), name=f"task-{i}")
            for i, job in batch
        ]
        self.tasks.update(tasks)
        try:
            results = await asyncio.gather(*tasks)
        finally:
            self.tasks.difference_update(tasks)
        for records in results:
            for record in records:
                record.worker = f"{self.address}/{record.worker}"
        return [(i, records) for (i, _), records in zip(batch, results, strict=True)]

    async def _close(self) -> None:
        pending = [*self.tasks, *([self._probe] if self._probe is not None else [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._transport.__aexit__(None, None, None)

    def close(self) -> list[ProbeSample]:
        try:
            self._call(self._close(), CALL_TIMEOUT_S)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(CALL_TIMEOUT_S)
            if not self.thread.is_alive():
                self.loop.close()
        return self.probes
