"""The asyncio strategies' consume modes (strategies.consume): the book's ways of waiting for
coroutines, each a task per job created up front, the semaphore still capping requests at C.

- ``gather``: ``asyncio.gather`` hands every result over at once, when the last job ends.
- ``as_completed``: ``asyncio.as_completed`` hands each over as it finishes (a progress bar's
  source in the book's flags2_asyncio).
- ``map``: the tasks awaited in the order they were created, as ``Executor.map`` would.
- ``taskgroup``: ``asyncio.TaskGroup`` (3.11+). A job whose final outcome is ``error`` raises
  there, as a download coroutine raising for its HTTP error would, and the group cancels every
  other job still running. A cancelled job ends as ``group_cancelled`` (attempt 0, never
  delivered); the requests it had sent are let finish and keep their own records, so the
  client's count of requests still equals the server's.

The other modes count errors and go on, as the book's flags2 scripts do: a job never raises.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from . import _jobs
from .base import Job, RequestRecord
from .classify import GROUP_CANCELLED
from .consume import AS_COMPLETED, GATHER, MAP, TASKGROUP

RunJob = Callable[[Job, list[RequestRecord]], Coroutine[Any, Any, list[RequestRecord]]]


class JobFailed(Exception):
    """A job's final outcome was an error: what makes a TaskGroup cancel the others."""

    def __init__(self, records: list[RequestRecord]) -> None:
        super().__init__(records[-1].error_kind)
        self.records = records


async def consume(
    mode: str,
    jobs: Sequence[Job],
    ledger: _jobs.Ledger,
    run_job: RunJob,
    live: set[asyncio.Task[Any]],
) -> None:
    """Run every job and hand each result to ``ledger`` the way ``mode`` delivers it; the
    tasks go into ``live`` so that a Ctrl-C can cancel them."""
    if mode == TASKGROUP:
        await _taskgroup(jobs, ledger, run_job, live)
        return

    async def indexed(index: int, job: Job) -> tuple[int, list[RequestRecord]]:
        return index, await run_job(job, [])

    tasks = [asyncio.create_task(indexed(i, job), name=f"task-{i}") for i, job in enumerate(jobs)]
    live.update(tasks)
    if mode == GATHER:
        for index, records in await asyncio.gather(*tasks):
            ledger.add(index, records)
    elif mode == MAP:
        for task in tasks:
            ledger.add(*await task)
    elif mode == AS_COMPLETED:
        for next_done in asyncio.as_completed(tasks):
            ledger.add(*await next_done)
    else:
        raise ValueError(f"consume mode {mode!r} is not one of the asyncio strategies'")


async def _taskgroup(
    jobs: Sequence[Job],
    ledger: _jobs.Ledger,
    run_job: RunJob,
    live: set[asyncio.Task[Any]],
) -> None:
    sent: list[list[RequestRecord]] = [[] for _ in jobs]

    async def or_raise(index: int, job: Job) -> list[RequestRecord]:
        records = await run_job(job, sent[index])
        if records[-1].outcome == "error":
            raise JobFailed(records)
        return records

    tasks: list[asyncio.Task[list[RequestRecord]]] = []
    try:
        async with asyncio.TaskGroup() as group:  # type: ignore[attr-defined]  # 3.11+
            for i, job in enumerate(jobs):
                tasks.append(group.create_task(or_raise(i, job), name=f"task-{i}"))
            live.update(tasks)
    except Exception:  # an ExceptionGroup of JobFailed: the group stopped early
        pass
    worker = f"{os.getpid()}/taskgroup"
    for index, task in enumerate(tasks):
        if task.cancelled():
            ledger.add(index, cancelled(jobs[index], sent[index], ledger.t_queued, worker), False)
            continue
        failed = task.exception()
        ledger.add(index, failed.records if isinstance(failed, JobFailed) else task.result())


def cancelled(
    job: Job, attempts: list[RequestRecord], t_queued: float, worker: str
) -> list[RequestRecord]:
    """A job the group cancelled: the attempts it sent, then its final bookkeeping record."""
    for rec in attempts:
        rec.final = False
    return [*attempts, _jobs.bookkeeping(job, GROUP_CANCELLED, t_queued, worker)]


async def finish_sent(fetch: Coroutine[Any, Any, Any], on_cancel: Callable[[Any], None]) -> Any:
    """Await a request; if the task is cancelled meanwhile (by a TaskGroup), let the request
    that is already on its way finish, hand what came back to ``on_cancel`` (its record), and
    only then stop: a request cut off halfway may or may not reach the server, which would
    make the client's count of requests and the server's disagree."""
    inner = asyncio.ensure_future(fetch)
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        on_cancel(await asyncio.shield(inner))  # a second cancel (Ctrl-C) gives up on it
        raise
