"""The gil, blocking and switch-interval suites: each expands as its file and the docs say,
and a tiny version of each (the same strategies and axes, the two ends of each axis, tiny N,
one repeat) runs end to end through the real CLI against the real server; its chart and the
chart's reading are drawn from the stored run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

import bench
from bench.define.spec import load_suite

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CPU = ["", "python:1ms", "python:4ms", "python:16ms", "hashlib:1ms", "hashlib:4ms", "hashlib:16ms"]


def _configs(name: str) -> Counter:
    suite = load_suite(name)
    return Counter(
        (
            s,
            w.cpu_work,
            w.concurrency,
            w.executor,
            w.save_delay,
            w.background_threads,
            w.switch_interval,
        )
        for s, w in suite.configs()
    )


def test_gil_expands_to_every_model_kind_cost_and_c():
    suite = load_suite("gil")
    configs = _configs("gil")
    models = ("threadpool", "processpool", "asyncio", "asyncio_executor")
    expected = Counter(
        [("sequential", cpu, 1, "thread", "0ms", 0, "") for cpu in CPU]
        + [(s, cpu, c, "thread", "0ms", 0, "") for s in models for cpu in CPU for c in (1, 2, 4)]
        + [
            ("asyncio_executor", cpu, c, "process", "0ms", 0, "")
            for cpu in CPU[1:]
            for c in (1, 2, 4)
        ]
    )
    assert configs == expected and len(configs) == 109
    assert len(suite.trials()) == 109 * 3  # three repeats, no warm-up round
    assert {w.n_jobs for w in suite.workloads} == {24} and {w.latency for w in suite.workloads} == {
        "5ms"
    }
    assert suite.baseline == "sequential"


def test_blocking_expands_to_inline_and_executor_on_each_write_delay():
    suite = load_suite("blocking")
    assert _configs("blocking") == Counter(
        (s, "", 10, "thread", d, 0, "")
        for s in ("asyncio", "asyncio_executor")
        for d in ("0ms", "1ms", "5ms", "20ms")
    )
    assert all(w.save and w.n_jobs == 100 for w in suite.workloads)
    assert len(suite.trials()) == 8 * 4 and suite.baseline == "asyncio"


def test_switch_interval_expands_to_the_reference_and_each_interval():
    suite = load_suite("switch-interval")
    intervals = ("0.5ms", "1ms", "2ms", "5ms", "10ms", "20ms", "50ms")
    assert _configs("switch-interval") == Counter(
        [("threadpool", "", 10, "thread", "0ms", 0, "")]
        + [("threadpool", "", 10, "thread", "0ms", 1, i) for i in intervals]
    )
    assert len(suite.trials()) == 8 * 6  # five repeats and a warm-up round


# ---------------------------------------------------------------- tiny versions, end to end


# The values a tiny version keeps where the ends of an axis would not do: for the GIL, both
# kinds of CPU work at the largest cost.
KEEP = {"gil": {"cpu_work": ["python:16ms", "hashlib:16ms"]}}


def _ends(values: list) -> list:
    return values if len(values) <= 2 else [values[0], values[-1]]


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)  # strings and numbers are spelled alike in TOML and JSON


def tiny(name: str, n_jobs: int) -> str:
    """The built-in suite ``name`` with the same strategies and axes, the ends of each axis
    (or ``KEEP``'s values), ``n_jobs`` jobs and one measured repeat."""
    data = tomllib.loads(
        (resources.files("bench.define.suites") / f"{name}.toml").read_text("utf-8")
    )
    data["suite"].update(repeats=1, warmup=0)
    data["defaults"] = {**data.get("defaults", {}), "n_jobs": n_jobs}
    keep = KEEP.get(name, {})

    def table(body: dict) -> list[str]:
        return [
            f"{k} = {_toml(keep.get(k, _ends(v)) if isinstance(v, list) and k != 'strategies' else v)}"
            for k, v in body.items()
            if k != "n_jobs" or body is data["defaults"]
        ]

    lines = []
    for head in ("suite", "server", "defaults"):
        if head in data:
            lines += [f"[{head}]", *table(data[head])]
    for w in data["workloads"]:
        lines += ["[[workloads]]", *table(w)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """The three tiny suites, run at once (each is mostly waiting), with their reports."""
    out = tmp_path_factory.mktemp("experiments")
    procs = {}
    for name, n in (("gil", 4), ("blocking", 12), ("switch-interval", 12)):
        path = out / f"{name}.toml"
        path.write_text(tiny(name, n))
        procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench",
                "suite",
                str(path),
                "--out",
                str(out / name),
                "--no-report",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    runs = {}
    try:
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=240)
            assert proc.returncode == 0, stdout + stderr
            (folder,) = (out / name).iterdir()
            runs[name] = bench.load(folder)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return runs


def _drawn(run, kind: str, tmp_path: Path) -> str:
    """Draw the experiment's chart from the stored run; its reading, as the report has it."""
    from bench.present import charts
    from bench.present.report.readings import reading

    (drawn,) = charts.render(run, tmp_path, kinds=[kind])
    assert drawn.path("png").stat().st_size > 10_000
    return " ".join(reading(kind, run))


def test_tiny_gil_runs_every_model_and_records_how_it_spread(tiny_runs, tmp_path):
    run = tiny_runs["gil"]
    t = run.trials.astype({"strategy": str})
    assert (t["status"] == "ok").all() and t["counts_match"].all()
    assert len(t) == 2 + 2 * 2 * 4 + 2 * 2  # sequential; 2 kinds x 2 C x 4 models; executor
    by = t.set_index(["strategy", "executor", "cpu_work", "concurrency"])
    assert by.loc[("threadpool", "thread", "python:16ms", 4), "cpu_limit"] == "gil"
    assert by.loc[("threadpool", "thread", "hashlib:16ms", 4), "cpu_cores"] == min(
        4, by.loc[("threadpool", "thread", "hashlib:16ms", 4), "cores"]
    )
    assert by.loc[("asyncio", "thread", "hashlib:16ms", 4), "cpu_limit"] == "loop"
    assert by.loc[("processpool", "thread", "python:16ms", 4), "bottleneck"] != "gil"
    # process pools record their start method; nothing else starts processes
    methods = t.groupby(["strategy", "executor"])["start_method"].agg(lambda s: set(s.dropna()))
    import multiprocessing

    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    assert methods[("processpool", "thread")] == (
        {"forkserver"} if forkserver else methods[("processpool", "thread")]
    )
    assert len(methods[("processpool", "thread")]) == 1
    assert methods[("asyncio_executor", "process")] == methods[("processpool", "thread")]
    assert methods[("threadpool", "thread")] == set() == methods[("asyncio", "thread")]
    # the ideal knows the CPU work, keeps the I/O ideal beside it, and is never beaten by much
    assert (t["ideal_s"] >= t["ideal_io_s"]).all() and (t["cpu_floor_s"] > 0).all()
    # the ideal is a bound: efficiency at most 1, within what the CPU work's calibration can be
    # off when the machine's load changes between the calibration and the trial
    assert t["efficiency"].median() <= 1.05, t["efficiency"].describe()
    assert (t["efficiency"] <= 1.5).all(), t.loc[t["efficiency"] > 1.5, ["strategy", "workload"]]
    text = _drawn(run, "gil", tmp_path)
    assert "At 16 ms of CPU work per flag and C=4, threads reached" in text
    # every point has its interval, and the ideal bounds it exactly where efficiency does
    from bench.present.charts.experiments import gil_table

    table = gil_table(run)
    assert {"speedup_ci_low", "speedup_ci_high", "efficiency"} <= set(table.columns)
    above_ideal = table["speedup"] > table["ideal_speedup"] * (1 + 1e-9)
    assert (above_ideal == (table["efficiency"] > 1 + 1e-9)).all()
    assert "hashlib threads ran" in text and "processpool reached" in text


def test_tiny_blocking_shows_the_loop_stalled_by_inline_writes(tiny_runs, tmp_path):
    run = tiny_runs["blocking"]
    t = run.trials.astype({"strategy": str})
    assert (t["status"] == "ok").all() and (t["n_saved_files"] == t["n_ok"]).all()
    assert sorted(t["save_delay"].unique()) == ["0ms", "20ms"]
    slow = t[t["save_delay"] == "20ms"].set_index("strategy")
    assert slow.loc["asyncio", "loop_lag_max_s"] >= 0.015  # a 20 ms write held the loop
    assert slow.loc["asyncio", "ideal_bound"] == "blocking"
    assert slow.loc["asyncio", "ideal_s"] == pytest.approx(12 * 0.020)  # one write at a time
    assert (t["efficiency"] <= 1.1).all()
    assert "With each write blocking 20 ms, asyncio took" in _drawn(run, "blocking", tmp_path)


def test_tiny_switch_interval_records_the_interval_and_the_background_load(tiny_runs, tmp_path):
    run = tiny_runs["switch-interval"]
    t = run.trials
    assert (t["status"] == "ok").all()
    busy = t[t["background_threads"] == 1].sort_values("switch_interval_s")
    assert list(busy["switch_interval"]) == ["0.5ms", "50ms"]
    assert list(busy["switch_interval_s"]) == pytest.approx([0.0005, 0.05])
    assert (busy["background_cpu_s"] > 0).all()
    ref = t[t["background_threads"] == 0]
    assert len(ref) == 1 and (ref["background_cpu_s"] == 0).all()
    assert ref["switch_interval_s"].iloc[0] == pytest.approx(sys.getswitchinterval())
    text = _drawn(run, "switch_interval", tmp_path)
    assert "With 1 CPU-bound thread beside the downloads, request latency p99 went from" in text


@pytest.mark.parametrize("name", ["gil", "blocking", "switch-interval"])
def test_every_number_in_the_readings_comes_from_the_run(tiny_runs, name):
    from ..claims import unclaimed

    assert unclaimed(tiny_runs[name]) == []
