"""``scripts/aa_gate.py`` end to end on a tiny suite: two rounds of an A/A pair and a slowed run."""

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
            "--rounds",
            "2",
            "--slowdown",
            "1.5",
            "--out",
            str(out),
            "--store",
            str(tmp_path / "store"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "A/A pairs where the gate FAILs:" in proc.stdout, proc.stdout
    assert "run-to-run drift from 2 A/A pairs" in proc.stdout
    assert "1.5x latency caught:" in proc.stdout
    # too few pairs to store a drift estimate, and the machine's stored one is not touched
    assert "drift not stored: 2 pairs" in proc.stdout
    assert not (tmp_path / "store" / "drift.json").exists()
    runs = [d for d in out.iterdir() if d.is_dir()]
    assert len(runs) == 6  # two rounds of A1, A2 and B, all kept
