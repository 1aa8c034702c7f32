"""End to end: the CLI against the embedded server, checked from the results folder it leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

import bench
from bench.cli import build_parser
from bench.define.spec import Suite
from bench.define.workload import Workload
from bench.run.runner import check_remote

from .plugins import installed_plugin

TINY = """
[suite]
name = "tiny"
strategies = ["sequential", "threadpool", "asyncio"]
repeats = 2
warmup = 0
seed = 3

[server]
timeout_hold_s = 1.0

[[workloads]]
codes = "all"
n_jobs = 24
concurrency = 6
latency = "30ms"
timeout_s = 0.5
error_rate = 0.15
truncate_rate = 0.05
reset_rate = 0.05
timeout_rate = 0.05
"""

TRIAL_COLUMNS = {
    "run_id",
    "trial_id",
    "config_id",
    "workload_id",
    "repeat",
    "strategy",
    "python",
    "n_jobs",
    "concurrency",
    "latency",
    "error_rate",
    "cpu_work",
    "save",
    "metadata",
    "wall_s",
    "cpu_user_s",
    "cpu_sys_s",
    "rss_peak_mib",
    "n_ok",
    "n_not_found",
    "n_error",
    "throughput_rps",
    "ideal_s",
    "efficiency",
    "latency_p50_s",
    "latency_p99_s",
    "heartbeat_p99_s",
    "loop_lag_p99_s",
    "server_peak_inflight",
    "server_requests",
    "server_injected_http_error",
    "counts_match",
    "bottleneck",
}
REQUEST_COLUMNS = {
    "run_id",
    "trial_id",
    "cc",
    "resource",
    "attempt",
    "t_queued_s",
    "t_start_s",
    "t_end_s",
    "status",
    "outcome",
    "error_kind",
    "nbytes",
    "worker",
    "final",
    "latency_s",
    "wait_s",
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, run_cli):
    """One real run of a tiny suite, shared by the checks below."""
    tmp = tmp_path_factory.mktemp("tiny")
    suite = tmp / "tiny.toml"
    suite.write_text(TINY)
    proc = run_cli("suite", str(suite), "--out", str(tmp / "results"), "--no-report")
    assert proc.returncode == 0, proc.stderr
    run_dirs = list((tmp / "results").iterdir())
    assert len(run_dirs) == 1
    return proc, bench.load(run_dirs[0])


def test_folder_layout_and_meta(tiny_run):
    proc, run = tiny_run
    names = {p.name for p in run.path.iterdir()}
    assert {
        "meta.json",
        "trials.parquet",
        "requests.parquet",
        "probes.parquet",
        "summary.csv",
        "raw",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]
    meta = run.meta
    assert meta["complete"] is True and meta["n_trials"] == 6 and meta["n_failed"] == 0
    assert meta["suite"] == "tiny" and meta["seed"] == 3
    assert meta["packages"]["aiohttp"] and meta["python"] and meta["cpu_count"]
    assert meta["command"] == ["flagbench", *proc.args[3:]]  # as given, wherever main runs
    assert f"results: {run.path}" in proc.stdout


def test_tables_schema_and_accounting(tiny_run):
    _, run = tiny_run
    trials, requests = run.trials, run.requests
    assert set(trials.columns) >= TRIAL_COLUMNS
    assert set(requests.columns) >= REQUEST_COLUMNS
    assert len(trials) == 6 and (trials["status"] == "ok").all()
    # every job ends once; client and server agree on every attempt
    assert (trials["n_ok"] + trials["n_not_found"] + trials["n_error"] == trials["n_jobs"]).all()
    assert trials["counts_match"].all()
    assert (trials["server_requests"] == trials["n_requests"]).all()
    finals = requests[requests["final"]].groupby("trial_id").size()
    assert (finals == 24).all()
    # the server saw the concurrency each strategy claims; a request the client gave up on
    # (timeout) may still count on the server for the moment it takes to see the close
    timeouts = requests[requests["error_kind"] == "timeout"].groupby("trial_id").size()
    for _, t in trials.iterrows():
        c = 1 if t["strategy"] == "sequential" else 6
        assert c <= t["server_peak_inflight"] <= c + timeouts.get(t["trial_id"], 0)
    assert ((trials["efficiency"] > 0) & (trials["efficiency"] <= 1.05)).all()
    # identical conditions: the same flags fail the same way in every strategy
    errors_by_strategy = trials.groupby("strategy", observed=True)["n_error"].unique()
    assert all(len(v) == 1 for v in errors_by_strategy)
    assert trials["n_error"].iloc[0] > 0
    assert (requests["wait_s"] >= 0).all() and (requests["latency_s"] > 0).all()


def test_summary_and_speedup(tiny_run):
    proc, run = tiny_run
    s = run.summary.set_index("strategy")
    assert set(s.index) == {"sequential", "threadpool", "asyncio"}
    assert s.loc["sequential", "speedup"] == pytest.approx(1.0)
    assert s.loc["asyncio", "speedup"] > 2  # 6 at a time against one at a time
    assert (s["wall_ci_low_s"] <= s["wall_ci_high_s"]).all()
    assert "speed-up" in proc.stdout and "asyncio" in proc.stdout
    on_disk = pd.read_csv(run.path / "summary.csv")
    assert len(on_disk) == 3


def test_collect_rebuilds_the_same_tables(tiny_run, run_cli):
    _, run = tiny_run
    before = pd.read_parquet(run.path / "trials.parquet")
    proc = run_cli("collect", str(run.path))
    assert proc.returncode == 0, proc.stderr
    after = pd.read_parquet(run.path / "trials.parquet")
    pd.testing.assert_frame_equal(before, after)


def test_bad_spec_is_one_line_exit_2_nothing_written(tmp_path, run_cli):
    suite = tmp_path / "bad.toml"
    suite.write_text("[suite]\nstrategies = ['asyncio']\n[[workloads]]\nconcurency = 5\n")
    out = tmp_path / "results"
    proc = run_cli("suite", str(suite), "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(suite) in lines[0] and "'concurency'" in lines[0] and "allowed:" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "warp"], "unknown strategy 'warp'"),
        (["run", "asyncio", "--latency", "soon"], "--latency soon: bad latency spec"),
        (["run", "asyncio", "-m", "0"], "--max-req 0: must be between 1 and 10000"),
        (["run", "asyncio", "--error-rate", "2"], "--error-rate 2.0: must be between 0 and 1"),
        (
            ["run", "asyncio", "--save-delay", "5ms"],
            "--save-delay 5ms delays each file write, but files are not saved; allowed with --save",
        ),
        (
            ["run", "threadpool", "--switch-interval", "5"],
            "--switch-interval 5: expected a duration with its unit",
        ),
        (
            ["run", "asyncio_executor", "--executor", "fork"],
            "--executor fork: allowed: thread, process",
        ),
        (["suite", "nope"], "unknown suite 'nope'"),
        (["report", "/nonexistent/run"], "not a flagbench run folder"),
        (
            ["run", "threadpool", "asyncio", "--client", "urllib3"],
            "strategy 'asyncio' cannot use client 'urllib3'; it can use: aiohttp, httpx",
        ),
        (
            ["run", "sequential", "--loop", "uvloop"],
            "strategy 'sequential' cannot run on loop 'uvloop'; it has no event loop",
        ),
        (["run", "asyncio", "--client", "curl"], "--client curl: allowed: requests, httpx"),
        (["run", "dask", "--dask-scheduler", "localhost"], "expected tcp://HOST:PORT"),
        (
            ["run", "asyncio", "--remote-concurrency-cap", "50"],
            "--remote-concurrency-cap 50: give --allow-remote too",
        ),
        (
            ["run", "dask", "--dask-scheduler", "tcp://192.0.2.1:8786"],
            "--dask-scheduler tcp://192.0.2.1:8786: not a loopback address",
        ),
    ],
)
def test_user_errors(tmp_path, run_cli, args, expected):
    proc = run_cli(*args, "--out", str(tmp_path / "r")) if args[0] != "report" else run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("command", ["run", "suite", "compare"])
def test_help_of_each_command_prints(command):
    """Help texts go through argparse's % formatting: a fault described as "10 to 90% of the
    body" must not break ``--help``."""
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([command, "--help"])
    assert info.value.code == 0


