"""``threadpool``: ``ThreadPoolExecutor(max_workers=C)`` with requests (the book's
flags_threadpool).

requests' Session is not thread-safe, so each pool thread gets its own, created on its first
job and kept in a thread-local: the connection it opens is reused for every later job of
that thread. Results are consumed with ``as_completed`` in the calling thread (or, with
``Settings.consume = "map"``, in the order the jobs were submitted, as ``Executor.map`` hands
them back: the book's flags_threadpool), which is also the only thread that touches the
ledger and calls ``progress``. A pool thread fetches a
flag, then does its CPU work and saves it: pure-Python work then holds the GIL, so the C
threads share one core for it; ``hashlib`` work spreads over ``min(C, cores)``.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from . import _jobs, arrivals, consume
from ._clients_sync import SyncTransport
from ._sync import Client, new_session, run_job
from .base import Job, ProbeSample, Progress, RequestRecord, Settings
from .clients import SYNC_CLIENTS, choose
from .spread import Spread, in_threads


class ThreadPoolStrategy:
    name = "threadpool"
    description = "ThreadPoolExecutor(max_workers=C), one client session per thread"
    rank = 1  # second in listings: see strategies.names()
    clients = SYNC_CLIENTS  # Settings.client: requests (the default), httpx or urllib3
    open_loop = True  # can start each request when due (strategies.arrivals)
    consumes = consume.POOL_CONSUMES  # Settings.consume: as_completed (its own way) or map

    def spread(self, settings: Settings, cores: int, gil: bool = True) -> Spread:
        return in_threads(settings, settings.concurrency, cores, gil, in_slot=True)

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        choice = choose(self, settings)
        mode = consume.resolve(self, settings)
        ledger = _jobs.begin(jobs, settings, progress)
        t0 = ledger.t_queued
        stop = threading.Event()
        local = threading.local()
        sessions: list[SyncTransport] = []

        def client() -> Client:
            c = getattr(local, "client", None)
            if c is None:
                session = new_session(choice.client)
                sessions.append(session)
                worker = f"{os.getpid()}/{threading.current_thread().name}"
                c = local.client = Client(session, settings, worker, stop=stop)
            return c

        def task(job: Job, t_queued: float | None = None) -> list[RequestRecord]:
            return run_job(client(), job, t0 if t_queued is None else t_queued)

        futures: dict[Future[list[RequestRecord]], int] = {}
        interrupted = False
        executor = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="flag")
        try:
            if settings.rate > 0:
                _run_open(executor, jobs, settings, task, ledger, futures)
            else:
                for index, job in enumerate(jobs):
                    futures[executor.submit(task, job)] = index
                # map: the submitted order, as Executor.map's own loop yields them
                order = futures if mode == consume.MAP else as_completed(futures)
                for future in order:
                    ledger.add(futures[future], future.result())
        except KeyboardInterrupt:
            interrupted = True
            stop.set()
            for future, index in futures.items():
                if future.done() and not future.cancelled():
                    ledger.add(index, future.result())
        finally:
            # On Ctrl-C queued jobs are dropped and running ones are not waited for; each
            # of those ends on its own within one request timeout.
            executor.shutdown(wait=not interrupted, cancel_futures=True)
            if not interrupted:
                for session in sessions:
                    session.close()
        return ledger.close()


def _run_open(
    executor: ThreadPoolExecutor,
    jobs: Sequence[Job],
    settings: Settings,
    task: Callable[[Job, float], list[RequestRecord]],
    ledger: _jobs.Ledger,
    futures: dict[Future[list[RequestRecord]], int],
) -> None:
    """Open loop (strategies.arrivals): submit each job when it is due. The pool's C threads
    are the cap; its queue holds arrivals beyond it (overflow = queue). Finished jobs come
    back through a queue that the pacing thread drains while it waits, so only this thread
    touches the ledger and the count of jobs in flight."""
    finished: queue.SimpleQueue[Future[list[RequestRecord]]] = queue.SimpleQueue()
    pending: set[Future[list[RequestRecord]]] = set()

    def drain(timeout: float) -> None:
        try:
            future = finished.get(timeout=timeout) if timeout > 0 else finished.get_nowait()
            while True:
                pending.discard(future)
                ledger.add(futures[future], future.result())
                future = finished.get_nowait()
        except queue.Empty:
            return

    def start(index: int, job: Job, due: float) -> None:
        def timed(job: Job, queued: float) -> list[RequestRecord]:
            return arrivals.stamp(task(job, queued), due)

        future = executor.submit(timed, job, time.perf_counter())
        futures[future] = index
        pending.add(future)
        future.add_done_callback(finished.put)

    def at_cap() -> bool:
        drain(0)
        return len(pending) >= settings.concurrency

    def drop(index: int, job: Job, due: float) -> None:
        ledger.add(index, [arrivals.dropped(job, due)])

    arrivals.pace(jobs, settings, start, at_cap, drop, drain)
    while pending:
        drain(1.0)
