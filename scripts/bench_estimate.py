"""Is the estimate a run prints before it starts right? Each built-in suite, estimated, then run.

    .venv/bin/python scripts/bench_estimate.py [quick gil blocking ...] [--max-load 1.0]

For each suite named (default: quick, gil, blocking), ``flagbench suite NAME --dry-run`` gives
the estimate, and ``flagbench suite NAME`` runs it for real (report included, as a user runs
it), timed from outside. Prints per suite the estimate, the actual time and their ratio, with
the load average before and after and flagbench's own share of the CPUs during the run
(``meta.json`` ``cpu_during_run``). The target: every suite within 25% (ratio 0.75 to 1.25)
on a quiet machine. A suite is not run while the load average from others is above
``--max-load`` per CPU (a busy machine makes every run slower than any estimate); it waits for
a quiet minute, up to ``--wait`` seconds, then says it skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ESTIMATE = re.compile(r"estimated (?:(\d+) h )?(?:(\d+) min )?(\d+) s")


def _seconds(text: str) -> float:
    m = ESTIMATE.findall(text)
    if not m:
        raise SystemExit(f"no estimate in: {text[-300:]}")
    h, mi, s = m[-1]
    return 3600 * int(h or 0) + 60 * int(mi or 0) + int(s)


def _flagbench(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, timeout=timeout
    )


def _quiet(max_load: float, wait_s: float) -> tuple[bool, float]:
    cpus = os.cpu_count() or 1
    end = time.monotonic() + wait_s
    while True:
        load = os.getloadavg()[0]
        if load <= max_load * cpus or time.monotonic() >= end:
            return load <= max_load * cpus, load
        time.sleep(15)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suites", nargs="*", default=["quick", "gil", "blocking"])
    ap.add_argument("--max-load", type=float, default=1.0, help="load per CPU allowed at start")
    ap.add_argument("--wait", type=float, default=600, help="seconds to wait for a quiet machine")
    args = ap.parse_args()
    print(
        f"{'suite':<16}{'estimate':>10}{'actual':>10}{'ratio':>8}  load before/after  flagbench/others CPUs"
    )
    worst = 0.0
    for name in args.suites:
        dry = _flagbench("suite", name, "--dry-run")
        if dry.returncode != 0:
            print(f"{name}: --dry-run failed: {dry.stderr.strip()}", file=sys.stderr)
            return 2
        est = _seconds(dry.stdout)
        quiet, before = _quiet(args.max_load, args.wait)
        if not quiet:
            print(
                f"{name:<16}{est:>9.0f}s {'skipped':>9}        load {before:.2f}: too busy to measure"
            )
            continue
        with tempfile.TemporaryDirectory() as out:
            t0 = time.monotonic()
            proc = _flagbench("suite", name, "--out", out)
            actual = time.monotonic() - t0
            after = os.getloadavg()[0]
            if proc.returncode != 0:
                print(f"{name}: the run failed: {proc.stderr.strip()[-400:]}", file=sys.stderr)
                return 1
            (folder,) = Path(out).iterdir()
            use = json.loads((folder / "meta.json").read_text()).get("cpu_during_run") or {}
        ratio = actual / est if est else float("nan")
        worst = max(worst, abs(ratio - 1))
        cpus = f"{use.get('flagbench_cpus', float('nan')):.2f}/{use.get('others_cpus', float('nan')):.2f}"
        print(
            f"{name:<16}{est:>9.0f}s{actual:>9.1f}s{ratio:>8.2f}  {before:>5.2f} / {after:<5.2f}       {cpus}",
            flush=True,
        )
    print(f"largest error: {worst:.0%} (target: within 25%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
