"""Is the estimate a run prints before it starts right? Each built-in suite, estimated, then run.

    .venv/bin/python scripts/bench_estimate.py [quick gil blocking ...] [--max-load 1.0]

For each suite named (default: quick, gil, blocking), twice, with a record of this machine of
its own (``FLAGBENCH_TIMING`` in a scratch folder, so the user's is not touched):

- cold: ``flagbench suite NAME --dry-run`` with nothing learnt yet (the ideal-based default),
  then ``flagbench suite NAME``, timed from outside (report included, as a user runs it);
- learnt: the same after that run taught the estimate (``bench.calibration``).

Prints per suite both estimates, the times taken and their ratios (actual / estimate), the
load average before and after, and flagbench's and other programs' CPUs during the run
(``meta.json`` ``cpu_during_run``). The target: the learnt estimate of every suite within 25%
(ratio 0.75 to 1.25). A suite is not run while the load average is above ``--max-load`` per
CPU (a busy machine makes any run slower than any estimate): it waits for a quiet minute, up
to ``--wait`` seconds, then says it skipped.
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


def _flagbench(*args: str, env: dict, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _quiet(max_load: float, wait_s: float) -> tuple[bool, float]:
    cpus = os.cpu_count() or 1
    end = time.monotonic() + wait_s
    while True:
        load = os.getloadavg()[0]
        if load <= max_load * cpus or time.monotonic() >= end:
            return load <= max_load * cpus, load
        time.sleep(15)


def _measure(name: str, env: dict) -> tuple[float, float, dict]:
    """Estimate, time taken, and the run's cpu_during_run."""
    dry = _flagbench("suite", name, "--dry-run", env=env)
    if dry.returncode != 0:
        raise SystemExit(f"{name}: --dry-run failed: {dry.stderr.strip()}")
    est = _seconds(dry.stdout)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.monotonic()
        proc = _flagbench("suite", name, "--out", out, env=env)
        actual = time.monotonic() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{name}: the run failed: {proc.stderr.strip()[-400:]}")
        (folder,) = Path(out).iterdir()
        use = json.loads((folder / "meta.json").read_text()).get("cpu_during_run") or {}
    return est, actual, use


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suites", nargs="*", default=["quick", "gil", "blocking"])
    ap.add_argument("--max-load", type=float, default=1.0, help="load per CPU allowed at start")
    ap.add_argument("--wait", type=float, default=600, help="seconds to wait for a quiet machine")
    args = ap.parse_args()
    print(
        f"{'suite':<10}{'pass':<8}{'estimate':>9}{'actual':>9}{'ratio':>7}"
        "  load before/after  CPUs flagbench/others",
        flush=True,
    )
    worst, measured = 0.0, 0
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "FLAGBENCH_TIMING": str(Path(scratch) / "timing.json")}
        for name in args.suites:
            for label in ("cold", "learnt"):
                quiet, before = _quiet(args.max_load, args.wait)
                if not quiet:
                    print(f"{name:<10}{label:<8}skipped: load average {before:.2f}, too busy")
                    continue
                est, actual, use = _measure(name, env)
                after = os.getloadavg()[0]
                ratio = actual / est if est else float("nan")
                if label == "learnt":
                    worst = max(worst, abs(ratio - 1))
                    measured += 1
                cpus = (
                    f"{use.get('flagbench_cpus', float('nan')):.2f}/"
                    f"{use.get('others_cpus', float('nan')):.2f}"
                )
                print(
                    f"{name:<10}{label:<8}{est:>8.0f}s{actual:>8.1f}s{ratio:>7.2f}"
                    f"  {before:>5.2f} / {after:<5.2f}      {cpus}",
                    flush=True,
                )
    if measured:
        print(f"largest error of a learnt estimate: {worst:.0%} (target: within 25%)")
    else:
        print("no learnt estimate was measured: the machine was too busy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
