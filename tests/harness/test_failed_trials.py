"""A failure is data, never a success: trials whose counts do not add up are failed trials with
their reason, and a run with failed trials exits 1, saying how many and why.

Real processes throughout: a pool child and a worker killed with SIGKILL, plugins installed
through real entry points, a second client that the server counts and the trial did not send.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

import bench
from bench.define.spec import Suite, Trial
from bench.define.workload import Workload
from bench.results.accounting import failure_of
from bench.results.records import RECORD_FIELDS, TrialResult, WorkerResult
from bench.run.runner import RunOptions, run_trial
from bench.soak import procs
from flags_server import ServerConfig, running
from strategies.base import RequestRecord

from .plugins import installed_plugin


def _plugin_env(tmp_path: Path, env: dict[str, str], name: str, source: str) -> dict[str, str]:
    """An installed-looking distribution whose entry point registers strategy ``name``."""
    return installed_plugin(
        tmp_path / "site",
        f"{name}_plugin",
        f"[flagbench.strategies]\n{name} = {name}_plugin:Strategy\n",
        {f"{name}_plugin.py": source},
        env,
    )


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_run_whose_every_trial_failed_has_tables_and_exits_1(tmp_path, isolated_env):
    out = tmp_path / "r"
    proc = _cli(
        "run",
        "asyncio",
        "-n",
        "20",
        "-m",
        "1",
        "--latency",
        "1s",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--watchdog",
        "2",
        "--out",
        str(out),
        "--no-report",
        env=isolated_env,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "flagbench: 1 of 1 trials failed: watchdog: no result after 2 s; worker killed "
        "(the trials table's failure column has every reason)"
    )
    assert "failed" not in proc.stdout and "no successful trials" in proc.stdout
    [run_dir] = out.iterdir()
    run = bench.load(run_dir)
    assert run.meta["complete"] is True and run.meta["ended"] and run.summary.empty
    assert list(run.trials["status"]) == ["failed"]
    for args, code in (
        (("collect", str(run_dir)), 0),
        (("report", str(run_dir)), 0),
        (("suite", "--resume", str(run_dir), "--no-report"), 1),
    ):
        again = _cli(*args, env=isolated_env)
        assert again.returncode == code and "Traceback" not in again.stderr, again.stderr
    assert (run_dir / "report.html").is_file()


EMPTY = """
class Strategy:
    name = "empty"
    description = "returns no records at all"

    def run(self, jobs, settings, progress=None, probes=None):
        return []
"""


def test_a_strategy_that_returns_no_records_fails_its_trials(tmp_path, isolated_env):
    env = _plugin_env(tmp_path, isolated_env, "empty", EMPTY)
    out = tmp_path / "r"
    proc = _cli(
        "run",
        "empty",
        "asyncio",
        "BR",
        "CN",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--out",
        str(out),
        "--no-report",
        env=env,
    )
    assert proc.returncode == 1, proc.stderr
    why = "the strategy returned 0 final outcomes for 2 jobs"
    assert f"flagbench: 1 of 2 trials failed: {why} (" in proc.stderr
    trials = bench.load(next(out.iterdir())).trials.set_index("strategy")
    assert trials.loc["empty", "status"] == "failed" and trials.loc["empty", "failure"] == why
    assert trials.loc["empty", "bottleneck"] == "failed"
    assert trials.loc["asyncio", "status"] == "ok"


POOL = """
[suite]
name = "pool"
strategies = ["processpool"]
repeats = 2
warmup = 0
seed = 2
[[workloads]]
codes = "BR CN US IN ID PK NG BD"
concurrency = 4
latency = "1s"
"""


def test_a_killed_pool_child_and_a_killed_worker_fail_their_trials(tmp_path, isolated_env):
    suite = tmp_path / "pool.toml"
    suite.write_text(POOL)
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "suite", str(suite), "--out", str(out), "--no-report"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_env,
    )
    try:
        for trial_id in (0, 1):
            worker = procs.wait_for(
                procs.find_below(proc.pid, f"trial-{trial_id}.json"), 60, "worker"
            )
            child = procs.wait_for(lambda w=worker: procs.busy_pool_process(w), 60, "pool process")
            os.kill(child if trial_id == 0 else worker, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, stderr
    assert "flagbench: 2 of 2 trials failed: " in stderr
    trials = bench.load(next(out.iterdir())).trials.set_index("trial_id")
    assert (trials["status"] == "failed").all() and (trials["bottleneck"] == "failed").all()
    assert trials.loc[0, "failure"].endswith("jobs lost with a dead pool process (worker_lost)")
    assert trials.loc[1, "failure"] == "worker killed by SIGKILL"
    assert not procs.matching(str((tmp_path / "scratch").resolve()))  # the killed worker's pool too


def test_a_trial_the_server_counted_differently_fails(tmp_path):
    """Someone else's requests reach the server during the trial: its counts are not ours."""
    workload = Workload(codes="BR CN US IN", concurrency=1, latency="200ms")
    suite = Suite("s", ("asyncio",), (workload,))
    trial = Trial(0, "asyncio", workload, repeat=0)
    with running(ServerConfig(seed=1)) as srv:
        stop = threading.Event()

        def other_client() -> None:
            with requests.Session() as s:
                s.trust_env = False
                while not stop.is_set():
                    s.get(f"{srv.base_url}/", timeout=5)  # the index: counted, not delayed

        thread = threading.Thread(target=other_client)
        thread.start()
        try:
            result = run_trial(trial, srv, suite, RunOptions(), tmp_path)
        finally:
            stop.set()
            thread.join()
    assert result.status == "failed"
    assert result.failure.startswith("the server counted ")
    assert result.failure.endswith(" requests, the client sent 4")


