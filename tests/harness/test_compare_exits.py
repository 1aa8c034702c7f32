"""``flagbench compare``'s exit statuses are distinct: 0 ok, 1 a regression, 2 a usage or data
error (one line naming the file), 3 a crash. In CI a crash must never read as a regression."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

ONE_REPEAT = """
[suite]
name = "once"
strategies = ["sequential", "asyncio"]
repeats = 1
warmup = 0
seed = 3
[[workloads]]
codes = "BR CN US"
concurrency = 3
latency = "5ms"
"""


@pytest.fixture(scope="module")
def one_repeat_runs(tmp_path_factory, run_cli):
    """Two real runs of one repeat each, in one results folder."""
    tmp = tmp_path_factory.mktemp("once")
    suite = tmp / "once.toml"
    suite.write_text(ONE_REPEAT)
    out = tmp / "results"
    for _ in range(2):
        proc = run_cli("suite", str(suite), "--out", str(out), "--no-report")
        assert proc.returncode == 0, proc.stderr
    return sorted(p for p in out.iterdir() if p.is_dir())


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("flagbench: error: ")
    return line


def test_one_repeat_a_side_is_not_enough_to_test_and_exits_0(one_repeat_runs, run_cli):
    a, b = one_repeat_runs
    for pair in ((a, b), (a, a)):  # a run against itself: tied values, one a side
        proc = run_cli("compare", *map(str, pair), "--fail-above", "5")
        assert proc.returncode == 0, proc.stderr
        assert "not enough repeats to test" in proc.stdout
        assert proc.stdout.count("too few repeats") == 2  # both strategies, no verdict


def test_a_corrupt_table_is_one_line_naming_the_file(one_repeat_runs, run_cli, tmp_path):
    a, _ = one_repeat_runs
    torn = tmp_path / "torn"
    shutil.copytree(a, torn)
    (torn / "trials.parquet").write_bytes(b"not parquet at all")
    line = _one_line_error(run_cli("compare", str(a), str(torn)))
    assert f"{torn / 'trials.parquet'}: unreadable" in line

    foreign = tmp_path / "foreign"
    shutil.copytree(a, foreign)
    pd.DataFrame({"x": [1, 2]}).to_parquet(foreign / "trials.parquet")
    line = _one_line_error(run_cli("compare", str(foreign), str(a)))
    assert f"{foreign / 'trials.parquet'}: not a flagbench trials table" in line

    (foreign / "meta.json").write_text("{ torn")
    line = _one_line_error(run_cli("compare", str(a), str(foreign)))
    assert str(foreign / "meta.json") in line


def test_a_baseline_name_is_checked_before_any_file_is_read(one_repeat_runs, run_cli):
    a, b = one_repeat_runs
    root = a.parent
    # a pointer outside baselines/ that a path in the name would reach
    outside = root.parent / "etc"
    outside.mkdir(exist_ok=True)
    (outside / "x.json").write_text(json.dumps({"run": str(a)}))
    (root / "baselines").mkdir(exist_ok=True)
    line = _one_line_error(run_cli("compare", "--baseline", "../../etc/x", str(b)))
    assert "--baseline '../../etc/x': give letters, digits" in line
    line = _one_line_error(run_cli("compare", "--baseline", "x" * 300, str(b)))
    assert "(300 characters)" in line and len(line) < 300
    # the same rule as --save-baseline, which a good name passes
    saved = run_cli("compare", "--baseline", "main", str(b))
    assert "no baseline of that name" in _one_line_error(saved)


def test_a_crash_exits_3_with_its_traceback(one_repeat_runs):
    """A bug in flagbench (here: the gate raising) is status 3, never 1 (a regression)."""
    a, b = one_repeat_runs
    code = (
        "import sys; from bench.results import gate\n"
        "def broken(*args, **kwargs): raise ZeroDivisionError('a bug')\n"
        "gate.decide = broken\n"
        "from bench.cli import main\n"
        f"sys.exit(main(['compare', {str(a)!r}, {str(b)!r}, '--fail-above', '5']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" in proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith("flagbench: internal error (ZeroDivisionError: a bug)")
    )
