"""Time ``flagbench import-pytest-benchmark`` (and ``compare`` on what it made) on big files,
with each command's peak memory, to check that both grow linearly with the file.

For each size it writes two files with ``scripts/make_pytest_benchmark_json.py`` (many
benchmarks with a few rounds each, and one benchmark whose rounds fill the file), imports each
(with its report, or ``--no-report``), compares the run with itself, and prints one table::

    python scripts/measure_import.py                    # 1, 10 and 22 MB, with the report
    python scripts/measure_import.py --sizes 1,10 --no-report

Times are wall-clock seconds of the whole command (interpreter start and imports included);
peak memory is the command's maximum resident set (``wait4``'s ru_maxrss). Run it on a quiet
machine: it prints the load average it started and ended with.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
#: 22 MB is a million rounds of one benchmark (the size reported in the import's issue)
ONE_BENCHMARK_ROUNDS = {22.0: 1_000_000}


def measured(cmd: list[str]) -> tuple[int, float, float]:
    """Exit status, wall seconds and peak RSS (MiB) of ``cmd``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(proc.stderr.read().decode(errors="replace") if proc.stderr else "")
    if proc.stderr:
        proc.stderr.close()
    return code, elapsed, usage.ru_maxrss / 1024


def make(path: Path, size_mb: float, benchmarks: int) -> None:
    rounds = ONE_BENCHMARK_ROUNDS.get(size_mb) if benchmarks == 1 else None
    size = ["--rounds", str(rounds)] if rounds else ["--size-mb", str(size_mb)]
    subprocess.run(
        [
            sys.executable,
            str(HERE / "make_pytest_benchmark_json.py"),
            str(path),
            *size,
            "--benchmarks",
            str(benchmarks),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,22", help="MB, comma-separated (default 1,10,22)")
    parser.add_argument("--no-report", action="store_true", help="import without the report")
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    flagbench = [sys.executable, "-m", "bench"]
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    print(
        f"{'file':>8} {'benchmarks':>10} {'rounds':>9} {'import s':>9} {'import MiB':>11}"
        f" {'compare s':>10} {'compare MiB':>12}"
    )
    with tempfile.TemporaryDirectory(prefix="measure-import-") as tmp:
        for size in sizes:
            shapes = [1] if size not in (1.0, 10.0) else [int(size * 1000), 1]
            for benchmarks in shapes:
                path = Path(tmp) / f"{size:g}mb-{benchmarks}.json"
                make(path, size, benchmarks)
                out = Path(tmp) / f"out-{size:g}-{benchmarks}"
                cmd = [*flagbench, "import-pytest-benchmark", str(path), "--out", str(out)]
                code, import_s, import_mib = measured(
                    cmd + (["--no-report"] if args.no_report else [])
                )
                if code != 0:
                    print(f"{path.name}: import failed (exit {code})")
                    continue
                [run_dir] = [p for p in out.iterdir() if p.is_dir()]
                code, compare_s, compare_mib = measured(
                    [*flagbench, "compare", str(run_dir), str(run_dir)]
                )
                rounds = int(pd.read_csv(run_dir / "summary.csv")["n"].sum())
                print(
                    f"{path.stat().st_size / 1e6:>6.1f}MB {benchmarks:>10} {rounds:>9} "
                    f"{import_s:>9.1f} {import_mib:>11.0f} {compare_s:>10.1f} {compare_mib:>12.0f}"
                )
                path.unlink()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
