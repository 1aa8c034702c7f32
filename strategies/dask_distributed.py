"""``dask``: the jobs go in batches to the workers of a dask.distributed cluster.

Beyond one machine, an existing engine: dask.distributed (the optional extra
``flagbench[dask]``). By default a ``LocalCluster`` of ``dask_workers`` processes with
``dask_threads`` threads each is started for the trial; ``scheduler`` (``tcp://HOST:PORT``)
uses an existing cluster instead, which is how a benchmark grows past one machine. Started
by ``start`` (the harness calls it outside the timed region and reports its time), or else at
the start of ``run``.

C is the total across the cluster: each worker used gets a share (at least 1, together C)
and a shard of the jobs in proportion (``_shards``), and runs them on an event loop of its
own with the configured client and loop (``_dask_worker``), which never has more than its
share in flight. The shard travels in batches (dask tasks pinned to that worker), so results,
progress and Ctrl-C work batch by batch, and finished batches come back while later ones run.
Records carry the worker's address in ``worker`` and come back on this process's clock:
each worker's offset is measured when the cluster is taken up (``_dask_clock``).

The trial's CPU columns include the workers' own (``cpu_elsewhere``): each measures its
process's CPU time while its loop runs.

dask never retries a task here: each batch is pinned to its worker, so it is never moved to
another (which would send its requests twice); every second the scheduler is asked which
workers are still there, and the batches of one that left end their jobs as ``worker_lost``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import _dask_clock, _dask_worker, _jobs, _shards
from ._exceptions import UnsupportedSetting
from .base import Job, ProbeSample, Progress, RequestRecord, Settings
from .classify import WORKER_LOST
from .clients import ASYNC_CLIENTS, LOOPS, choose

INSTALL = "pip install 'flagbench[dask]'"
CONNECT_TIMEOUT_S = 30.0
DEFAULT_THREADS = 2  # two batches at a time per worker: one starts while the other ends
BATCHES_PER_WORKER = 8
MAX_BATCH = 1000
WORKER_CHECK_S = 1.0  # how often to ask the scheduler which workers are still there
POLL_S = 0.002  # between looks for finished batches (dask's own blocking wait has no timeout)
SCHEMES = ("tcp", "tls")


def distributed() -> Any:
    """The dask.distributed module, or one line saying how to install it."""
    try:
        # deferred: dask is an optional extra
        import distributed as module
    except ImportError:
        raise UnsupportedSetting(
            f"the dask strategy needs dask.distributed, which is not "
            f"installed; install it with: {INSTALL}"
        ) from None
    return module


def check_address(address: str) -> None:
    """A scheduler address must be ``tcp://HOST:PORT`` (or ``tls://``)."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or port is None:
        raise UnsupportedSetting(
            f"scheduler {address!r}: expected tcp://HOST:PORT, the address "
            "a dask scheduler prints when it starts"
        )


def batch_size(n_jobs: int, share: int) -> int:
    """Jobs per batch for a worker with ``n_jobs`` jobs and ``share`` slots: about
    ``BATCHES_PER_WORKER`` batches, so results come back steadily and a stop loses little, but
    at least one round of its slots, so the two batches a worker runs at once keep every slot
    busy while one of them ends; at most ``MAX_BATCH``."""
    return max(1, min(n_jobs, max(share, min(MAX_BATCH, math.ceil(n_jobs / BATCHES_PER_WORKER)))))


@dataclass
class _Cluster:
    client: Any
    local: Any | None  # the LocalCluster started for the trial, if any
    workers: list[str]
    offsets: dict[str, _dask_clock.Offset]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close(timeout=CONNECT_TIMEOUT_S)
        if self.local is not None:
            self.local.close(timeout=CONNECT_TIMEOUT_S)


