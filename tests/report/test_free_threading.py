"""The free-threading chart and its reading, the gil chart across interpreters, and what the
tables and report say of each interpreter, on a small real run on this Python and a
free-threaded one (``flagbench python install 3.13t``; skipped, saying so, without one)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

import bench
from bench.define.pythons import resolve_python
from bench.present.charts.freethreading import free_threading_tables
from bench.present.report.readings import reading

SUITE = """
[suite]
name = "ft-tiny"
strategies = ["sequential", "threadpool", "interpreterpool"]
repeats = 2
warmup = 0
seed = 3

[defaults]
python = ["", "3.13t"]
codes = "all"
n_jobs = 6
latency = "1ms"

[[workloads]]
concurrency = [1, 2]
cpu_work = ["python:2ms", "hashlib:2ms"]

[[workloads]]
n_jobs = 10
latency = "0"
concurrency = 2
"""


@pytest.fixture(scope="module")
def ft_run(tmp_path_factory):
    try:
        resolve_python("3.13t")
    except ValueError as exc:
        pytest.skip(f"no free-threaded Python here ({exc})")
    root = tmp_path_factory.mktemp("ft")
    (root / "ft.toml").write_text(SUITE)
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "suite", str(root / "ft.toml"), "--out", str(root / "out")],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (root / "out").iterdir()
    return bench.load(run_dir), proc.stderr


def test_every_interpreter_is_named_and_interpreterpool_skipped_where_unavailable(ft_run):
    run, stderr = ft_run
    if "interpreterpool" in run.trials.query("python_requested == ''")["strategy"].unique():
        pytest.skip("this Python runs interpreterpool: nothing is skipped")
    assert "interpreterpool skipped on python = 'this interpreter'" in stderr
    assert [e["strategy"] for e in run.meta["skipped"]] == ["interpreterpool"]
    summary = run.summary  # summary.csv, as bench.load reads it: "3.10" stays a name
    threaded = summary[summary["interpreter"].str.endswith("t")]
    assert len(threaded) and not threaded["gil_enabled"].any()
    assert summary["interpreter"].nunique() == 2
    ours = run.trials[run.trials["strategy"].astype(str) == "interpreterpool"]
    assert len(ours) and ours["counts_match"].all()  # client and server counts agree
    assert (ours["interpreter"] == threaded["interpreter"].iloc[0]).all()
    report = (run.path / "report.md").read_text()
    assert "did not run on python = 'the running one'" in report
    assert "| strategy | Python | median wall |" in report  # each row says what ran it


def test_the_chart_answers_per_kind_with_every_interpreter(ft_run):
    run, _ = ft_run
    ft = free_threading_tables(run)
    assert ft is not None and len(ft.interpreters) == 2
    assert set(ft.speedups["kind"]) == {"python", "hashlib"}
    assert set(ft.speedups["concurrency"]) == {1, 2}
    assert ft.speedups["ci_low"].le(ft.speedups["speedup"]).all()
    assert set(ft.io["interpreter"]) == set(ft.interpreters)
    png = run.path / "charts" / "free-threading.png"
    with Image.open(png) as im:
        im.load()
        assert im.size[0] >= 900 and im.size[1] >= 700
    first, second = reading("free_threading", run)
    for python in ft.interpreters:
        assert f"on {python}" in first
    assert second.startswith("One thread (sequential) on 3.13t against ")


def test_the_gil_chart_and_its_reading_keep_every_interpreter(ft_run):
    run, _ = ft_run
    assert (run.path / "charts" / "gil.png").exists()
    (first,) = reading("gil", run)
    names = sorted(set(run.trials["interpreter"].astype(str)))
    for python in names:
        assert f"on Python {python}" in first