def test_remote_server_refused_without_opt_in(tmp_path, run_cli):
    # 192.0.2.1 is TEST-NET-1: documentation only. The refusal happens before any connection.
    out = tmp_path / "r"
    proc = run_cli("run", "asyncio", "--server", "http://192.0.2.1:8001", "--out", str(out))
    assert proc.returncode == 2
    assert "not a loopback address" in proc.stderr and "--allow-remote" in proc.stderr
    assert not out.exists()


def test_remote_opt_in_caps_concurrency_with_a_warning():
    warnings = []
    suite = Suite("s", ("asyncio",), (Workload(concurrency=500), Workload(concurrency=5)))
    capped = check_remote(suite, "http://192.0.2.1:8001", True, 20, warnings.append)
    assert [w.concurrency for w in capped.workloads] == [20, 5]
    assert warnings and "capped at 20" in warnings[0]


def test_an_explicit_remote_cap_raises_the_cap_and_covers_a_remote_dask_cluster():
    warnings = []
    suite = Suite(
        "s",
        ("dask",),
        (Workload(concurrency=500, scheduler="tcp://192.0.2.1:8786"), Workload(concurrency=50)),
    )
    capped = check_remote(suite, None, True, 100, warnings.append)
    assert [w.concurrency for w in capped.workloads] == [100, 50]
    assert warnings == ["remote server: concurrency 500 capped at 100"]


