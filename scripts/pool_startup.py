"""What a pool costs before and per task: ``ProcessPoolExecutor`` (forkserver, and fork where
it exists) against ``InterpreterPoolExecutor`` (3.14, or 3.13 with interpreters-pep-734), in
the interpreter it is started with.

    python scripts/pool_startup.py [WORKERS] [TASKS] [REPEATS]

Start-up: from creating the pool to the answers of one trivial task per worker. Per task: the
time of TASKS trivial tasks (``abs`` of a small int: an argument and a result crossing over)
once the workers are up, divided by TASKS. Medians of the repeats. (The task is a builtin: a
function defined in ``__main__`` cannot reach a subinterpreter, and waits there for ever.)
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from strategies.interpreterpool import executor_class


def measure(make, workers: int, tasks: int) -> tuple[float, float]:
    start = time.perf_counter()
    pool: Executor = make()
    try:
        list(pool.map(abs, range(workers)))
        up = time.perf_counter() - start
        start = time.perf_counter()
        list(pool.map(abs, range(tasks)))
        per_task = (time.perf_counter() - start) / tasks
    finally:
        pool.shutdown()
    return up, per_task


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    tasks = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    pools = {}
    for method in ("forkserver", "fork"):
        if method in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context(method)
            pools[f"processes ({method})"] = lambda ctx=ctx: ProcessPoolExecutor(
                workers, mp_context=ctx
            )
    interpreters = executor_class()
    if interpreters is not None:
        pools["subinterpreters"] = lambda: interpreters(workers)
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(
        f"Python {sys.version.split()[0]}, GIL {'on' if gil else 'off'}, {workers} workers, "
        f"{tasks} tasks, load {os.getloadavg()[0]:.2f}"
    )
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in pools}
    for _ in range(repeats):  # interleaved
        for name, make in pools.items():
            results[name].append(measure(make, workers, tasks))
    for name, got in results.items():
        up = statistics.median(u for u, _ in got)
        per = statistics.median(p for _, p in got)
        print(f"  {name:<24} start-up {up * 1e3:7.1f} ms   per task {per * 1e6:7.0f} us")
    if interpreters is None:
        print(
            "  subinterpreters: no InterpreterPoolExecutor here (3.14, or 3.13 with the backport)"
        )


if __name__ == "__main__":
    main()
