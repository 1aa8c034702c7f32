"""Write a valid pytest-benchmark JSON file of a given size, to try ``import-pytest-benchmark``
and ``compare`` on big inputs.

Two shapes, the two ways a file gets big:

- ``--benchmarks N``: N benchmarks (spread over modules and groups), each with as many rounds
  as fill the size between them: a big test suite;
- ``--benchmarks 1``: one benchmark whose rounds fill the file: a fast function timed a
  million times (a 22 MB file holds about 1,000,000 rounds).

The rounds' times are log-normal around 100 microseconds, drawn from ``--seed``, and the
statistics pytest-benchmark writes (min, max, mean, stddev, median, iqr, quartiles, ...) are
computed from them, so every file is what pytest-benchmark itself would have written::

    python scripts/make_pytest_benchmark_json.py --size-mb 1 --benchmarks 1000 bench-1mb.json
    python scripts/make_pytest_benchmark_json.py --size-mb 10 --benchmarks 10000 bench-10mb.json
    python scripts/make_pytest_benchmark_json.py --rounds 1000000 bench-22mb.json

``scripts/measure_import.py`` times the import of such files and reads its peak memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

BYTES_PER_ROUND = 23  # a time such as 0.00010234567891234567, its comma and a space
BYTES_PER_BENCHMARK = 780  # name, fullname, group, params, options and the statistics


def _stats(times: np.ndarray) -> dict[str, float | int]:
    q1, median, q3 = (float(q) for q in np.percentile(times, [25, 50, 75]))
    iqr = q3 - q1
    mean = float(times.mean())
    sd = float(times.std(ddof=1)) if len(times) > 1 else 0.0
    return {
        "min": float(times.min()),
        "max": float(times.max()),
        "mean": mean,
        "stddev": sd,
        "rounds": len(times),
        "median": median,
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": int(((times < q1 - 1.5 * iqr) | (times > q3 + 1.5 * iqr)).sum()),
        "stddev_outliers": int((np.abs(times - mean) > sd).sum()),
        "outliers": "0;0",
        "ld15iqr": float(times[times >= q1 - 1.5 * iqr].min()),
        "hd15iqr": float(times[times <= q3 + 1.5 * iqr].max()),
        "ops": 1 / mean,
        "total": float(times.sum()),
        "data": [float(t) for t in times],
        "iterations": 1,
    }


def rounds_for(size_bytes: int, n_benchmarks: int) -> int:
    """Rounds per benchmark that fill about ``size_bytes`` (two at least)."""
    budget = max(size_bytes - n_benchmarks * BYTES_PER_BENCHMARK, 0)
    return max(budget // (BYTES_PER_ROUND * n_benchmarks), 2)


def document(rounds: int, n_benchmarks: int, seed: int, groups: int = 10) -> dict:
    """A pytest-benchmark document of ``n_benchmarks`` benchmarks of ``rounds`` rounds each,
    in ``groups`` groups (a flagbench workload each)."""
    rng = np.random.default_rng(seed)
    benchmarks = []
    for i in range(n_benchmarks):
        module = f"tests/test_mod{i // 100:03d}.py"
        name = f"test_case_{i:06d}"
        times = rng.lognormal(np.log(1e-4 * (1 + i % 7)), 0.1, size=rounds)
        benchmarks.append(
            {
                "group": f"group{i % groups}",
                "name": name,
                "fullname": f"{module}::{name}",
                "params": None,
                "param": None,
                "extra_info": {},
                "options": {
                    "disable_gc": False,
                    "timer": "perf_counter",
                    "min_rounds": 5,
                    "max_time": 1.0,
                    "min_time": 5e-06,
                    "warmup": False,
                },
                "stats": _stats(times),
            }
        )
    return {
        "machine_info": {
            "node": "bench-host",
            "processor": "x86_64",
            "machine": "x86_64",
            "python_implementation": "CPython",
            "python_version": "3.11.2",
            "release": "6.1.0",
            "system": "Linux",
            "cpu": {"brand_raw": "a generated CPU", "count": 2},
        },
        "commit_info": {"id": "0" * 40, "dirty": False, "branch": "main"},
        "benchmarks": benchmarks,
        "datetime": "2026-12-05T06:00:00.000000+00:00",
        "version": "5.1.0",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the JSON file to write")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--size-mb", type=float, help="about this many MB")
    size.add_argument("--rounds", type=int, help="this many rounds per benchmark")
    parser.add_argument("--benchmarks", type=int, default=1, help="how many (default: 1)")
    parser.add_argument("--groups", type=int, default=10, help="benchmark groups (default: 10)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.benchmarks, args.groups, args.rounds or 1) < 1 or (args.size_mb or 1) <= 0:
        parser.error("--size-mb must be > 0; --rounds, --benchmarks and --groups >= 1")
    rounds = args.rounds or rounds_for(int(args.size_mb * 1_000_000), args.benchmarks)
    doc = document(rounds, args.benchmarks, args.seed, args.groups)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    tmp.replace(args.out)
    rounds = [b["stats"]["rounds"] for b in doc["benchmarks"]]
    print(
        f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB, {len(rounds)} benchmark(s), "
        f"{sum(rounds)} rounds (median {statistics.median(rounds):g} each)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
