"""``threadpool``: ``ThreadPoolExecutor(max_workers=C)`` with requests (the book's
flags_threadpool).

requests' Session is not thread-safe, so each pool thread gets its own, created on its first
job and kept in a thread-local: the connection it opens is reused for every later job of
that thread. Results are consumed with ``as_completed`` in the calling thread, which is
also the only thread that touches the ledger and calls ``progress``. A pool thread fetches a
flag, then does its CPU work and saves it: pure-Python work then holds the GIL, so the C
threads share one core for it; ``hashlib`` work spreads over ``min(C, cores)``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from . import _jobs
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
        t0 = time.perf_counter()
        ledger = _jobs.Ledger(jobs, t0, progress)
        _jobs.prepare(settings)
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

        def task(job: Job) -> list[RequestRecord]:
            return run_job(client(), job, t0)

        futures: dict[Future[list[RequestRecord]], int] = {}
        interrupted = False
        executor = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="flag")
        try:
            for index, job in enumerate(jobs):
                futures[executor.submit(task, job)] = index
            for future in as_completed(futures):
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
