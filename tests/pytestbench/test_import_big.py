"""Big pytest-benchmark files stay bounded: a million rounds of one benchmark are samples of
that benchmark (the rounds table), not a million trials; charts of many benchmarks are bounded
in count; ``compare`` on such runs answers. Peak memory is read from the kernel's accounting
of each child (``wait4``); time is left to ``scripts/measure_import.py``, not asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pytest

import bench

ROOT = Path(__file__).resolve().parents[2]
MAKE = ROOT / "scripts" / "make_pytest_benchmark_json.py"
#: Peak memory allowed to import a million rounds (the goal: under 1 GB; before the rounds
#: table, the import passed 8 GB and did not finish).
PEAK_LIMIT_MIB = 1024
HANG_GUARD_S = 600  # only against a hang: far above what any machine should need


def _make(path: Path, *args: str) -> Path:
    proc = subprocess.run(
        [sys.executable, str(MAKE), str(path), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return path


def _measured(*args: str) -> tuple[int, str, str, float]:
    """Exit status, stdout, stderr and peak RSS in MiB of ``flagbench ARGS`` (the child's own
    peak, from ``wait4``: ru_maxrss is in KiB on Linux). Killed if it hangs."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bench", *args], stdout=out, stderr=err)
        guard = threading.Timer(HANG_GUARD_S, proc.kill)
        guard.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            guard.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), usage.ru_maxrss / 1024


@pytest.fixture(scope="module")
def million(tmp_path_factory) -> Path:
    """A 23 MB file: one benchmark, 1,000,000 rounds."""
    return _make(tmp_path_factory.mktemp("big") / "million.json", "--rounds", "1000000")


def test_a_million_rounds_are_samples_of_one_benchmark_in_bounded_memory(million, tmp_path):
    code, out, err, peak = _measured(
        "import-pytest-benchmark", str(million), "--out", str(tmp_path), "--no-report"
    )
    assert code == 0, err
    assert "1 configurations, 1 trials" in out
    assert peak < PEAK_LIMIT_MIB, f"peak RSS {peak:.0f} MiB"
    [run_dir] = tmp_path.iterdir()
    run = bench.load(run_dir)
    assert len(run.trials) == 1 and len(run.rounds) == 1_000_000
    assert list(run.rounds.columns) == ["trial_id", "config_id", "round", "time_s"]
    [s] = run.summary.to_dict("records")
    assert s["n"] == 1_000_000 and s["wall_ci_low_s"] < s["wall_gmean_s"] < s["wall_ci_high_s"]
    assert s["wall_median_s"] == pytest.approx(run.rounds["time_s"].median())

    # compare answers on it, with the rounds as its samples, within the same memory
    code, out, err, peak = _measured("compare", str(run_dir), str(run_dir), "--fail-above", "5")
    assert code == 0, err
    assert peak < PEAK_LIMIT_MIB, f"compare: peak RSS {peak:.0f} MiB"
    [line] = [x for x in out.splitlines() if x.startswith("test_case_000000")]
    assert line.split()[1:4] == ["wall", "s", "1.00e-04"] and line.endswith("same")


def test_charts_of_many_benchmarks_are_bounded(tmp_path):
    """300 benchmarks in one group: the wall chart shows a bounded number of them and says
    so; the charts of request records (an import has none) are not attempted."""
    doc = _make(tmp_path / "many.json", "--benchmarks", "300", "--rounds", "5", "--groups", "1")
    code, _, err, _ = _measured("import-pytest-benchmark", str(doc), "--out", str(tmp_path))
    assert code == 0, err
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
    charts = sorted(p.name for p in (run_dir / "charts").iterdir())
    assert charts == ["wall.png", "wall.svg"]
    svg = (run_dir / "charts" / "wall.svg").read_text()
    assert "96 of up to 300 strategies per workload" in svg
    shown = [f"test_case_{i:06d}" for i in range(300) if f"test_case_{i:06d}" in svg]
    assert shown[0] == "test_case_000000" and shown[-1] == "test_case_000299"
    assert len(shown) == 96
    assert len(pd.read_csv(run_dir / "summary.csv")) == 300  # the tables keep every one
