"""``scripts/aa_gate.py`` end to end on a tiny suite: two A/A pairs and a run with CPU work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "aa_gate.py"

TINY = """
[suite]
name = "aa"
strategies = ["sequential", "asyncio"]
repeats = 5
warmup = 0
seed = 8

[[workloads]]
codes = "all"
n_jobs = 12
concurrency = 4
latency = "5ms"
"""


def test_the_a_a_script_runs_end_to_end(tmp_path):
    suite = tmp_path / "aa.toml"
    suite.write_text(TINY)
    out = tmp_path / "runs"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--suite",
            str(suite),
            "--pairs",
            "2",
            "--cpu-work",
            "python:10ms",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "A/A: --fail-above 5 fired in" in proc.stdout, proc.stdout + proc.stderr
    assert "run-to-run drift" in proc.stdout
    assert "--cpu-work python:10ms run" in proc.stdout and "flagged" in proc.stdout
    runs = [d for d in out.iterdir() if d.is_dir()]
    assert len(runs) == 5  # two pairs and the run with CPU work, all kept
    # 120 ms of GIL-holding work against 30 to 80 ms of waiting: a slowdown to flag even on a
    # busy machine, where such short trials spread widely
    assert "against" in proc.stdout and "NOT flagged" not in proc.stdout, proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
