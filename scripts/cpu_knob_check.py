"""Does the ``python`` CPU work scale across threads as the interpreter does, or does it
measure itself? Runs, in the interpreter it is started with, the work on 1 thread and on C
threads at once (C = 2 by default), for three loops: flagbench's (strategies.cpu), the same
loop with its constants shared by every thread (flagbench's loop before it made them per
thread), and hashlib (releases the GIL). Prints each one's speed-up, median of the repeats.

    python scripts/cpu_knob_check.py [C] [REPEATS]

Meaningful on a free-threaded build (3.13t) with C cores free: elsewhere threads cannot
overlap pure-Python work and every python speed-up is about 1.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from strategies.base import CpuWork
from strategies.cpu import burn, calibrate


def shared_constants(n: int) -> int:
    """flagbench's loop before: its constants are the code object's, shared by all threads."""
    x = 0
    for i in range(n):
        x = (x * 1103515245 + i) & 0xFFFFFFFF
    return x


def speedup(work, threads: int) -> float:
    """Time of ``threads`` runs one after another over the same runs on ``threads`` threads."""
    start = time.perf_counter()
    for _ in range(threads):
        work()
    alone = time.perf_counter() - start
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: None, range(threads)))  # the threads exist before the clock
        start = time.perf_counter()
        list(pool.map(lambda _: work(), range(threads)))
        together = time.perf_counter() - start
    return alone / together


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    python, hashing = calibrate("python", 200), calibrate("hashlib", 200)
    loops = {
        "python (flagbench's loop)": lambda: burn(python),
        "python (constants shared)": lambda: shared_constants(python.loops),
        "hashlib": lambda: burn(CpuWork("hashlib", hashing.loops)),
    }
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(
        f"Python {sys.version.split()[0]}, GIL {'on' if gil else 'off'}, C={threads}, "
        f"load {os.getloadavg()[0]:.2f}, 200 ms of work per thread"
    )
    results: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeats):  # interleaved, so a burst of load hits every loop alike
        for name, work in loops.items():
            results[name].append(speedup(work, threads))
    for name, values in results.items():
        print(
            f"  {name:<28} speed-up {statistics.median(values):.2f}x "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )


if __name__ == "__main__":
    main()