HANG_PLUGIN = """
import threading

class HangStrategy:
    name = "hang"
    description = "never returns (tests the watchdog)"

    def run(self, jobs, settings, progress=None, probes=None):
        threading.Event().wait()
"""


def test_watchdog_kills_a_hung_strategy_and_the_suite_goes_on(tmp_path, isolated_env, run_cli):
    # A real plugin, found through the entry-point group like any installed package.
    env = installed_plugin(
        tmp_path / "site",
        "hang_plugin",
        "[flagbench.strategies]\nhang = hang_plugin:HangStrategy\n",
        {"hang_plugin.py": HANG_PLUGIN},
        isolated_env,
    )
    suite = tmp_path / "hang.toml"
    suite.write_text(
        textwrap.dedent("""
        [suite]
        strategies = ["hang", "asyncio"]
        repeats = 1
        warmup = 0
        watchdog_s = 3
        [[workloads]]
        codes = "BR CN"
        latency = "10ms"
    """)
    )
    proc = run_cli("suite", str(suite), "--out", str(tmp_path / "r"), "--no-report", env=env)
    assert proc.returncode == 1, proc.stderr  # a failed trial is a failed run
    assert "watchdog" in proc.stderr
    run = bench.load(next((tmp_path / "r").iterdir()))
    by = run.trials.set_index("strategy")
    assert by.loc["hang", "status"] == "failed" and "watchdog" in by.loc["hang", "failure"]
    assert by.loc["asyncio", "status"] == "ok" and by.loc["asyncio", "n_ok"] == 2
    assert run.meta["n_failed"] == 1
    assert not _processes_mentioning(str((tmp_path / "scratch").resolve()))


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


SLOW = """
[suite]
name = "slow"
strategies = ["sequential", "asyncio"]
repeats = 3
warmup = 0
[[workloads]]
codes = "pop20"
n_jobs = 8
latency = "60ms"
"""


