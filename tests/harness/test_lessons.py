"""The lessons suite: it expands as its file says, and a tiny version of it (the same
strategies and axes, fewer jobs, one repeat) runs end to end through the real CLI against the
real server; each lesson's chart is drawn from the stored run with its reading."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import bench
from bench.define.spec import load_suite
from bench.results.delivery import moment

N_TINY = 30


def test_lessons_expands_to_each_mode_and_each_spinner_condition():
    suite = load_suite("lessons")
    configs = Counter(
        (s, w.consume, w.error_rate, w.spinner, w.cpu_work, w.save_delay, w.save_wait, w.executor)
        for s, w in suite.configs()
    )
    heavy = [
        (s, mode, 0.0, "", "", "0ms", "block", "thread")
        for s, modes in (
            ("threadpool", ("map", "as_completed")),
            ("processpool", ("map", "as_completed")),
            ("asyncio", ("map", "as_completed", "gather", "taskgroup")),
            ("asyncio_executor", ("map", "as_completed", "gather", "taskgroup")),
        )
        for mode in modes
    ]
    errors = [
        ("asyncio", m, 0.05, "", "", "0ms", "block", "thread")
        for m in ("as_completed", "gather", "taskgroup")
    ]
    spin = [
        (s, "", 0.0, "100ms", "python:20ms", "0ms", "block", "thread")
        for s in ("asyncio", "asyncio_executor", "threadpool")
    ] + [
        ("asyncio_executor", "", 0.0, "100ms", "python:20ms", "0ms", "block", "process"),
        ("asyncio", "", 0.0, "100ms", "", "20ms", "block", "thread"),
        ("asyncio", "", 0.0, "100ms", "", "20ms", "await", "thread"),
        ("asyncio_executor", "", 0.0, "100ms", "", "20ms", "block", "thread"),
    ]
    assert configs == Counter(heavy + errors + spin)
    assert len(suite.trials()) == 22 * 3


def test_moments_of_a_trial():
    times = np.array([0.3, 0.1, 0.2, 0.4])
    assert moment(times, 4, 0.0) == 0.1
    assert moment(times, 4, 0.5) == 0.2  # the second of four
    assert moment(times, 4, 1.0) == 0.4
    assert math.isnan(moment(times[:2], 4, 1.0))  # two jobs never delivered: no last result
    assert math.isnan(moment(np.array([]), 0, 0.0))


def _tiny() -> str:
    text = (resources.files("bench.define.suites") / "lessons.toml").read_text("utf-8")
    text = re.sub(r"(?m)^repeats = \d+$", "repeats = 1", text)
    text = re.sub(r"(?m)^error_rate = .*$", "error_rate = 0.2", text)  # errors in 30 jobs
    return re.sub(r"(?m)^n_jobs = \d+$", f"n_jobs = {N_TINY}", text)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lessons")
    path = out / "lessons.toml"
    path.write_text(_tiny())
    cmd = [sys.executable, "-m", "bench", "suite", str(path), "--out", str(out / "run")]
    proc = subprocess.run(
        [*cmd, "--no-report"],  # the tests draw the charts themselves
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder,) = (out / "run").iterdir()
    return bench.load(folder)


def test_tiny_lessons_account_for_every_job_in_every_mode(tiny_run):
    t = tiny_run.trials.astype({"strategy": str, "consume": str})
    assert (t["status"] == "ok").all() and t["counts_match"].all()
    assert (t["n_requests"] == t["server_requests"]).all()
    group = t[(t["consume"] == "taskgroup") & (t["error_rate"] > 0)]
    (row,) = group.itertuples()
    r = tiny_run.requests
    final = r[(r["trial_id"] == row.trial_id) & r["final"]]
    cancelled = final[final["error_kind"] == "group_cancelled"]
    assert len(cancelled) > 0 and cancelled["t_delivered_s"].isna().all()
    assert row.n_delivered == N_TINY - len(cancelled)
    assert math.isnan(row.efficiency)  # the ideal downloads every job; these did not
    delivered = r[r["final"] & (r["error_kind"] != "group_cancelled")]
    assert delivered["t_delivered_s"].notna().all()
    sent = delivered[delivered["attempt"] > 0]
    assert (sent["t_delivered_s"] >= sent["t_end_s"]).all()


def test_tiny_lessons_record_both_spinners_where_there_is_a_loop(tiny_run):
    t = tiny_run.trials.astype({"strategy": str})
    p = tiny_run.probes.astype({"kind": str})
    spun = t[t["spinner"] == "100ms"]
    for row in spun.itertuples():
        kinds = set(p.loc[p["trial_id"] == row.trial_id, "kind"])
        assert "spinner_thread" in kinds
        assert ("spinner_loop" in kinds) == (row.strategy != "threadpool")
    quiet = t[t["spinner"] == ""]
    assert not p[p["trial_id"].isin(quiet["trial_id"]) & p["kind"].str.startswith("spinner")].size


def _drawn(run, kind: str, tmp_path: Path) -> str:
    from bench.present import charts
    from bench.present.report.readings import reading

    (drawn,) = charts.render(run, tmp_path, kinds=[kind])
    assert drawn.path("png").stat().st_size > 10_000
    return " ".join(reading(kind, run))


def test_tiny_lessons_draw_each_lesson_with_its_reading(tiny_run, tmp_path):
    assert "In this run map delivered its median result" in _drawn(
        tiny_run, "result_times", tmp_path
    )
    assert "Finished responses waited to be handed over up to" in _drawn(
        tiny_run, "delivery", tmp_path
    )
    text = _drawn(tiny_run, "first_error", tmp_path)
    assert "With a TaskGroup (asyncio), the first error cancelled" in text
    assert "matched the server's count: yes" in text
    assert "The longest freeze: the" in _drawn(tiny_run, "spinner", tmp_path)


def test_a_consume_mode_a_strategy_lacks_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "threadpool", "--consume", "gather", "-n", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "flagbench: error: strategy 'threadpool' cannot consume results by 'gather'; it offers: "
        "as_completed, map"
    ]
    assert not any(tmp_path.iterdir())


def test_every_number_in_the_lessons_readings_comes_from_the_run(tiny_run):
    from ..claims import unclaimed

    assert unclaimed(tiny_run) == []
