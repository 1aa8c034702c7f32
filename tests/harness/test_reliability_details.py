"""Small things a user reads: no NumPy warning at latency 0, a helper that printed text is never
said to have printed nothing, and a dead dask scheduler is found before anything is written."""

from __future__ import annotations

import socket
import subprocess
import sys

# latency 0 without CPU work: the gil chart's two ideals are both 0
ZERO = """
[suite]
name = "zero"
strategies = ["sequential", "threadpool"]
repeats = 1
warmup = 0
seed = 2
[defaults]
codes = "BR CN US IN"
latency = "0"
cpu_work = ["", "python:1ms"]
[[workloads]]
concurrency = 1
strategies = ["sequential"]
[[workloads]]
concurrency = [1, 2]
strategies = ["threadpool"]
"""


def test_latency_0_draws_every_chart_without_a_runtime_warning(tmp_path):
    suite = tmp_path / "zero.toml"
    suite.write_text(ZERO)
    out = tmp_path / "r"
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::RuntimeWarning",
            "-m",
            "bench",
            "suite",
            str(suite),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "RuntimeWarning" not in proc.stderr and "report failed" not in proc.stderr
    [run_dir] = out.iterdir()
    assert (run_dir / "charts" / "gil.png").is_file() and (run_dir / "report.html").is_file()


def test_a_python_that_printed_text_is_quoted_not_said_silent(tmp_path, run_cli):
    script = tmp_path / "notpython"
    script.write_text("#!/bin/sh\necho 'this is not python'\n")
    script.chmod(0o755)
    out = tmp_path / "r"
    proc = run_cli("run", "asyncio", "BR", "--python", str(script), "--out", str(out))
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.endswith("is not a Python flagbench can ask about itself (this is not python)")
    assert "no output" not in line and not out.exists()


def test_a_dead_dask_scheduler_is_one_line_before_anything_is_written(tmp_path, run_cli):
    with socket.socket() as s:  # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "r"
    address = f"tcp://127.0.0.1:{port}"
    proc = run_cli("run", "dask", "BR", "--dask-scheduler", address, "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"flagbench: error: --dask-scheduler {address}: cannot connect (Connection refused); "
        "start the scheduler first (dask scheduler), or leave the option out for a "
        "LocalCluster per trial\n"
    )
    assert not out.exists()