def test_ctrl_c_saves_finished_trials_and_resume_completes(tmp_path, isolated_env, run_cli):
    suite = tmp_path / "slow.toml"
    suite.write_text(SLOW)
    out = tmp_path / "r"
    first, returncode, stderr = _interrupt_when(
        suite, out, isolated_env, lambda: next(out.glob("*/raw/trial-00000.json"), None)
    )
    assert returncode == 130, stderr
    run_dir = first.parent.parent
    assert "--resume" in stderr and str(run_dir) in stderr
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["complete"] is False
    partial = bench.load(run_dir)
    assert 1 <= len(partial.trials) < 6
    assert not _processes_mentioning(str((tmp_path / "scratch").resolve()))

    done = run_cli("suite", "--resume", str(run_dir), "--no-report", env=isolated_env)
    assert done.returncode == 0, done.stderr
    full = bench.load(run_dir)
    assert full.meta["complete"] is True
    assert sorted(full.trials["trial_id"]) == list(range(6))
    assert full.trials["counts_match"].all()


def _interrupt_when(suite, out, env, find):
    """Run the suite, send SIGINT once ``find()`` finds something; (found, status, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "suite", str(suite), "--out", str(out), "--no-report"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        found = _wait_for(find, proc)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return found, proc.returncode, stderr


def _wait_for(find, proc, timeout=60.0):
    """Poll for a file the run writes; fail fast if the run ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found is not None:
            return found
        if proc.poll() is not None:
            pytest.fail(f"run ended early: {proc.stderr.read()}")
        time.sleep(0.05)
    pytest.fail("no trial finished in time")


def test_saved_files_and_an_interpreter_given_by_path(tmp_path, run_cli):
    out = tmp_path / "r"
    proc = run_cli(
        "run",
        "asyncio_executor",
        "BR",
        "CN",
        "US",
        "--save",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--python",
        sys.executable,
        "--out",
        str(out),
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    run = bench.load(next(out.iterdir()))
    row = run.trials.iloc[0]
    assert row["n_ok"] == 3 and row["n_saved_files"] == 3 and row["save"]
    assert row["python"] == ".".join(map(str, sys.version_info[:3]))


def test_external_loopback_server(tmp_path, run_cli):
    from flags_server import ServerConfig, running

    out = tmp_path / "r"
    with running(ServerConfig(seed=4)) as srv:
        proc = run_cli(
            "run",
            "threadpool",
            "-a",
            "-m",
            "8",
            "--latency",
            "10ms",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--server",
            srv.flags_url,
            "--out",
            str(out),
            "--no-report",
        )
        assert proc.returncode == 0, proc.stderr
        assert srv.config()["latency"] == "10ms"  # the workload was applied through /_config
    run = bench.load(next(out.iterdir()))
    row = run.trials.iloc[0]
    assert row["n_ok"] == 194 and row["server_requests"] == 194 and row["counts_match"]
    assert row["server_peak_inflight"] == 8
    assert run.meta["server"]["url"] == srv.base_url


def test_ctrl_c_before_any_trial_finished_leaves_a_resumable_folder(tmp_path, isolated_env):
    suite = tmp_path / "long.toml"
    suite.write_text(SLOW.replace('latency = "60ms"', 'latency = "1s"'))
    out = tmp_path / "r"
    scratch = tmp_path / "scratch"
    # the worker of the first trial is running once its task file exists
    _, returncode, stderr = _interrupt_when(
        suite, out, isolated_env, lambda: next(scratch.glob("flagbench-*/trial-0.json"), None)
    )
    assert returncode == 130, stderr
    [run_dir] = out.iterdir()
    assert f"flagbench suite --resume {run_dir}" in stderr
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["complete"] is False and meta["stopped"] == "interrupted (Ctrl-C)"
    assert len(bench.load(run_dir).trials) == 0  # tables, empty: collect and report read them
    assert not _processes_mentioning(str(scratch))
    assert list(scratch.iterdir()) == []
