"""Every stop of a run leaves a folder that ``--resume`` finishes and ``collect``/``report`` read,
and reaps every process it started: real signals to the real processes, a real file-size limit,
real read-only folders.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench
from bench.soak import procs

from .limits import child_limits

# three trials of two rounds of 300 ms: long enough to be caught in the middle of one
SHORT = """
[suite]
name = "short"
strategies = ["asyncio"]
repeats = 3
warmup = 0
seed = 1
[[workloads]]
codes = "BR CN US IN"
concurrency = 2
latency = "300ms"
timeout_s = 2.0
"""


def _start(tmp_path: Path, env: dict[str, str], *args: str, **kwargs) -> subprocess.Popen[str]:
    suite = tmp_path / "short.toml"
    suite.write_text(SHORT)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench",
            "suite",
            str(suite),
            "--out",
            str(tmp_path / "r"),
            "--no-report",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stderr


def _in_trial(proc: subprocess.Popen[str], trial_id: int) -> int:
    """The worker of trial ``trial_id`` (its command line names its task file), once running."""
    return procs.wait_for(
        procs.find_below(proc.pid, f"trial-{trial_id}.json"), 60, f"worker of trial {trial_id}"
    )


def _left_over(tmp_path: Path, cli_pid: int) -> list[int]:
    """Processes of the run still alive: workers (their scratch paths) or the server."""
    return procs.matching(str((tmp_path / "scratch").resolve())) + procs.matching(
        f"--parent-pid {cli_pid}"
    )


def _resume(run_dir: Path, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", "suite", "--resume", str(run_dir), "--no-report"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        **kwargs,
    )


def _assert_resumes_to_complete(run_dir: Path, env: dict[str, str], n: int = 3) -> None:
    done = _resume(run_dir, env)
    assert done.returncode == 0, done.stderr
    run = bench.load(run_dir)
    assert run.meta["complete"] is True and run.meta["stopped"] is None
    assert sorted(run.trials["trial_id"]) == list(range(n))
    assert (run.trials["status"] == "ok").all() and run.trials["counts_match"].all()


def test_the_server_killed_mid_trial_stops_the_run_and_resume_completes(tmp_path, isolated_env):
    proc = _start(tmp_path, isolated_env)
    _in_trial(proc, 1)
    server = procs.wait_for(procs.find_below(proc.pid, "flags_server"), 10, "flag server")
    os.kill(server, signal.SIGKILL)
    code, stderr = _finish(proc)
    assert code == 2, stderr
    line = stderr.strip().splitlines()[-1]
    [run_dir] = (tmp_path / "r").iterdir()
    assert line == (
        f"flagbench: error: the flag server died during trial 2 (asyncio) (killed by "
        f"SIGKILL); 1 of 3 trials saved in {run_dir}; finish the run with: "
        f"flagbench suite --resume {run_dir}"
    )
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["complete"] is False and "flag server died" in meta["stopped"]
    # the trial the server died in is not saved as a result: resume runs it again
    assert [p.name for p in (run_dir / "raw").iterdir()] == ["trial-00000.json"]
    assert len(bench.load(run_dir).trials) == 1
    assert not _left_over(tmp_path, proc.pid)
    _assert_resumes_to_complete(run_dir, isolated_env)


# the requests' timeout is long: a frozen server noticed only when they time out would take
# at least this long to stop the run (two rounds of it, as on earlier versions)
FROZEN = SHORT.replace("timeout_s = 2.0", "timeout_s = 30.0").replace('"short"', '"frozen"')


def test_a_frozen_server_is_noticed_within_seconds_and_resume_completes(tmp_path, isolated_env):
    suite = tmp_path / "frozen.toml"
    suite.write_text(FROZEN)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench",
            "suite",
            str(suite),
            "--out",
            str(tmp_path / "r"),
            "--no-report",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_env,
    )
    _in_trial(proc, 1)
    server = procs.wait_for(procs.find_below(proc.pid, "flags_server"), 10, "flag server")
    time.sleep(0.3)  # the trial's requests are on their way
    os.kill(server, signal.SIGSTOP)
    frozen_at = time.monotonic()
    code, stderr = _finish(proc)
    took = time.monotonic() - frozen_at
    # noticed by the health watch, long before a single request's timeout (30 s) ran out
    assert took < 30.0 / 2, f"{took:.1f} s to notice"
    assert code == 2, stderr
    [run_dir] = (tmp_path / "r").iterdir()
    line = stderr.strip().splitlines()[-1]
    assert line.startswith(
        "flagbench: error: the flag server stopped answering during trial 2 (asyncio): "
        "GET http://127.0.0.1:"
    )
    assert line.endswith(
        f"/_health: no answer within 2 s; 1 of 3 trials saved in {run_dir}; finish the run "
        f"with: flagbench suite --resume {run_dir}"
    )
    assert not procs.alive(server) and not _left_over(tmp_path, proc.pid)
    assert [p.name for p in (run_dir / "raw").iterdir()] == ["trial-00000.json"]
    _assert_resumes_to_complete(run_dir, isolated_env)


def test_a_killed_runners_scratch_goes_with_the_resume_and_a_live_runs_stays(
    tmp_path, isolated_env
):
    scratch = tmp_path / "scratch"
    proc = _start(tmp_path, isolated_env)
    worker = _in_trial(proc, 1)
    os.kill(proc.pid, signal.SIGKILL)  # the runner itself: nothing of it can clean up
    proc.communicate(timeout=60)
    [stale] = scratch.glob("flagbench-*")
    procs.wait_for(lambda: not procs.alive(worker) or None, 60, "the orphaned worker to end")
    [run_dir] = (tmp_path / "r").iterdir()

    # another run, live while the resume starts: its scratch folder must survive
    live_suite = tmp_path / "live.toml"
    live_suite.write_text(SHORT.replace("repeats = 3", "repeats = 20").replace('"short"', '"live"'))
    live = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench",
            "suite",
            str(live_suite),
            "--out",
            str(tmp_path / "live"),
            "--no-report",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_env,
    )
    try:
        _in_trial(live, 1)
        [live_scratch] = [d for d in scratch.glob("flagbench-*") if d != stale]
        _assert_resumes_to_complete(run_dir, isolated_env)
        assert not stale.exists()  # the dead run's folder went with the resume
        assert live.poll() is None and live_scratch.is_dir()
        # the live run goes on: a trial that starts after the resume ended finishes too
        [live_dir] = (tmp_path / "live").iterdir()
        after = len(list((live_dir / "raw").glob("trial-*.json"))) + 1
        _in_trial(live, after + 1)
        live.send_signal(signal.SIGTERM)  # then stopped, which needs no more of its trials
    finally:
        code, stderr = _finish(live)
    assert code == 128 + signal.SIGTERM and "stopped by SIGTERM" in stderr, stderr
    trials = bench.load(live_dir).trials  # the live run never missed a file
    assert len(trials) >= after + 1 and (trials["status"] == "ok").all()
    assert list(scratch.iterdir()) == []


def test_sigterm_stops_like_ctrl_c_reaps_everything_and_resume_completes(tmp_path, isolated_env):
    proc = _start(tmp_path, isolated_env)
    worker = _in_trial(proc, 1)
    proc.send_signal(signal.SIGTERM)
    code, stderr = _finish(proc)
    assert code == 128 + signal.SIGTERM, stderr
    [run_dir] = (tmp_path / "r").iterdir()
    assert "stopped by SIGTERM" in stderr and f"flagbench suite --resume {run_dir}" in stderr
    assert not procs.alive(worker) and not _left_over(tmp_path, proc.pid)
    assert list((tmp_path / "scratch").iterdir()) == []  # the scratch folder is gone too
    run = bench.load(run_dir)
    assert run.meta["stopped"] == "stopped by SIGTERM" and len(run.trials) == 1
    _assert_resumes_to_complete(run_dir, isolated_env)


# Trial 0 writes a few kilobytes; trial 1's 3,000 jobs write far more than the limit.
SIZES = """
[suite]
name = "sizes"
strategies = ["asyncio"]
repeats = 1
warmup = 0
seed = 5
[[workloads]]
codes = "BR"
n_jobs = [2, 3000]
concurrency = 50
"""
FSIZE = 160_000


def test_a_full_disk_stops_the_run_in_one_line_and_resume_completes(tmp_path, isolated_env):
    suite = tmp_path / "sizes.toml"
    suite.write_text(SIZES)
    out = tmp_path / "r"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "suite", str(suite), "--out", str(out), "--no-report"],
        capture_output=True,
        text=True,
        env=isolated_env,
        timeout=120,
        preexec_fn=child_limits(fsize=FSIZE),
    )
    assert proc.returncode == 2, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("flagbench: error:")]
    [run_dir] = out.iterdir()
    assert line.startswith("flagbench: error: the worker could not write its result: cannot write ")
    assert (
        f"File too large; 1 of 2 trials saved in {run_dir}; finish the run with: "
        f"flagbench suite --resume {run_dir}"
    ) in line
    assert len(bench.load(run_dir).trials) == 1

    # the runner's own write fails next: raw/ is read-only (for root too, see limits.py)
    (run_dir / "raw").chmod(0o555)
    try:
        again = _resume(run_dir, isolated_env, preexec_fn=child_limits())
    finally:
        (run_dir / "raw").chmod(0o755)
    assert again.returncode == 2, again.stderr
    last = again.stderr.strip().splitlines()[-1]
    assert last.startswith("flagbench: error: cannot write the results: Permission denied (")
    assert "1 of 2 trials saved" in last and not list((tmp_path / "scratch").iterdir())

    _assert_resumes_to_complete(run_dir, isolated_env, n=2)


@pytest.mark.parametrize("where", ["under-read-only", "a-file"])
def test_an_unwritable_results_folder_is_one_line(tmp_path, where):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    out = {"under-read-only": locked / "results", "a-file": a_file}[where]
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "asyncio", "BR", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=child_limits(),
    )
    assert proc.returncode == 2, proc.stderr
    why = (
        "Permission denied" if where == "under-read-only" else "it, or a folder above it, is a file"
    )
    assert proc.stderr == f"flagbench: error: cannot make a run folder in {out}: {why}\n"
    assert list(locked.iterdir()) == []


def test_ctrl_c_while_the_report_is_drawn_says_so(tmp_path, isolated_env):
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "asyncio",
            "BR",
            "CN",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_env,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob("*/charts/*.png")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    code, stderr = _finish(proc)
    [run_dir] = out.iterdir()
    assert code == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        "flagbench: interrupted while drawing the report; the results are saved, draw it with: "
        f"flagbench report {run_dir}"
    )
    assert bench.load(run_dir).meta["complete"] is True


# A stop that lands inside Popen, after the child is forked but before the caller holds it:
# made certain here by sending it from a Popen that has just started its child.
STOP_WHILE_STARTING = """
import os, signal, subprocess, sys
from pathlib import Path
from bench.run.process import run_worker
from bench.run.signals import stop_signals_raise

real = subprocess.Popen
def popen_then_stop(*args, **kwargs):
    child = real(*args, **kwargs)
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    return child
subprocess.Popen = popen_then_stop
try:
    with stop_signals_raise():
        run_worker([sys.executable, "-c", "import time; time.sleep(60)", sys.argv[2]], 60,
                   Path(sys.argv[3]), False)
except BaseException as exc:
    print(type(exc).__name__)
"""


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_stop_while_the_worker_starts_kills_it(tmp_path, stop):
    marker = f"flagbench-test-marker-{stop}-{os.getpid()}"
    done = subprocess.run(
        [sys.executable, "-c", STOP_WHILE_STARTING, stop, marker, str(tmp_path / "err.txt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    left = procs.matching(marker)
    for pid in left:  # not to outlive the test when it fails
        os.kill(pid, signal.SIGKILL)
    assert done.stdout.strip() == ("KeyboardInterrupt" if stop == "SIGINT" else "Terminated")
    assert left == [], "the worker started as the stop came outlived the run"
