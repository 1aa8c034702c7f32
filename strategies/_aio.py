"""A job with an asyncio client, and the bounded producer the asyncio strategies run.

Concurrency is ``asyncio.Semaphore(C)`` around each request (as in the book's flags2 and
flags3 asyncio scripts). The client (aiohttp or httpx, see ``_clients_async``) allows exactly
C connections, so it is never a second, smaller cap, and connections are reused across
requests; the event loop is asyncio's or uvloop's. Tasks are created by a
producer that keeps at most ``2 * C`` alive and hands each finished one to the ledger from a
done-callback, so 100,000 jobs need about 2C tasks, not 100,000.

The two strategies differ only in ``offload``: whether the blocking steps (CPU work, saving)
run on the event loop or in an executor through ``loop.run_in_executor``: a
``ThreadPoolExecutor(C)``, or with ``Settings.executor = "process"`` a
``ProcessPoolExecutor(min(C, cores))`` (more processes than cores add no CPU, only start-up
and memory; the step, its settings and the flag's bytes are pickled to a child and back).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import random
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import _aio_consume, _jobs, arrivals
from ._clients_async import AsyncTransport, open_transport, run_loop
from .base import Job, ProbeSample, Progress, RequestRecord, Resource, Settings
from .classify import INTERNAL_ERROR, SAVE_ERROR
from .consume import TASKGROUP
from .pools import process_pool, stop_workers
from .probes import loop_lag_probe
from .retry import backoff_delay, should_retry
from .spread import usable_cores

LIVE_TASKS_PER_SLOT = 2
_JobCoro = Coroutine[Any, Any, list[RequestRecord]]


@dataclass(slots=True)
class _Context:
    session: AsyncTransport
    semaphore: asyncio.Semaphore
    settings: Settings
    pool: Executor | None  # None: blocking steps run on the loop itself
    finish_sent: bool = False  # TaskGroup: a cancelled job's request in flight still finishes
    pid: int = field(default_factory=os.getpid)
    rng: random.Random = field(default_factory=random.Random)


def executor_workers(settings: Settings, cores: int) -> int:
    """The executor's size: C threads, or one process per core at most."""
    c = settings.concurrency
    return c if settings.executor == "thread" else min(c, cores)


def _executor(settings: Settings) -> Executor:
    workers = executor_workers(settings, usable_cores())
    if settings.executor == "process":
        return process_pool(workers, settings.start_method, [_jobs.__name__])
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blocking")


def run(
    jobs: Sequence[Job],
    settings: Settings,
    progress: Progress | None,
    probes: list[ProbeSample] | None,
    *,
    offload: bool,
    client: str = "aiohttp",
    loop: str = "asyncio",
    consume: str = "",
) -> list[RequestRecord]:
    """Run every job on a fresh event loop; Ctrl-C returns what finished. ``consume`` is how
    results reach the caller (strategies.consume); "" is the bounded producer."""
    ledger = _jobs.begin(jobs, settings, progress)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        run_loop(_main(jobs, settings, ledger, probes, offload, client, consume), loop)
    return ledger.close()


async def _main(
    jobs: Sequence[Job],
    settings: Settings,
    ledger: _jobs.Ledger,
    probes: list[ProbeSample] | None,
    offload: bool,
    client: str,
    consume: str = "",
) -> None:
    c = settings.concurrency
    pool = _executor(settings) if offload and settings.blocking else None
    watchers = []
    if probes is not None and settings.lag_probe:
        watchers.append(loop_lag_probe(probes, settings.probe_interval_s))
    if probes is not None and settings.spinner_s > 0:
        watchers.append(loop_lag_probe(probes, settings.spinner_s, "spinner_loop"))
    probe_tasks = [asyncio.create_task(w) for w in watchers]
    live: set[asyncio.Task[list[RequestRecord]]] = set()
    slots = asyncio.Semaphore(LIVE_TASKS_PER_SLOT * c)
    t0 = ledger.t_queued
    finished = False

    def done(index: int, task: asyncio.Task[list[RequestRecord]]) -> None:
        live.discard(task)
        slots.release()
        if task.cancelled():
            return  # Ctrl-C: the ledger records the job as cancelled
        if task.exception() is None:
            ledger.add(index, task.result())
        else:
            worker = f"{os.getpid()}/{task.get_name()}"
            ledger.add(index, [_jobs.bookkeeping(jobs[index], INTERNAL_ERROR, t0, worker)])

    try:
        async with open_transport(client, settings) as session:
            ctx = _Context(session, asyncio.Semaphore(c), settings, pool, consume == TASKGROUP)
            if settings.rate > 0:
                await _run_open(ctx, jobs, ledger, live, done)
            elif consume:

                def run_job(job: Job, records: list[RequestRecord]) -> _JobCoro:
                    return _run_job(ctx, job, t0, records)

                await _aio_consume.consume(consume, jobs, ledger, run_job, live)
            else:
                for index, job in enumerate(jobs):
                    await slots.acquire()
                    task = asyncio.create_task(_run_job(ctx, job, t0), name=f"task-{index}")
                    live.add(task)
                    task.add_done_callback(functools.partial(done, index))
                for _ in range(LIVE_TASKS_PER_SLOT * c):  # every slot back: every task done
                    await slots.acquire()
            finished = True
    finally:
        for task in live:
            task.cancel()
        if live:
            await asyncio.gather(*live, return_exceptions=True)
        for probe in probe_tasks:
            probe.cancel()
        await asyncio.gather(*probe_tasks, return_exceptions=True)
        if pool is not None:
            if not finished and settings.executor == "process":
                stop_workers(pool)  # type: ignore[arg-type]
            pool.shutdown(wait=finished, cancel_futures=True)


