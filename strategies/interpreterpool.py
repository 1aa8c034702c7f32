"""``interpreterpool``: ``InterpreterPoolExecutor(max_workers=C)``, C subinterpreters (PEP 734).

Each worker is a subinterpreter in a thread of this process, with its own modules and, on a
GIL build, its own GIL: CPU work of either kind spreads over ``min(C, cores)`` cores without a
process per worker. The executor is ``concurrent.futures.InterpreterPoolExecutor`` (3.14+) or
the ``interpreters-pep-734`` backport's (3.13); elsewhere the strategy is unavailable and says
so in one line (``unavailable``), and suites skip it.

A subinterpreter is isolated: it imports its own copy of every module, and refuses extension
modules that do not declare support for several interpreters. The client is therefore the
standard library's ``http.client`` by default (urllib3, requests and httpx where they load;
``start`` tries the chosen one first), one keep-alive connection per subinterpreter,
made by the pool's initializer and kept in this module's global (each subinterpreter has its
own copy of it, as each process has in ``processpool``). Work reaches a subinterpreter pickled:
the functions it runs live here, in an importable module, never in ``__main__``. Jobs travel in
chunks, as in ``processpool``, and every record comes back with its chunk.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future, as_completed
from typing import Any

from . import _jobs
from ._exceptions import UnsupportedSetting
from ._sync import Client, new_session, run_job
from .base import Job, ProbeSample, Progress, RequestRecord, Settings
from .classify import WORKER_LOST
from .clients import choose
from .processpool import chunk_size
from .spread import Spread

#: The clients it offers, the standard library's first: it always loads in a subinterpreter.
#: A third-party one loads only if every extension module it imports supports several
#: interpreters; ``start`` tries it in a subinterpreter, and says in one line if it cannot.
CLIENTS = ("http.client", "urllib3", "requests", "httpx")

# The client of *this* subinterpreter (each has its own copy of this module).
_client: Client | None = None


def executor_class() -> Any | None:
    """``InterpreterPoolExecutor`` from the standard library (3.14+) or the backport (3.13)."""
    try:  # deferred: 3.14's, absent before
        from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined,unused-ignore]

        return InterpreterPoolExecutor
    except ImportError:
        pass
    try:  # deferred: an optional package, on 3.13 only
        from interpreters_backport.concurrent.futures import (  # type: ignore[import-not-found,unused-ignore]
            InterpreterPoolExecutor,
        )
    except ImportError:
        return None
    return InterpreterPoolExecutor


def unavailable() -> str:
    """Why this interpreter cannot run the strategy, in one line; "" when it can."""
    if executor_class() is not None:
        return ""
    version = ".".join(map(str, sys.version_info[:2]))
    if sys.version_info >= (3, 13):
        return (
            f"interpreterpool needs InterpreterPoolExecutor: Python {version} has it from 3.14 "
            "on; on 3.13 install the backport (pip install interpreters-pep-734)"
        )
    return (
        f"interpreterpool needs subinterpreters with their own GIL and InterpreterPoolExecutor "
        f"(Python 3.14, or 3.13 with pip install interpreters-pep-734); this is Python {version}"
    )


def _init_worker(settings: Settings, client: str) -> None:
    global _client
    worker = f"{os.getpid()}/interp-{threading.get_native_id()}"
    _client = Client(new_session(client), settings, worker)


_Chunk = list[tuple[int, Job]]
_Results = list[tuple[int, list[RequestRecord]]]


def _load_client(client: str) -> str:
    """Run in a fresh subinterpreter: open (and close) a client of the library there."""
    new_session(client).close()
    return client


def _run_chunk(chunk: _Chunk, t_queued: float) -> _Results:
    assert _client is not None, "the pool initializer did not run"
    return [(index, run_job(_client, job, t_queued)) for index, job in chunk]


class InterpreterPoolStrategy:
    name = "interpreterpool"
    description = (
        "InterpreterPoolExecutor(max_workers=C): C subinterpreters, one http.client "
        "connection each, chunks (3.14+, or 3.13 with interpreters-pep-734)"
    )
    rank = 5  # after asyncio_executor in listings: see strategies.names()
    clients = CLIENTS

    def unavailable(self) -> str:
        return unavailable()

    def start(self, jobs: Sequence[Job], settings: Settings) -> dict[str, Any]:
        """Before the clock: can the client load in a subinterpreter here? One line if not."""
        client = choose(self, settings).client
        pool = executor_class()
        if pool is None:
            raise UnsupportedSetting(unavailable())
        with pool(max_workers=1) as probe:
            try:
                probe.submit(_load_client, client).result(timeout=120)
            except Exception as exc:
                why = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                raise UnsupportedSetting(
                    f"interpreterpool: client {client!r} cannot load in a subinterpreter "
                    f"here ({why}); http.client always can"
                ) from None
        return {"client_in_subinterpreter": client}

    def spread(self, settings: Settings, cores: int, gil: bool = True) -> Spread:
        """Each subinterpreter has its own GIL: either kind of work spreads over the cores."""
        c = settings.concurrency
        return Spread(min(c, cores), c, "workers" if c < cores else "cores", in_slot=True)

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
        if not jobs:
            return ledger.close()
        pool = executor_class()
        if pool is None:
            raise UnsupportedSetting(unavailable())
        size = chunk_size(len(jobs), settings.concurrency)
        chunks = [
            [(i, jobs[i]) for i in range(start, min(start + size, len(jobs)))]
            for start in range(0, len(jobs), size)
        ]
        futures: dict[Future[_Results], _Chunk] = {}
        interrupted = False
        executor = pool(
            max_workers=min(settings.concurrency, len(chunks)),
            thread_name_prefix="interp",
            initializer=_init_worker,
            initargs=(settings, choice.client),
        )
        try:
            for chunk in chunks:
                futures[executor.submit(_run_chunk, chunk, t0)] = chunk
            for future in as_completed(futures):
                self._collect(ledger, future, futures[future], t0)
        except KeyboardInterrupt:
            interrupted = True
            for future, chunk in futures.items():
                if future.done() and not future.cancelled():
                    self._collect(ledger, future, chunk, t0)
        finally:
            # a subinterpreter cannot be killed: after Ctrl-C the running chunks end on their
            # own (every request has a timeout) and the queued ones are cancelled
            executor.shutdown(wait=not interrupted, cancel_futures=True)
        return ledger.close()

    @staticmethod
    def _collect(ledger: _jobs.Ledger, future: Future[_Results], chunk: _Chunk, t0: float) -> None:
        try:
            results = future.result()
        except Exception:  # the subinterpreter failed (it could not start, say)
            worker = f"{os.getpid()}/interp"
            for index, job in chunk:
                ledger.add(index, [_jobs.bookkeeping(job, WORKER_LOST, t0, worker)])
            return
        for index, records in results:
            ledger.add(index, records)
