"""A resumed run keeps the flag server it started on: its ``--server`` (given again or not), or
the embedded one. Another server is refused in one line, and nothing is written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import bench
from bench.soak import procs
from flags_server import ServerConfig, running

from .test_stops import _start  # the same short suite, started the same way


def _stopped_run(tmp_path: Path, env: dict[str, str], *args: str) -> Path:
    """A run stopped by SIGTERM in its second trial: one trial saved, resumable."""
    out = tmp_path / "r"
    proc = _start(tmp_path, env, *args)
    try:
        procs.wait_for(procs.find_below(proc.pid, "trial-1.json"), 60, "worker of trial 1")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    [run_dir] = out.iterdir()
    return run_dir


def _resume(run_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", "suite", "--resume", str(run_dir), "--no-report", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _files(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def test_a_server_run_resumes_on_its_server_or_is_refused(tmp_path, isolated_env):
    with running(ServerConfig(seed=1)) as srv, running(ServerConfig(seed=1)) as other:
        run_dir = _stopped_run(tmp_path, isolated_env, "--server", srv.flags_url)
        before = _files(run_dir)

        refused = _resume(run_dir, isolated_env, "--server", other.flags_url)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr == (
            f"flagbench: error: --resume {run_dir}: that run used the flag server "
            f"{srv.base_url}; resume it on that server (--server {srv.base_url}, or no "
            f"--server), not on {other.flags_url}\n"
        )
        assert _files(run_dir) == before

        srv.reset_stats()
        done = _resume(run_dir, isolated_env)  # no --server: the run's own
        assert done.returncode == 0, done.stderr
        assert srv.stats()["requests"] > 0  # the resumed trials' requests went there
    run = bench.load(run_dir)
    assert run.meta["complete"] is True and run.meta["server"]["url"] == srv.base_url
    assert run.meta["server"]["external"] is True
    assert sorted(run.trials["trial_id"]) == [0, 1, 2]
    assert (run.trials["status"] == "ok").all() and run.trials["counts_match"].all()


def test_an_embedded_server_run_is_not_resumed_on_another_server(tmp_path, isolated_env):
    run_dir = _stopped_run(tmp_path, isolated_env)
    before = _files(run_dir)
    assert json.loads((run_dir / "meta.json").read_text())["server"]["external"] is False
    with running(ServerConfig(seed=1)) as srv:
        refused = _resume(run_dir, isolated_env, "--server", srv.flags_url)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr == (
        f"flagbench: error: --resume {run_dir}: that run used the embedded flag server; "
        f"resume it without --server (not on {srv.flags_url})\n"
    )
    assert _files(run_dir) == before
