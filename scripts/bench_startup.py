"""What starting a process pool costs, per start method, with and without the fork server's
preload of the worker's imports.

    .venv/bin/python scripts/bench_startup.py [--workers 4] [--repeats 5]

Each measurement runs in a fresh interpreter (a fork server is started once per process and
keeps its preload): it makes ``processpool``'s own pool (``strategies.pools.process_pool``,
the strategy's initializer, which opens the worker's HTTP client) of W workers and times,
from the pool's creation, the first result and the end of W tasks that each hold a worker for
0.2 s (so every worker must have started). Start-up = that end less the 0.2 s. "preload" is
the fork server importing ``strategies.processpool`` (and with it requests, the client) once,
before any worker forks from it; without it each worker imports them itself. ``fork`` copies
the parent, which has imported them already; ``spawn`` starts each worker from nothing. The
fork server itself is started before timing, as the harness does before a trial's timed
region. Prints medians over the repeats and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HOLD_S = 0.2

CHILD = """
import json, sys, time
from concurrent.futures import wait
import strategies.processpool as pp
from strategies.base import Settings
from strategies.pools import process_pool, warm_fork_server
method, workers, preload = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
modules = [pp.__name__] if preload else []
warm_fork_server(method, modules)  # outside the timing, as before a trial
t0 = time.perf_counter()
pool = process_pool(workers, method, modules, initializer=pp._init_worker, initargs=(Settings(), method))
futures = [pool.submit(time.sleep, HOLD) for _ in range(workers)]
first = None
for f in futures:
    f.result()
    first = first or time.perf_counter() - t0
wait(futures)
done = time.perf_counter() - t0
pool.shutdown()
print(json.dumps({"first_s": first, "startup_s": done - HOLD}))
""".replace("HOLD", repr(HOLD_S))


def measure(method: str, workers: int, preload: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(workers), "1" if preload else "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'start method':<14}{'preload':<9}{'start-up s':>11}{'first result s':>16}")
    configs = [("fork", False), ("forkserver", False), ("forkserver", True), ("spawn", False)]
    results: dict[tuple[str, bool], list[dict[str, float]]] = {c: [] for c in configs}
    for _ in range(args.repeats):  # interleaved, so a busy moment is shared by all
        for method, preload in configs:
            results[(method, preload)].append(measure(method, args.workers, preload))
    for (method, preload), rows in results.items():
        start = statistics.median(r["startup_s"] for r in rows)
        first = statistics.median(r["first_s"] for r in rows)
        print(f"{method:<14}{'yes' if preload else 'no':<9}{start:>11.3f}{first:>16.3f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
