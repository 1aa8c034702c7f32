"""Load the worker puts beside a strategy: CPU-bound threads and the interpreter's switch interval.

One CPU-bound thread is enough to show the GIL's convoy effect: a thread that wakes from a
socket read must wait for the GIL, which the busy thread gives up only when the switch
interval (``sys.setswitchinterval``) asks it to. Both are set up before the timed region and
undone after it, always: the threads are stopped and joined even when the strategy fails.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from strategies.base import CpuWork
from strategies.cpu import burn

# Loops between two looks at the stop flag: about 50 µs of work, so stopping is prompt.
CHUNK = CpuWork("python", 2_000)
JOIN_TIMEOUT_S = 10.0


class BackgroundThreads:
    """``count`` threads running pure-Python CPU work until the block ends.

    ``cpu_s`` is the CPU time they got in all (read after they stop): how much of a core the
    background load took from the downloads, the other side of the switch-interval trade.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._spin, name=f"flagbench-cpu-{i}", daemon=True)
            for i in range(count)
        ]

    def _spin(self) -> None:
        start = time.thread_time()
        try:
            while not self._stop.is_set():
                burn(CHUNK)
        finally:
            with self._lock:
                self.cpu_s += time.thread_time() - start

    def __enter__(self) -> BackgroundThreads:
        try:
            for thread in self._threads:
                thread.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive() or thread.ident is not None:
                thread.join(timeout=JOIN_TIMEOUT_S)


@contextmanager
def switch_interval(seconds: float | None) -> Iterator[float]:
    """Set the interpreter's switch interval for the block (None: leave it); yields the value
    in force, as the interpreter reports it back."""
    before = sys.getswitchinterval()
    if seconds is not None:
        sys.setswitchinterval(seconds)
    try:
        yield sys.getswitchinterval()
    finally:
        sys.setswitchinterval(before)
