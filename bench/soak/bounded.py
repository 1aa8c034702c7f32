"""Big input stays bounded, and a crash is never a regression: a million-round pytest-benchmark
file imported and compared within the memory and time a user would accept, and every way
``flagbench compare`` can end given its own exit status (0 ok, 1 regression, 2 usage or data
error in one line naming the file, 3 a crash)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from bench.soak.runs import Sandbox, sandbox
from bench.soak.table import Row

ROUNDS = 1_000_000
#: the repository's script (the soak runs from a checkout, as tox does)
MAKE = Path(__file__).resolve().parents[2] / "scripts" / "make_pytest_benchmark_json.py"
#: The import's goal (issue 22): a 22 MB file, one benchmark of a million rounds, in under
#: 30 s and under 1 GB of peak memory.
IMPORT_LIMIT_S = 30.0
PEAK_LIMIT_MIB = 1024.0


def _measured(box: Sandbox, *args: str) -> tuple[int, float, float, str]:
    """Exit status, wall seconds, peak RSS (MiB) and output of ``flagbench ARGS``."""
    out_path = box.root / "output.txt"
    with open(out_path, "w+") as out:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=box.env(),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        took = time.monotonic() - started
        out.seek(0)
        return proc.returncode, took, usage.ru_maxrss / 1024, out.read()


def big_import() -> Row:
    """A 23 MB file of one benchmark with a million rounds: imported (with its report) and
    compared with itself."""
    started = time.monotonic()
    with sandbox() as box:
        doc = box.root / "million.json"
        subprocess.run(
            [sys.executable, str(MAKE), str(doc), "--rounds", str(ROUNDS)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        size_mb = doc.stat().st_size / 1e6
        code, import_s, import_mib, said = _measured(
            box, "import-pytest-benchmark", str(doc), "--out", str(box.out)
        )
        ok = code == 0
        result = f"import: exit {code}, {import_s:.1f} s, peak {import_mib:.0f} MiB"
        if ok:
            run_dir = box.run_dir()
            rounds = len(pd.read_parquet(run_dir / "rounds.parquet", columns=["time_s"]))
            trials = len(pd.read_parquet(run_dir / "trials.parquet", columns=["trial_id"]))
            charts = len(list((run_dir / "charts").glob("*.png")))
            c_code, compare_s, compare_mib, _ = _measured(
                box, "compare", str(run_dir), str(run_dir)
            )
            result += (
                f" ({trials} trial, {rounds:,} rounds, {charts} chart); compare: exit {c_code}, "
                f"{compare_s:.1f} s, peak {compare_mib:.0f} MiB"
            )
            ok = (
                rounds == ROUNDS
                and trials == 1
                and c_code == 0
                and import_s < IMPORT_LIMIT_S
                and max(import_mib, compare_mib) < PEAK_LIMIT_MIB
            )
        elif said:
            result += f": {said.strip().splitlines()[-1]}"
    return Row(
        "big import",
        f"pytest-benchmark JSON, {size_mb:.0f} MB: 1 benchmark, {ROUNDS:,} rounds",
        "-",
        result,
        lost=None,
        seconds=time.monotonic() - started,
        passed=ok,
    )


_ONE_REPEAT = """
[suite]
name = "once"
strategies = ["asyncio"]
repeats = 1
warmup = 0
seed = 3
[[workloads]]
codes = "BR CN US"
concurrency = 3
latency = "5ms"
"""

_CRASH = """
import sys
from bench.results import gate
def broken(*args, **kwargs):
    raise ZeroDivisionError("a bug")
gate.decide = broken
from bench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def compare_exits() -> Row:
    """Every way compare ends, on two real one-repeat runs: each with its own exit status, a
    data problem in one line naming the file, and never a traceback but for a crash."""
    started = time.monotonic()
    cases: list[tuple[str, int, int]] = []  # name, exit wanted, exit got (-1: wrong words)
    with sandbox() as box:
        suite = box.root / "once.toml"
        suite.write_text(_ONE_REPEAT)
        for _ in range(2):
            code, stderr = box.run("suite", str(suite), "--out", str(box.out), "--no-report")
            if code != 0:
                return Row("compare exits", "2 runs", "-", f"a run failed: {stderr}", None)
        a, b = sorted(str(p) for p in box.out.iterdir() if p.is_dir())
        torn = box.root / "torn"
        shutil.copytree(a, torn)
        (torn / "trials.parquet").write_bytes(b"not parquet")
        cli = ("-m", "bench", "compare")
        asked = [  # name, exit wanted, what it must say, the command after the interpreter
            ("one repeat a side", 0, "not enough repeats to test", (*cli, a, b)),
            ("torn trials.parquet", 2, f"{torn}/trials.parquet: unreadable", (*cli, a, str(torn))),
            ("300-character --baseline", 2, "(300 characters)", (*cli, "--baseline", "x" * 300, b)),
            ("--baseline ../../etc/x", 2, "give letters", (*cli, "--baseline", "../../etc/x", b)),
            (
                "a crash (a bug)",
                3,
                "internal error (ZeroDivisionError",
                ("-c", _CRASH, "compare", a, b),
            ),
        ]
        for name, wanted, says, argv in asked:
            proc = subprocess.run(
                [sys.executable, *argv], capture_output=True, text=True, env=box.env(), timeout=300
            )
            lines = proc.stderr.strip().splitlines()
            one_line = wanted != 2 or (len(lines) == 1 and "Traceback" not in proc.stderr)
            held = says in proc.stdout + proc.stderr and one_line
            cases.append((name, wanted, proc.returncode if held else -1))
    bad = [f"{name} (exit {got}, wanted {wanted})" for name, wanted, got in cases if got != wanted]
    return Row(
        "compare exits",
        "2 runs of 1 repeat, compared 5 ways",
        ", ".join(name for name, _, _ in cases),
        "exit " + "/".join(str(got) for _, _, got in cases) + " as documented (0 ok, 2 data or "
        "usage error in one line, 3 crash)" + (f"; not: {', '.join(bad)}" if bad else ""),
        lost=None,
        seconds=time.monotonic() - started,
        passed=not bad,
    )
