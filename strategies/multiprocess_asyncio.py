"""``multiprocess_asyncio``: P processes, each running the asyncio strategy on a shard of the jobs.

The usual answer to "asyncio uses one core": one event loop per process, the concurrency C
split between them (each at least 1, together exactly C, so the server never sees more than
C in flight) and the jobs sharded in proportion (``_shards``). Each process runs the
``asyncio`` strategy's own job loop with the configured client and event loop, so the only
difference from ``asyncio`` is how many cores the loops can use.

The processes are started and have imported everything before the first request: in
``start`` when the harness calls it (outside the timed region, reported as start-up), else
at the start of ``run``. Records come back through a pipe; their times are
``time.perf_counter()``, which is CLOCK_MONOTONIC, one clock for every process of the machine,
so they merge as they are. A first attempt's ``t_queued`` is when its process got its shard.
With a ``progress`` callback, each process also sends its finished jobs' final records in
small batches as it goes; without one it sends everything once, at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import signal
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, cast

from . import _aio, _jobs, _shards
from ._exceptions import StrategyError
from .base import Job, ProbeSample, Progress, RequestRecord, Settings
from .classify import CANCELLED, WORKER_LOST
from .clients import ASYNC_CLIENTS, LOOPS, choose

READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 5.0  # after Ctrl-C, beyond one request timeout, for the processes to answer
BATCH_RECORDS = 64
BATCH_SECONDS = 0.05


class _Sender:
    """Batches a child's final records for the parent's progress callback."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.batch: list[RequestRecord] = []
        self.sent = time.perf_counter()

    def add(self, record: RequestRecord) -> None:
        self.batch.append(record)
        now = time.perf_counter()
        if len(self.batch) >= BATCH_RECORDS or now - self.sent >= BATCH_SECONDS:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self.batch:
            self.conn.send(("progress", self.batch))
            self.batch = []
        self.sent = now or time.perf_counter()


