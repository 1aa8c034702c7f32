"""``sequential``: one ``requests.Session``, one flag after another (the book's flags.py).

The baseline every other strategy is compared with. The Session keeps one connection
alive for the whole run, so even the slowest strategy does not pay a TCP handshake per flag.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from . import _jobs
from ._sync import Client, new_session, run_job
from .base import Job, ProbeSample, Progress, RequestRecord, Settings
from .clients import SYNC_CLIENTS, choose
from .spread import Spread, in_threads


class SequentialStrategy:
    name = "sequential"
    description = "one client session (requests, httpx or urllib3), one flag after another"
    rank = 0  # first in listings: see strategies.names()
    max_concurrency = 1  # whatever Settings.concurrency says; the harness's ideal time uses it
    clients = SYNC_CLIENTS  # Settings.client: requests (the default), httpx or urllib3

    def spread(self, settings: Settings, cores: int, gil: bool = True) -> Spread:
        """One thread fetches, works and saves, one flag after another."""
        return in_threads(settings, 1, cores, gil, in_slot=True)

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        choice = choose(self, settings)
        ledger = _jobs.begin(jobs, settings, progress)
        t0 = ledger.t_queued
        worker = f"{os.getpid()}/{threading.current_thread().name}"
        session = new_session(choice.client)
        client = Client(session, settings, worker)
        try:
            for index, job in enumerate(jobs):
                ledger.add(index, run_job(client, job, t0))
        except KeyboardInterrupt:
            pass  # return what finished; the rest are recorded as cancelled
        finally:
            session.close()
        return ledger.close()
