"""Probes that run beside a strategy inside the worker process.

The heartbeat thread asks to wake up every ``interval_s`` and records how late it was. With
threads competing for the GIL (or a busy process) the wake-up comes late, so its lag is a
direct, strategy-independent reading of GIL contention. Cost: one short wake-up per interval.
"""

from __future__ import annotations

import multiprocessing.forkserver as forkserver
import resource
import sys
import threading
import time

from strategies.base import ProbeKind, ProbeSample


class Heartbeat:
    """A daemon thread appending ``ProbeSample(kind, t, lag)`` to ``sink``. At a human pace
    (100 ms, ``spinner_thread``) it is the book's spinner thread; ``on=False`` makes it a
    context manager that does nothing."""

    def __init__(
        self,
        sink: list[ProbeSample],
        interval_s: float = 0.01,
        kind: ProbeKind = "heartbeat",
        on: bool = True,
    ) -> None:
        self._sink = sink
        self._interval = interval_s
        self._kind = kind
        self._on = on
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="flagbench-heartbeat", daemon=True)

    def _beat(self) -> None:
        clock, interval, sink, kind = time.perf_counter, self._interval, self._sink, self._kind
        while True:
            before = clock()
            if self._stop.wait(interval):
                return
            now = clock()
            sink.append(ProbeSample(kind, now, max(0.0, now - before - interval)))

    def __enter__(self) -> Heartbeat:
        if self._on:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._on:
            self._thread.join(timeout=5)


def reap_fork_server() -> None:
    """Stop the multiprocessing fork server, if a pool started one, and wait for it.

    Pool processes started through it are its children, not ours: their CPU time reaches our
    ``RUSAGE_CHILDREN`` only once the fork server itself has exited and been reaped. Called
    after the timed region, before ``cpu_times``. ``_stop`` is private (3.8 to 3.13 have it);
    without it the pool's CPU time is missing, not wrong.
    """
    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is not None and getattr(server, "_forkserver_pid", None) is not None:
        stop()


def cpu_times() -> tuple[float, float]:
    """User and system CPU seconds of this process and its reaped children (pool workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + kids.ru_utime, me.ru_stime + kids.ru_stime


def peak_rss_mib() -> float:
    """Peak resident memory of this process or its largest child, in MiB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return max(me, kids) * scale / 2**20