async def _run_open(
    ctx: _Context,
    jobs: Sequence[Job],
    ledger: _jobs.Ledger,
    live: set[asyncio.Task[list[RequestRecord]]],
    done: Callable[[int, asyncio.Task[list[RequestRecord]]], None],
) -> None:
    """Open loop (strategies.arrivals): a task per arrival when it is due, however many are
    waiting; the semaphore caps the requests in flight, and ``locked()`` says the cap is
    reached when an arrival is to be dropped instead of queued."""

    def start(index: int, job: Job, due: float) -> None:
        coro = arrivals.stamped(_run_job(ctx, job, time.perf_counter()), due)
        task = asyncio.create_task(coro, name=f"task-{index}")
        live.add(task)
        task.add_done_callback(functools.partial(done, index))

    def drop(index: int, job: Job, due: float) -> None:
        ledger.add(index, [arrivals.dropped(job, due)])

    await arrivals.pace_async(jobs, ctx.settings, start, ctx.semaphore.locked, drop)
    while live:
        await asyncio.wait(set(live))


async def _run_job(
    ctx: _Context, job: Job, t_queued: float, records: list[RequestRecord] | None = None
) -> list[RequestRecord]:
    """One job's records, appended to ``records`` as each attempt ends (a TaskGroup's caller
    keeps the list, so a job it cancels still shows the attempts it sent)."""
    records = [] if records is None else records
    worker = f"{ctx.pid}/{_task_name()}"
    try:
        country = None
        if ctx.settings.metadata:
            body = await _fetch_resource(
                ctx, job, "metadata", job.metadata_url, t_queued, records, worker
            )
            if body is None:
                return _jobs.finish(records)
            country = _jobs.parse_country(body)
            t_queued = time.perf_counter()
        body = await _fetch_resource(ctx, job, "flag", job.flag_url, t_queued, records, worker)
        if body is not None:
            try:
                settings = ctx.settings
                if settings.save_wait == "await" and settings.save_delay_s > 0:
                    await asyncio.sleep(settings.save_delay_s)  # the loop goes on meanwhile
                    settings = dataclasses.replace(settings, save_delay_s=0.0)
                if ctx.pool is None:
                    _jobs.post_process(body, job.cc, country, settings)
                else:
                    loop = asyncio.get_running_loop()
                    await loop.run_in_executor(
                        ctx.pool, _jobs.post_process, body, job.cc, country, settings
                    )
            except OSError:
                records[-1].outcome, records[-1].error_kind = "error", SAVE_ERROR
        return _jobs.finish(records)
    except Exception:
        _jobs.internal_error(job, records, t_queued, worker)
        return records


def _task_name() -> str:
    task = asyncio.current_task()
    return task.get_name() if task is not None else "task"


async def _fetch_resource(
    ctx: _Context,
    job: Job,
    resource: Resource,
    url: str,
    t_queued: float,
    records: list[RequestRecord],
    worker: str,
) -> bytes | None:
    settings = ctx.settings
    attempt = 1
    while True:
        async with ctx.semaphore:
            t_start = time.perf_counter()
            if ctx.finish_sent:

                def sent(
                    got: _jobs.Fetched, a: int = attempt, q: float = t_queued, s: float = t_start
                ) -> None:
                    now = time.perf_counter()
                    records.append(_jobs.record(job, resource, a, q, s, now, got, worker))

                got = await _aio_consume.finish_sent(ctx.session.fetch(url), sent)
            else:
                got = await ctx.session.fetch(url)
            t_end = time.perf_counter()
        rec = _jobs.record(job, resource, attempt, t_queued, t_start, t_end, got, worker)
        records.append(rec)
        if rec.outcome == "ok":
            return got.body
        if not should_retry(rec.outcome, attempt, settings.retries):
            return None
        delay = backoff_delay(
            attempt, settings.backoff_s, ctx.rng.random(), _jobs.retry_after_s(got)
        )
        await arrivals.sleep_until(time.perf_counter() + delay)
        t_queued = time.perf_counter()
        attempt += 1
