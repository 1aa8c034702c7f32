"""Check the regression gate on this machine: A/A pairs, then a run with real added CPU work.

Runs ``--pairs`` pairs of a suite (two runs of the same code, one after the other), compares
each pair with ``flagbench compare A B --fail-above PCT``, and counts the false alarms (the gate
should fire in at most one of ten). It estimates the machine's run-to-run drift from those
pairs, to set against the gate's allowance (``--drift``, 3% by default). Then it runs the suite
once more with ``--cpu-work`` added to every workload and compares it with the first run
(``--ignore cpu_work``): that real slowdown must be flagged. Every run is kept under ``--out``;
the run ids are printed. Exit status 0 when both hold, 1 otherwise.

    .venv/bin/python scripts/aa_gate.py                       # quick suite, 10 pairs: ~25 min
    .venv/bin/python scripts/aa_gate.py --suite my.toml --pairs 2 --out /tmp/aa
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

from bench.present.compare import keyed
from bench.results import gate, stats, store

ROOT = Path(__file__).resolve().parent.parent


def flagbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, cwd=ROOT
    )


def run_suite(suite: str, out: Path) -> Path:
    proc = flagbench("suite", suite, "--out", str(out), "--no-report")
    if proc.returncode != 0:
        sys.exit(f"aa_gate: flagbench suite {suite} failed:\n{proc.stderr}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("results: "))
    return Path(line.removeprefix("results: "))


def suite_text(suite: str) -> str:
    if suite.endswith(".toml") or Path(suite).exists():
        return Path(suite).read_text(encoding="utf-8")
    return (resources.files("bench.define.suites") / f"{suite}.toml").read_text(encoding="utf-8")


def with_cpu_work(text: str, cpu_work: str) -> str:
    """The suite with ``cpu_work`` in its [defaults] (a table added if it has none)."""
    line = f'cpu_work = "{cpu_work}"\n'
    if "\n[defaults]\n" in f"\n{text}":
        return f"\n{text}".replace("\n[defaults]\n", "\n[defaults]\n" + line, 1).lstrip("\n")
    return text.rstrip("\n") + "\n\n[defaults]\n" + line


def drift_estimate(pairs: list[tuple[Path, Path]]) -> float:
    """Run-to-run sd of a configuration's log ratio, beyond what the repeats explain:
    sqrt(mean(d^2 - se^2)) over every configuration of every pair (method of moments)."""
    excess = []
    for a, b in pairs:
        ta, tb = keyed(store.load(a)), keyed(store.load(b))
        for key, ga in ta.groupby("key"):
            gb = tb[tb["key"] == key]
            d, se, _ = stats.log_diff(gb["wall_s"].to_numpy(float), ga["wall_s"].to_numpy(float))
            if not math.isnan(se):
                excess.append(d**2 - se**2)
    return math.sqrt(max(float(np.mean(excess)), 0.0)) if excess else math.nan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="quick", help="built-in suite or TOML file (quick)")
    parser.add_argument("--pairs", type=int, default=10, help="A/A pairs (10)")
    parser.add_argument("--fail-above", type=float, default=5.0, metavar="PCT", help="(5)")
    parser.add_argument("--cpu-work", default="python:2ms", help="the real slowdown (python:2ms)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "results" / "aa-gate",
        help="where the runs are kept (results/aa-gate)",
    )
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error(f"--pairs {args.pairs}: give at least 1")
    args.out.mkdir(parents=True, exist_ok=True)

    pairs, fired = [], []
    for i in range(args.pairs):
        a, b = run_suite(args.suite, args.out), run_suite(args.suite, args.out)
        proc = flagbench("compare", str(a), str(b), "--fail-above", f"{args.fail_above:g}")
        if proc.returncode not in (0, 1):
            sys.exit(f"aa_gate: compare failed:\n{proc.stderr}")
        pairs.append((a, b))
        fired.append(proc.returncode == 1)
        print(
            f"A/A pair {i + 1}: {a.name} {b.name}: {'FIRED' if fired[-1] else 'quiet'}", flush=True
        )

    with tempfile.TemporaryDirectory() as tmp:
        variant = Path(tmp) / "with-cpu-work.toml"
        variant.write_text(with_cpu_work(suite_text(args.suite), args.cpu_work), encoding="utf-8")
        slow = run_suite(str(variant), args.out)
    proc = flagbench(
        "compare",
        str(pairs[0][0]),
        str(slow),
        "--ignore",
        "cpu_work",
        "--fail-above",
        f"{args.fail_above:g}",
    )
    flagged = proc.returncode == 1
    print(
        f"--cpu-work {args.cpu_work} run {slow.name} against {pairs[0][0].name}: "
        f"{'flagged' if flagged else 'NOT flagged'}"
    )
    print(proc.stdout)

    allowed = max(1, args.pairs // 10)
    drift = drift_estimate(pairs)
    print(
        f"A/A: --fail-above {args.fail_above:g} fired in {sum(fired)} of {len(fired)} pairs "
        f"(allowed: at most {allowed})"
    )
    print(
        f"measured run-to-run drift: {100 * drift:.1f}% (the gate allows "
        f"{100 * gate.DEFAULT_DRIFT:g}%; give compare --drift PCT if this machine needs more)"
    )
    print(f"runs: {args.out}")
    ok = sum(fired) <= allowed and flagged
    print("result: " + ("the gate holds on this machine" if ok else "the gate FAILED its check"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
