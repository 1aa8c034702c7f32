"""``flagbench compare``: a real slowdown is found and fails CI; a run against itself does not."""

from __future__ import annotations

import pytest

SUITE = """
[suite]
name = "cmp"
strategies = ["threadpool", "asyncio"]
repeats = 4
warmup = 0
seed = 9
{server}
[[workloads]]
codes = "all"
n_jobs = 12
concurrency = 6
latency = "40ms"
"""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, run_cli):
    """Run A as is; run B identical except that the server admits one request at a time."""
    tmp = tmp_path_factory.mktemp("cmp")
    dirs = []
    for name, server in (("a", ""), ("b", "[server]\nmax_inflight = 1\n")):
        suite = tmp / f"{name}.toml"
        suite.write_text(SUITE.format(server=server))
        out = tmp / name
        proc = run_cli("suite", str(suite), "--out", str(out), "--no-report")
        assert proc.returncode == 0, proc.stderr
        dirs.append(next(out.iterdir()))
    return dirs


def test_slowdown_is_significant_and_fails_ci(two_runs, run_cli, tmp_path):
    a, b = two_runs
    chart = tmp_path / "cmp.png"
    proc = run_cli("compare", str(a), str(b), "--fail-above", "5", "--chart", str(chart))
    assert proc.returncode == 1, proc.stderr
    lines = [
        line for line in proc.stdout.splitlines() if line.startswith(("threadpool", "asyncio"))
    ]
    assert len(lines) == 2 and all(line.endswith("slower") for line in lines)
    assert "significantly slower by more than 5%" in proc.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_against_itself_is_the_same(two_runs, run_cli):
    a, _ = two_runs
    proc = run_cli("compare", str(a), str(a), "--fail-above", "5")
    assert proc.returncode == 0, proc.stderr
    assert "slower" not in proc.stdout and "faster" not in proc.stdout
    assert "1.000" in proc.stdout


def test_bad_compare_arguments(two_runs, run_cli, tmp_path):
    a, _ = two_runs
    proc = run_cli("compare", str(a), str(tmp_path))
    assert proc.returncode == 2 and "not a flagbench run folder" in proc.stderr
    proc = run_cli("compare", str(a), str(a), "--chart", str(tmp_path / "x.jpg"))
    assert proc.returncode == 2 and ".png or .svg" in proc.stderr