def _child(conn: Connection) -> None:
    """One process: wait for a shard, run it on a fresh event loop, send the records back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, until a shard runs
    conn.send("ready")
    try:
        task = conn.recv()
    except EOFError:
        return
    if task is None:
        return
    jobs, settings, client, loop, want_progress, want_probes = task
    sender = _Sender(conn) if want_progress else None
    probes: list[ProbeSample] | None = [] if want_probes else None
    records: list[RequestRecord] | None = None
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the parent's stop signal
    # A stop at the very edge of the run escapes it: the parent then accounts for the shard.
    with contextlib.suppress(KeyboardInterrupt):
        records = _aio.run(
            jobs,
            settings,
            sender.add if sender else None,
            probes,
            offload=False,
            client=client,
            loop=loop,
        )
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sender is not None:
        sender.flush()
    conn.send(("done", records, probes))


@dataclasses.dataclass
class _Place:
    """One child process and what it was given and gave back."""

    process: Any  # multiprocessing.Process of the chosen context
    conn: Connection
    jobs: list[Job] = dataclasses.field(default_factory=list)
    finals: list[RequestRecord] = dataclasses.field(default_factory=list)  # via progress
    records: list[RequestRecord] | None = None  # the whole shard's, when it finished
    done: bool = False
    told: bool = False  # it has been sent its shard (or told to quit)


class MultiprocessAsyncioStrategy:
    name = "multiprocess_asyncio"
    description = (
        "P processes, each the asyncio strategy on a shard of the jobs, C split between them"
    )
    rank = 5  # sixth in listings: see strategies.names()
    clients = ASYNC_CLIENTS  # Settings.client: aiohttp (the default) or httpx
    loops = LOOPS  # Settings.loop: asyncio (the default) or uvloop

    def __init__(self) -> None:
        self._places: list[_Place] = []

    def start(self, jobs: Sequence[Job], settings: Settings) -> dict[str, Any]:
        """Start the processes and wait until each is ready for its shard."""
        choose(self, settings)
        self.close()
        wanted = settings.processes or os.cpu_count() or 1
        count = _shards.places(wanted, settings.concurrency, len(jobs))
        context = multiprocessing.get_context(settings.start_method)
        for _ in range(count):
            parent, child = context.Pipe()
            # typeshed: get_context() of a plain str is a BaseContext, which lacks Process
            process = context.Process(  # type: ignore[attr-defined]
                target=_child, args=(child,), daemon=True, name="flagbench-loop"
            )
            process.start()
            child.close()
            self._places.append(_Place(process, parent))
        for k, place in enumerate(self._places):
            if not place.conn.poll(READY_TIMEOUT_S) or _recv(place.conn) != "ready":
                self.close()
                raise StrategyError(
                    f"multiprocess_asyncio: process {k + 1} of {count} did not "
                    f"start within {READY_TIMEOUT_S:.0f} s"
                )
        return {"processes": count, "start_method": context.get_start_method()}

    def close(self) -> None:
        """Reap every process: those never given a shard are told to quit."""
        for place in self._places:
            if not place.told:
                with contextlib.suppress(OSError):
                    place.conn.send(None)
        for place in self._places:
            place.process.join(STOP_GRACE_S)
            if place.process.is_alive():
                place.process.terminate()
                place.process.join(STOP_GRACE_S)
            if place.process.is_alive():
                place.process.kill()
                place.process.join()
            place.conn.close()
        self._places = []

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        choice = choose(self, settings)
        if not jobs:
            return []
        own = not self._places
        if own:
            self.start(jobs, settings)
        try:
            return self._run(jobs, settings, choice.client, choice.loop, progress, probes)
        finally:
            if own:
                self.close()

    def _run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        client: str,
        loop: str,
        progress: Progress | None,
        probes: list[ProbeSample] | None,
    ) -> list[RequestRecord]:
        places = self._places[: _shards.places(len(self._places), settings.concurrency, len(jobs))]
        shares = _shards.split(settings.concurrency, len(places))
        for place, share, indexes in zip(
            places, shares, _shards.shard(len(jobs), shares), strict=True
        ):
            place.jobs = [jobs[i] for i in indexes]
            mine = dataclasses.replace(settings, concurrency=share)
            place.conn.send(
                (place.jobs, mine, client, loop, progress is not None, probes is not None)
            )
            place.told = True
        give_up = float("inf")  # after Ctrl-C: when to stop waiting for the processes
        interrupted = False
        while not all(p.done for p in places) and time.perf_counter() < give_up:
            try:
                self._receive(places, progress, probes)
            except KeyboardInterrupt:
                if not interrupted:
                    interrupted = True
                    give_up = time.perf_counter() + settings.timeout_s + STOP_GRACE_S
                    _interrupt(places)
        records: list[RequestRecord] = []
        for place in places:
            records.extend(self._accounted(place, progress, interrupted))
            place.process.join(STOP_GRACE_S)  # reaped: its CPU time counts as the run's
        return records

    @staticmethod
    def _receive(
        places: list[_Place], progress: Progress | None, probes: list[ProbeSample] | None
    ) -> None:
        """Handle whatever the processes sent (or their death) within a short wait."""
        live = {p.conn: p for p in places if not p.done}
        sentinels = {p.process.sentinel: p for p in places if not p.done}
        for ready in wait([*live, *sentinels], timeout=0.5):
            # not a key of live when it is a sentinel (an int): then get() gives None
            place = live.get(cast(Connection, ready)) or sentinels[ready]
            if place.done:
                continue
            if ready in sentinels and not place.conn.poll():
                place.done = True  # it died without a word: its shard is lost
                continue
            message = _recv(place.conn)
            if message is None:
                place.done = True
            elif message[0] == "progress":
                place.finals.extend(message[1])
                for record in message[1]:
                    if progress is not None:
                        progress(record)
            elif message[0] == "done":
                _, place.records, samples = message
                place.done = True
                if probes is not None and samples:
                    probes.extend(samples)

    @staticmethod
    def _accounted(
        place: _Place, progress: Progress | None, interrupted: bool
    ) -> list[RequestRecord]:
        """The shard's records; a final record for each job a dead (or stopped) process left."""
        if place.records is not None:
            return place.records
        kind = CANCELLED if interrupted else WORKER_LOST
        worker = f"{place.process.pid}/lost"
        t_now = time.perf_counter()
        lost = [
            _jobs.bookkeeping(job, kind, t_now, worker)
            for job in _shards.unfinished(place.jobs, [r.cc for r in place.finals])
        ]
        for record in lost:
            if progress is not None:
                progress(record)
        return [*place.finals, *lost]


def _recv(conn: Connection) -> Any:
    """The next message, or None when the other end is gone."""
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


def _interrupt(places: list[_Place]) -> None:
    """Ctrl-C: each process stops its loop and sends back what finished."""
    for place in places:
        if not place.done and place.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(place.process.pid, signal.SIGINT)