class DaskStrategy:
    name = "dask"
    description = (
        "dask.distributed: batches of jobs to each worker's event loop, C split between them"
    )
    rank = 6  # seventh in listings: see strategies.names()
    clients = ASYNC_CLIENTS  # Settings.client: aiohttp (the default) or httpx
    loops = LOOPS  # Settings.loop of each worker's event loop: asyncio (the default) or uvloop

    def __init__(self) -> None:
        self._cluster: _Cluster | None = None
        self._cpu = (0.0, 0.0)

    def cpu_elsewhere(self) -> tuple[float, float]:
        """User and system CPU seconds the workers' processes used during the last ``run``:
        the harness cannot see them (they are not its children, or not yet reaped)."""
        return self._cpu

    def check(self, settings: Settings) -> None:
        distributed()
        if settings.scheduler is not None:
            check_address(settings.scheduler)

    def start(self, jobs: Sequence[Job], settings: Settings) -> dict[str, Any]:
        """Take up the cluster (start a LocalCluster, or connect) and measure its clocks."""
        choice = choose(self, settings)
        self.check(settings)
        self.close()
        dd = distributed()
        local = None
        if settings.scheduler is None:
            local = dd.LocalCluster(
                n_workers=settings.dask_workers or os.cpu_count() or 1,
                threads_per_worker=settings.dask_threads or DEFAULT_THREADS,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            )
        try:
            client = dd.Client(
                local or settings.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False
            )
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except BaseException:
            if local is not None:
                local.close()
            raise
        workers = sorted(client.scheduler_info()["workers"])
        client.run(_dask_worker.warm, choice.client, choice.loop, workers=workers)
        self._cluster = _Cluster(client, local, workers, _dask_clock.measure(client, workers))
        return {
            "cluster": "local" if local is not None else "existing",
            "scheduler": client.scheduler.address,
            "workers": len(workers),
            "clock_offsets_s": {w: o.offset_s for w, o in self._cluster.offsets.items()},
            "clock_offset_error_s": max(o.error_s for o in self._cluster.offsets.values()),
        }

    def close(self) -> None:
        if self._cluster is not None:
            cluster, self._cluster = self._cluster, None
            cluster.close()

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        choice = choose(self, settings)
        ledger = _jobs.begin(jobs, settings, progress)
        if not jobs:
            return ledger.close()
        own = self._cluster is None
        if own:
            self.start(jobs, settings)
        assert self._cluster is not None
        try:
            self._run(self._cluster, jobs, settings, choice.client, choice.loop, ledger, probes)
        except KeyboardInterrupt:
            pass  # what finished is in the ledger; the rest is recorded as cancelled
        finally:
            if own:
                self.close()
        return ledger.close()

    def _run(
        self,
        cluster: _Cluster,
        jobs: Sequence[Job],
        settings: Settings,
        client: str,
        loop: str,
        ledger: _jobs.Ledger,
        probes: list[ProbeSample] | None,
    ) -> None:
        dd = distributed()
        workers = cluster.workers[
            : _shards.places(len(cluster.workers), settings.concurrency, len(jobs))
        ]
        shares = _shards.split(settings.concurrency, len(workers))
        token = uuid.uuid4().hex
        dc = cluster.client
        dc.run(
            _dask_worker.open_runner,
            token,
            dict(zip(workers, shares, strict=True)),
            settings,
            client,
            loop,
            probes is not None,
            workers=workers,
        )
        futures: dict[Any, tuple[str, list[tuple[int, Job]]]] = {}
        try:
            for w, share, indexes in zip(
                workers, shares, _shards.shard(len(jobs), shares), strict=True
            ):
                size = batch_size(len(indexes), share)
                t_queued = ledger.t_queued + cluster.offsets[w].offset_s  # on the worker's clock
                for start in range(0, len(indexes), size):
                    batch = [(i, jobs[i]) for i in indexes[start : start + size]]
                    future = dc.submit(
                        _dask_worker.run_batch,
                        token,
                        batch,
                        t_queued,
                        workers=[w],
                        allow_other_workers=False,
                        pure=False,
                        key=f"flagbench-{token}-{len(futures)}",
                    )
                    futures[future] = (w, batch)
            arrivals = dd.as_completed(list(futures), loop=dc.loop)
            checked = time.monotonic()
            while futures:
                done = [f for f in arrivals.next_batch(block=False) if f in futures]
                if time.monotonic() - checked > WORKER_CHECK_S:
                    done = list(dict.fromkeys([*done, *self._lost(dc, futures)]))
                    checked = time.monotonic()
                if not done:
                    time.sleep(POLL_S)
                for future in done:
                    w, batch = futures.pop(future)
                    self._collect(ledger, future, batch, cluster.offsets[w].offset_s)
        finally:
            for future in [f for f in futures if f.status == "finished"]:  # Ctrl-C: keep them
                w, batch = futures.pop(future)
                self._collect(ledger, future, batch, cluster.offsets[w].offset_s)
            dc.cancel(list(futures))
            alive = [w for w in workers if w in dc.scheduler_info()["workers"]]
            closed = {
                w: c
                for w, c in dc.run(
                    _dask_worker.close_runner, token, workers=alive, on_error="return"
                ).items()
                if isinstance(c, tuple)
            }
            self._cpu = (sum(c[1] for c in closed.values()), sum(c[2] for c in closed.values()))
            if probes is not None:
                for w, (found, _, _) in closed.items():
                    shift = cluster.offsets[w].offset_s
                    probes.extend(ProbeSample(p.kind, p.t - shift, p.lag_s) for p in found)

    @staticmethod
    def _lost(dc: Any, futures: dict[Any, tuple[str, list[tuple[int, Job]]]]) -> list[Any]:
        """The batches of workers that left the cluster (dead, or replaced by their nanny under
        a new address): pinned to them, they would wait for ever. Cancelled, and returned to be
        collected as ``worker_lost``."""
        alive = set(dc.scheduler_info()["workers"])
        lost = [f for f, (w, _) in futures.items() if w not in alive]
        dc.cancel(lost)
        return lost

    @staticmethod
    def _collect(
        ledger: _jobs.Ledger, future: Any, batch: list[tuple[int, Job]], offset_s: float
    ) -> None:
        """A finished batch into the ledger, on this process's clock."""
        try:
            results = future.result()
        except Exception:  # the worker died or its loop was stopped: nothing came back
            worker = f"{os.getpid()}/dask"
            for index, job in batch:
                ledger.add(index, [_jobs.bookkeeping(job, WORKER_LOST, ledger.t_queued, worker)])
            return
        for index, records in results:
            for rec in records:
                rec.t_queued -= offset_s
                rec.t_start -= offset_s
                rec.t_end -= offset_s
            ledger.add(index, records)
