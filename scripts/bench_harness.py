"""How much does the harness cost, and does it change what it measures?

    .venv/bin/python scripts/bench_harness.py [--repeats 7] [--jobs 1000] [--concurrency 100]

Against one embedded server (latency 100 ms), interleaved, for each strategy named:

- harness: ``bench.run.runner.run_trial`` as a suite runs it (fresh worker process, server
  reconfigured and its stats reset and read, records written and read back), timed from
  outside; ``overhead = outside time - the trial's own wall_s``, plus the cost of collecting
  the tables, per trial.
- direct: a plain script in a fresh process that builds the jobs and times
  ``strategy.run`` itself, with no harness around it.

Prints medians and the ratio harness / direct of the timed region. Targets: overhead under
1 s per 1,000-request trial, ratio within 5%.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.define.spec import Suite, Trial
from bench.define.values import Codes, Latency
from bench.define.workload import Workload
from bench.results import collect
from bench.run.runner import RunOptions, run_trial
from flags_server import ServerConfig, running

DIRECT = """
import sys, time
import strategies
from strategies.base import Settings, make_jobs
flags_url, name, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
codes = (open(sys.argv[5]).read().split())
jobs = make_jobs(flags_url, codes[:n])
strategy = strategies.get(name)
t0 = time.perf_counter()
records = strategy.run(jobs, Settings(concurrency=c))
print(time.perf_counter() - t0)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency", default="100ms")
    parser.add_argument("strategies", nargs="*", default=["asyncio", "threadpool"])
    args = parser.parse_args()

    workload = Workload(
        codes=Codes("all"),
        n_jobs=args.jobs,
        concurrency=args.concurrency,
        latency=Latency(args.latency),
    )
    suite = Suite("harness-bench", tuple(args.strategies), (workload,), seed=1)
    results: dict[str, dict[str, list[float]]] = {
        s: {"harness": [], "direct": [], "overhead": [], "collect": []} for s in args.strategies
    }
    with tempfile.TemporaryDirectory() as tmp, running(ServerConfig(seed=1)) as srv:
        scratch = Path(tmp)
        codes_file = scratch / "codes.txt"
        codes_file.write_text(" ".join(workload.codes_list()))
        script = scratch / "direct.py"
        script.write_text(DIRECT)
        options = RunOptions()
        trial_id = 0
        for _ in range(args.repeats):
            for name in args.strategies:
                trial = Trial(trial_id, name, workload, repeat=0)
                trial_id += 1
                t0 = time.perf_counter()
                done = run_trial(trial, srv, suite, options, scratch)
                outside = time.perf_counter() - t0
                assert done.ok and done.result, done.failure
                c0 = time.perf_counter()
                collect.collect("bench", [done])
                results[name]["collect"].append(time.perf_counter() - c0)
                wall = done.result.wall_s
                results[name]["harness"].append(wall)
                results[name]["overhead"].append(outside - wall)

                srv.configure(**workload.server_changes())
                srv.reset_stats()
                out = subprocess.run(
                    [
                        sys.executable,
                        str(script),
                        srv.flags_url,
                        name,
                        str(args.jobs),
                        str(args.concurrency),
                        str(codes_file),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=600,
                )
                results[name]["direct"].append(float(out.stdout))

    print(
        f"N={args.jobs} C={args.concurrency} latency={args.latency}, "
        f"{args.repeats} interleaved repeats; medians in seconds"
    )
    print(f"{'strategy':<18}{'harness':>9}{'direct':>9}{'ratio':>8}{'overhead':>10}{'collect':>9}")
    for name, r in results.items():
        h, d = statistics.median(r["harness"]), statistics.median(r["direct"])
        print(
            f"{name:<18}{h:>9.3f}{d:>9.3f}{h / d:>8.3f}"
            f"{statistics.median(r['overhead']):>10.3f}{statistics.median(r['collect']):>9.3f}"
        )


if __name__ == "__main__":
    main()
