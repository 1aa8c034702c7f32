"""``flagbench compare``: a real slowdown is found and fails CI; a run against itself does not;
and on these real runs every word printed agrees with the numbers beside it."""

from __future__ import annotations

import dataclasses
import platform
import re

import pytest

from bench.results import drift

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
latency = "{latency}"
"""
ROW = re.compile(
    r"^(?P<strategy>threadpool|asyncio)\s+(?P<measure>wall s|req ms)\s+(?P<a>[\d.]+)\s+"
    r"(?P<b>[\d.]+)\s+(?P<ratio>[\d.]+)\s+(?P<low>[\d.]+)\.\.(?P<high>[\d.]+)\s+"
    r"(?P<p>[\d.]+)\s+(?P<verdict>same|slower|faster)$"
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, run_cli):
    """Run A as is; B identical except that the server admits one request at a time; L with
    every request's latency 40% longer (44 ms against 40 ms, a workload axis)."""
    tmp = tmp_path_factory.mktemp("cmp")
    dirs = {}
    for name, server, latency in (
        ("a", "", "40ms"),
        ("b", "[server]\nmax_inflight = 1\n", "40ms"),
        ("l", "", "56ms"),
    ):
        suite = tmp / f"{name}.toml"
        suite.write_text(SUITE.format(server=server, latency=latency))
        out = tmp / name
        proc = run_cli("suite", str(suite), "--out", str(out), "--no-report")
        assert proc.returncode == 0, proc.stderr
        dirs[name] = next(out.iterdir())
    return dirs


def rows(stdout: str) -> list[dict[str, str]]:
    found = [m.groupdict() for line in stdout.splitlines() if (m := ROW.match(line))]
    assert found, stdout
    return found


def assert_words_match_numbers(stdout: str) -> None:
    """Each ratio is the ratio of the printed figures (to their rounding); an interval excludes 1
    exactly when the verdict names a direction, and that direction is the interval's side;
    the footer's direction words count those verdicts; the last line is the one verdict."""
    table = rows(stdout)
    for r in table:
        a, b, ratio = float(r["a"]), float(r["b"]), float(r["ratio"])
        digits = 3 if r["measure"] == "wall s" else 1
        step = 0.5 * 10**-digits
        assert (b - step) / (a + step) - 0.0005 <= ratio <= (b + step) / (a - step) + 0.0005, r
        low, high = float(r["low"]), float(r["high"])
        assert low <= ratio <= high, r
        if r["verdict"] == "same":
            assert low <= 1 <= high, r
        else:
            assert (low > 1) if r["verdict"] == "slower" else (high < 1), r
    slower = sum(r["verdict"] == "slower" for r in table if r["measure"] == "wall s")
    faster = sum(r["verdict"] == "faster" for r in table if r["measure"] == "wall s")
    (summary,) = [ln for ln in stdout.splitlines() if ln.startswith("geometric mean")]
    if slower or faster:
        assert f"{slower} significantly slower, {faster} significantly faster" in summary
    else:
        assert summary.endswith("(no configuration significantly slower or faster)")
    last = stdout.strip().splitlines()[-1]
    assert last.startswith(("verdict: PASS", "verdict: FAIL"))
    assert sum(ln.startswith("verdict:") for ln in stdout.splitlines()) == 1


def test_slowdown_is_significant_and_fails_ci(runs, run_cli, tmp_path):
    chart = tmp_path / "cmp.png"
    proc = run_cli(
        "compare", str(runs["a"]), str(runs["b"]), "--fail-above", "5", "--chart", str(chart)
    )
    assert proc.returncode == 1, proc.stderr
    walls = [r for r in rows(proc.stdout) if r["measure"] == "wall s"]
    assert len(walls) == 2 and all(r["verdict"] == "slower" for r in walls)
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("verdict: FAIL, threshold 5% slower; worst change ")
    assert "significantly slower by more than 5%" in last
    assert_words_match_numbers(proc.stdout)
    assert "B differs from A in: no workload axis" in proc.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_against_itself_is_the_same(runs, run_cli):
    proc = run_cli("compare", str(runs["a"]), str(runs["a"]), "--fail-above", "5")
    assert proc.returncode == 0, proc.stderr
    table = rows(proc.stdout)
    assert {r["verdict"] for r in table} == {"same"}
    assert {r["ratio"] for r in table} == {"1.000"}
    assert_words_match_numbers(proc.stdout)
    assert proc.stdout.strip().splitlines()[-1].startswith("verdict: PASS, threshold 5% slower")


def test_the_header_shows_what_differs_and_the_latency_slowdown_is_caught(runs, run_cli):
    """B ran every request 40% longer: the header says so, and the request latency finds it."""
    proc = run_cli(
        "compare", str(runs["a"]), str(runs["l"]), "--ignore", "latency", "--fail-above", "5"
    )
    assert proc.returncode == 1, proc.stderr
    assert "B differs from A in: latency (A 40ms; B 56ms)" in proc.stdout
    assert "workload: N=12 C=6 latency=40ms   (B: N=12 C=6 latency=56ms)" in proc.stdout
    latency = [r for r in rows(proc.stdout) if r["measure"] == "req ms"]
    assert len(latency) == 2 and all(r["verdict"] == "slower" for r in latency)
    assert all(1.2 < float(r["ratio"]) < 1.6 for r in latency)
    assert_words_match_numbers(proc.stdout)


def test_the_verdict_line_warns_when_the_threshold_is_below_what_can_be_detected(runs, run_cli):
    proc = run_cli("compare", str(runs["a"]), str(runs["a"]), "--drift", "10", "--fail-above", "1")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert "WARNING: 2 of 2 configurations cannot detect a 1% change" in last
    assert "drift allowance 10% (--drift)" in proc.stdout


def test_bad_compare_arguments(runs, run_cli, tmp_path):
    proc = run_cli("compare", str(runs["a"]), str(tmp_path))
    assert proc.returncode == 2 and "not a flagbench run folder" in proc.stderr
    proc = run_cli("compare", str(runs["a"]), str(runs["a"]), "--chart", str(tmp_path / "x.jpg"))
    assert proc.returncode == 2 and ".png or .svg" in proc.stderr
    proc = run_cli("compare", str(runs["a"]), str(runs["a"]), "--drift", "-1")
    assert proc.returncode == 2 and "--drift -1" in proc.stderr and proc.stdout == ""


def test_the_machines_stored_drift_is_the_default_allowance(runs, run_cli):
    """What scripts/aa_gate.py stored for this machine is the allowance, and the footer says
    where it came from; another machine's measurement is not used."""
    root = runs["a"].parent
    e = drift.Estimate(0.021, 0.010, 0.030, 0.021**2, 10, 0.03**2)
    here = drift.Stored(platform.node(), "2026-12-05 07:56 UTC", "cmp", "load 15", {"wall": e})
    try:
        drift.save(root, here)
        proc = run_cli("compare", str(runs["a"]), str(runs["a"]))
        assert proc.returncode == 0, proc.stderr
        assert "drift allowance measured on " in proc.stdout
        assert "wall 2.1% (95% interval 1.0 to 3.0%, from 10 A/A pairs)" in proc.stdout
        drift.save(root, dataclasses.replace(here, host="another-machine"))
        proc = run_cli("compare", str(runs["a"]), str(runs["a"]))
        assert "drift allowance 3% (the default: no drift measured on this machine" in proc.stdout
    finally:
        (root / drift.FILENAME).unlink(missing_ok=True)
