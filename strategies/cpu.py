"""Per-flag CPU work of a known cost, in two kinds that treat the GIL differently.

``python`` is a pure-Python integer loop: it holds the GIL, so threads doing it run one at a
time and an event loop doing it stalls; on a free-threaded build they run at once, and the
loop shares no object between threads, so what it shows is the interpreter's scaling. ``hashlib`` hashes a 64 KiB buffer per loop:
CPython's hashlib releases the GIL for buffers larger than 2 KiB, so threads can overlap it
on several cores. Work is counted in loops, not seconds, so every strategy does exactly the
same work; ``calibrate`` turns milliseconds into loops once, before timing starts.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import get_args

from .base import CpuKind, CpuWork

_BLOCK = bytes(1 << 16)
_MULTIPLIER, _MASK = "1103515245", "4294967295"  # digits, not ints: see _python_loops
_CALIBRATION_S = 0.02
_REPEATS = 3
KINDS: tuple[str, ...] = get_args(CpuKind)


def burn(work: CpuWork | None) -> int:
    """Do ``work``; the return value depends on every loop so nothing can be skipped."""
    if work is None or work.loops <= 0:
        return 0
    if work.kind == "python":
        return _python_loops(work.loops)
    return _hash_loops(work.loops)  # CpuWork admits no third kind


def _python_loops(n: int) -> int:
    # The loop's two constants are made here, by the thread that runs it. A free-threaded
    # CPython (3.13t) counts the references to an object that another thread owns with
    # atomic operations on one shared counter, and does not make a code object's integer
    # constants immortal: threads looping over the same two constant objects would contend
    # for their counters, and the knob would measure itself instead of the interpreter.
    a, m = int(_MULTIPLIER), int(_MASK)
    x = 0
    for i in range(n):
        x = (x * a + i) & m
    return x


def _hash_loops(n: int) -> int:
    h = hashlib.sha256()
    for _ in range(n):
        h.update(_BLOCK)
    return h.digest()[0]


def calibrate(kind: str, ms: float) -> CpuWork:
    """The ``CpuWork`` of ``kind`` that takes about ``ms`` milliseconds on this machine.

    Uses the fastest of a few timings (the least disturbed by other processes), so on a busy
    machine the work is what it would cost on a quiet one.
    """
    if kind not in KINDS:
        allowed = ", ".join(KINDS)
        raise ValueError(f"cpu work kind {kind!r} is not allowed; choose one of: {allowed}")
    if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not math.isfinite(ms) or ms < 0:
        raise ValueError(f"cpu work ms={ms!r} is not allowed; use a number >= 0")
    if ms == 0:
        return CpuWork(kind, 0)  # type: ignore[arg-type]
    n = 1
    while True:
        elapsed = _time(kind, n)
        if elapsed >= _CALIBRATION_S:
            break
        n *= 2 if elapsed <= 0 else max(2, min(64, math.ceil(_CALIBRATION_S / elapsed)))
    best = min([elapsed] + [_time(kind, n) for _ in range(_REPEATS - 1)])
    loops = max(1, round(ms / 1000 * n / best))
    return CpuWork(kind, loops)  # type: ignore[arg-type]


def _time(kind: str, n: int) -> float:
    work = CpuWork(kind, n)  # type: ignore[arg-type]
    start = time.perf_counter()
    burn(work)
    return time.perf_counter() - start