# ---------------------------------------------------------------- the rule, one case at a time


def _trial(
    records: list[RequestRecord], n_jobs: int = 2, server: dict | None = None, **changes
) -> TrialResult:
    rows = [[getattr(r, f) for f in RECORD_FIELDS] for r in records]
    result = WorkerResult(1.0, 0.1, 0.0, 50.0, n_jobs, RECORD_FIELDS, rows, [], "3.11.7")
    trial = Trial(0, "asyncio", Workload(codes="BR CN"), repeat=0)
    done = TrialResult(trial, n_jobs, 1, 0.0, status="ok", result=result, server=server)
    return dataclasses.replace(done, **changes)


def _rec(
    cc: str, outcome: str = "ok", kind: str | None = None, attempt: int = 1, final: bool = True
) -> RequestRecord:
    return RequestRecord(
        cc, "flag", attempt, 0.0, 0.0, 0.1, 200, outcome, kind, 10, "1/t", final=final
    )


@pytest.mark.parametrize(
    ("records", "server", "reason"),
    [
        ([_rec("br"), _rec("cn")], {"requests": 2}, ""),
        ([_rec("br"), _rec("cn")], None, ""),  # counts unavailable: warned about before the run
        (
            [_rec("br", "error", "http_418", final=False), _rec("br"), _rec("cn")],
            {"requests": 3},
            "",
        ),
        ([_rec("br")], {"requests": 1}, "the strategy returned 1 final outcomes for 2 jobs"),
        (
            [_rec("br"), _rec("br"), _rec("cn")],
            {"requests": 3},
            "the strategy returned 3 final outcomes for 2 jobs",
        ),
        (
            [_rec("br"), _rec("cn", "error", "worker_lost", attempt=0)],
            {"requests": 1},
            "1 job lost with a dead pool process (worker_lost)",
        ),
        (
            [_rec("br"), _rec("cn", "error", "cancelled", attempt=0)],
            {"requests": 1},
            "1 job never finished (cancelled)",
        ),
        (
            [_rec("br"), _rec("cn", "error", "connection_refused")],
            {"requests": 1},
            "1 request refused: the flag server was not listening (connection_refused)",
        ),
        (
            [_rec("br"), _rec("cn")],
            {"requests": 3},
            "the server counted 3 requests, the client sent 2",
        ),
        (
            [_rec("br"), _rec("cn")],
            {"requests": 2, "header_timeouts": 1},
            "the server closed 1 connection at once or mid-request (over its connection cap, or a "
            "request head overdue)",
        ),
    ],
)
def test_the_rule(records, server, reason):
    assert failure_of(_trial(records, server=server)) == reason


def test_the_collector_holds_older_raw_files_to_the_rule(tmp_path):
    """A raw file saved as ok before the rule existed is read as the failed trial it was."""
    from bench.results import collect

    old = _trial([_rec("br")], server={"requests": 1})
    raw = json.loads(json.dumps(old.to_dict()))
    tables, summary = collect.collect("run", [TrialResult.from_dict(raw)])
    row = tables["trials"].iloc[0]
    assert row["status"] == "failed" and row["bottleneck"] == "failed"
    assert row["failure"] == "the strategy returned 1 final outcomes for 2 jobs"
    assert summary.empty
