"""Small things a user reads: no NumPy warning at latency 0, and a helper that printed text is
never said to have printed nothing."""

from __future__ import annotations

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
