"""Matching across runs, baselines, shared configurations and the one row order, end to end."""

from __future__ import annotations

import sys

import pytest

import bench

SUITE = """
[suite]
name = "match"
strategies = ["asyncio", "threadpool", "sequential"]
repeats = 2
warmup = 1
seed = 4
[[workloads]]
codes = "all"
n_jobs = 8
concurrency = [2, 4]
latency = "5ms"
{python}
"""
ORDER = ["sequential", "asyncio", "threadpool"]  # the baseline, then the suite's order


@pytest.fixture(scope="module")
def runs(tmp_path_factory, run_cli):
    """Run A as is (saved as baseline 'main'), run P the same on an interpreter given by path."""
    tmp = tmp_path_factory.mktemp("match")
    out = tmp / "results"
    procs = {}
    for name, python in (("a", ""), ("p", f"python = {sys.executable!r}")):
        suite = tmp / f"{name}.toml"
        suite.write_text(SUITE.format(python=python))
        extra = ("--save-baseline", "main") if name == "a" else ()
        procs[name] = run_cli("suite", str(suite), "--out", str(out), "--no-report", *extra)
        assert procs[name].returncode == 0, procs[name].stderr
    a, p = sorted(d for d in out.iterdir() if d.name != "baselines")
    return procs, a, p


def test_runs_differing_in_one_axis_do_not_match_and_say_why(runs, run_cli):
    _, a, p = runs
    proc = run_cli("compare", str(a), str(p), "--fail-above", "5")
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert "no configuration" in line and "--ignore python" in line


def test_compare_across_interpreters_with_ignore_python(runs, run_cli):
    _, a, p = runs
    proc = run_cli("compare", str(a), str(p), "--ignore", "python")
    assert proc.returncode == 0, proc.stderr
    rows = [
        ln.split()[0]
        for ln in proc.stdout.splitlines()
        if ln.split()[:2] in [[s, "wall"] for s in ORDER]
    ]
    # sequential cannot observe C: one configuration, matched once
    assert rows == ["sequential", "asyncio", "threadpool", "asyncio", "threadpool"]
    # each configuration on the wall time and the request measure: ten tests
    assert "geometric mean of the wall-time ratios B/A" in proc.stdout
    assert "gate: Bonferroni over 10 tests" in proc.stdout


def test_more_than_two_runs_each_against_the_first(runs, run_cli):
    _, a, p = runs
    proc = run_cli("compare", str(a), str(p), str(a), "--ignore", "python")
    assert proc.returncode == 0, proc.stderr
    assert "wall-time ratios B/A" in proc.stdout and "wall-time ratios C/A" in proc.stdout
    assert "gate: Bonferroni over 20 tests" in proc.stdout


def test_an_ignored_axis_that_would_merge_configurations_is_refused(runs, run_cli):
    _, a, p = runs
    proc = run_cli("compare", str(a), str(p), "--ignore", "python,concurrency")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert "differ only in concurrency" in proc.stderr
    proc = run_cli("compare", str(a), str(p), "--ignore", "pyton")
    assert proc.returncode == 2 and "did you mean 'python'?" in proc.stderr


def test_named_and_last_baselines(runs, run_cli):
    _, a, p = runs
    proc = run_cli("compare", "--baseline", "main", str(p), "--ignore", "python")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"A: {a}")
    proc = run_cli("compare", "--baseline", "last", str(p), "--ignore", "python")
    assert proc.returncode == 0 and proc.stdout.startswith(f"A: {a}"), proc.stderr
    proc = run_cli("compare", "--baseline", "mian", str(p))
    assert proc.returncode == 2 and "did you mean 'main'?" in proc.stderr
    proc = run_cli("compare", "--baseline", "last", str(a))
    assert proc.returncode == 2 and "no earlier complete run" in proc.stderr


def test_sequential_runs_once_and_appears_for_every_c(runs):
    _, a, _ = runs
    run = bench.load(a)
    seq = run.trials[run.trials["strategy"] == "sequential"]
    assert len(seq) == 2 and set(seq["concurrency"]) == {2}  # 2 repeats, not 2 x 2 C values
    s = run.summary[run.summary["strategy"] == "sequential"]
    assert sorted(s["concurrency"]) == [2, 4]
    shared = s[s["concurrency"] == 4].iloc[0]
    assert shared["measured_on"] == s[s["concurrency"] == 2].iloc[0]["config_id"]
    assert run.summary["speedup"].notna().all()  # every C has its baseline


def test_one_row_order_everywhere(runs, run_cli):
    procs, a, _ = runs
    run = bench.load(a)
    for _, g in run.summary.groupby("workload_id", sort=False):
        assert list(g["strategy"]) == ORDER
    for block in procs["a"].stdout.split("workload: ")[1:]:
        names = [
            ln.split()[0].rstrip("*")
            for ln in block.splitlines()[2:]
            if ln.strip() and ln.split()[0].rstrip("*") in ORDER
        ]
        assert names == ORDER
    from bench.present import report

    for table in report.build_report(run, []).summary:
        assert [row[0].rstrip("*") for row in table.rows] == ORDER
    from bench.present.charts.data import strategies

    assert strategies(run) == ORDER


def test_without_a_terminal_one_line_per_finished_trial(runs):
    procs, _, _ = runs
    lines = [ln for ln in procs["a"].stderr.splitlines() if ln.startswith("flagbench: [")]
    assert len(lines) == 15  # 5 warm-ups + 2 repeats of 5 configurations
    assert lines[-1].startswith("flagbench: [15/15] ")
    assert all(
        "N=" in ln and "wall " in ln and "efficiency " in ln and "ETA " in ln for ln in lines
    )
    (first,) = [ln for ln in procs["a"].stderr.splitlines() if "trials, estimated" in ln]
    assert "15 trials, estimated" in first and "ETA" in first
    assert "baseline 'main'" in procs["a"].stdout


def test_a_stored_run_prints_in_one_short_line(runs):
    _, a, _ = runs
    text = repr(bench.load(a))
    assert len(text) < 300 and "\n" not in text and "match" in text
