"""``processpool``: ``ProcessPoolExecutor`` with requests (the book's flags_processpool).

Each worker process builds one Session in the pool's initializer and keeps it for every job
it runs, so connections stay alive across jobs. Jobs travel in chunks to save a round trip
through the pool's queues per flag; the chunk size divides each worker's share of the jobs,
so chunking never makes the last round longer. The start method comes from
``Settings.start_method`` (``forkserver`` by default where it exists, see ``strategies.pools``)
and is written into each record's ``worker`` as ``"{pid}/{method}"``, with the pid of the child
that made the request. Each process fetches a flag, then does its CPU work and saves it, with
its own interpreter: CPU work of either kind spreads over ``min(C, cores)`` cores. Finished
chunks are consumed with ``as_completed``, or with ``Settings.consume = "map"`` in the order
they were submitted, as ``Executor.map(..., chunksize=...)`` hands them back (the book's
flags_processpool).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from . import _jobs, consume
from ._sync import Client, new_session, run_job
from .base import Job, ProbeSample, Progress, RequestRecord, Settings
from .classify import WORKER_LOST
from .clients import SYNC_CLIENTS, choose
from .pools import (
    ignore_sigint,
    process_pool,
    resolved_start_method,
    stop_workers,
    warm_fork_server,
)
from .spread import Spread, in_processes

MAX_CHUNK = 64

# The Session of *this* worker process. A module global is the one place a
# ProcessPoolExecutor initializer can leave per-process state for later tasks.
_client: Client | None = None


def chunk_size(n_jobs: int, concurrency: int, max_chunk: int = MAX_CHUNK) -> int:
    """The largest divisor of each worker's share (ceil(N/C)) that is at most a quarter of it.

    A quarter leaves room for load balancing when latencies vary; a divisor means workers
    finish their shares together when they do not.
    """
    share = math.ceil(max(n_jobs, 1) / concurrency)
    limit = max(1, min(max_chunk, share // 4))
    return max(d for d in range(1, limit + 1) if share % d == 0)


def _init_worker(settings: Settings, method: str) -> None:
    global _client
    ignore_sigint()
    _client = Client(new_session(settings.client), settings, f"{os.getpid()}/{method}")


_Chunk = list[tuple[int, Job]]
_Results = list[tuple[int, list[RequestRecord]]]


def _run_chunk(chunk: _Chunk, t_queued: float) -> _Results:
    assert _client is not None, "the pool initializer did not run"
    return [(index, run_job(_client, job, t_queued)) for index, job in chunk]


class ProcessPoolStrategy:
    name = "processpool"
    description = "ProcessPoolExecutor(max_workers=C), one client session per process, chunks"
    rank = 2  # third in listings: see strategies.names()
    clients = SYNC_CLIENTS  # Settings.client: requests (the default), httpx or urllib3
    consumes = consume.POOL_CONSUMES  # Settings.consume: as_completed (its own way) or map

    def spread(self, settings: Settings, cores: int, gil: bool = True) -> Spread:
        return in_processes(settings.concurrency, cores, in_slot=True)

    def start(self, jobs: Sequence[Job], settings: Settings) -> dict[str, Any]:
        return warm_fork_server(settings.start_method, [__name__])

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        choose(self, settings)
        mode = consume.resolve(self, settings)
        ledger = _jobs.begin(jobs, settings, progress)
        t0 = ledger.t_queued
        if not jobs:
            return ledger.close()
        method = resolved_start_method(settings.start_method)
        size = chunk_size(len(jobs), settings.concurrency)
        chunks = [
            [(i, jobs[i]) for i in range(start, min(start + size, len(jobs)))]
            for start in range(0, len(jobs), size)
        ]
        futures: dict[Future[_Results], _Chunk] = {}
        interrupted = False
        executor = process_pool(
            min(settings.concurrency, len(chunks)),
            method,
            [__name__],
            initializer=_init_worker,
            initargs=(settings, method),
        )
        try:
            for n, chunk in enumerate(chunks):
                try:
                    futures[executor.submit(_run_chunk, chunk, t0)] = chunk
                except BrokenProcessPool:  # a child died before every chunk was handed out
                    self._lost(ledger, [job for rest in chunks[n:] for job in rest], t0)
                    break
            # map: the submitted order, as Executor.map's own loop yields them
            for future in futures if mode == consume.MAP else as_completed(futures):
                self._collect(ledger, future, futures[future], t0)
        except KeyboardInterrupt:
            interrupted = True
            for future, chunk in futures.items():
                if future.done() and not future.cancelled():
                    self._collect(ledger, future, chunk, t0)
            stop_workers(executor)
        finally:
            executor.shutdown(wait=not interrupted, cancel_futures=True)
        return ledger.close()

    @staticmethod
    def _collect(
        ledger: _jobs.Ledger,
        future: Future[_Results],
        chunk: _Chunk,
        t0: float,
    ) -> None:
        try:
            results = future.result()
        except Exception:  # BrokenProcessPool and friends: the chunk's worker died
            ProcessPoolStrategy._lost(ledger, chunk, t0)
            return
        for index, records in results:
            ledger.add(index, records)

    @staticmethod
    def _lost(ledger: _jobs.Ledger, chunk: _Chunk, t0: float) -> None:
        """The jobs of a chunk whose pool process died: each ends ``worker_lost``."""
        worker = f"{os.getpid()}/pool"
        for index, job in chunk:
            ledger.add(index, [_jobs.bookkeeping(job, WORKER_LOST, t0, worker)])
