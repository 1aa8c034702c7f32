"""``scripts/aa_gate.py`` end to end on a tiny suite: two rounds of an A/A pair and a slowed run,
as three arms of one interleaved run (the default) and as three runs one after the other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

import bench

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "aa_gate.py"

TINY = """
[suite]
name = "aa"
strategies = {strategies}
repeats = {repeats}
warmup = 0
seed = 8

[[workloads]]
codes = "all"
n_jobs = 12
concurrency = 4
latency = "5ms"
"""


def test_the_sequential_mode_runs_end_to_end(tmp_path):
    suite = tmp_path / "aa.toml"
    suite.write_text(TINY.format(repeats=3, strategies='["asyncio"]'))
    out = tmp_path / "runs"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--mode",
            "sequential",
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


def test_the_interleaved_mode_runs_one_run_a_round(tmp_path):
    suite = tmp_path / "aa.toml"
    suite.write_text(TINY.format(repeats=3, strategies='["sequential", "asyncio"]'))
    out = tmp_path / "runs"
    tables = tmp_path / "pairs.csv"
    args = [sys.executable, str(SCRIPT), "--suite", str(suite), "--rounds", "2"]
    args += ["--slowdown", "1.5", "--slow", "asyncio", "--out", str(out), "--tables", str(tables)]
    args += ["--max-repeats", "4"]  # a cap a tiny suite's noise reaches; 20 takes minutes
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = [d for d in out.iterdir() if d.is_dir()]
    assert len(runs) == 2  # one run a round, its three arms interleaved
    # every repeat, and every round --resolve added, ran each strategy's three arms together
    arms = bench.load(runs[0]).trials.groupby(["repeat", "strategy"])["arm"].agg(sorted)
    assert len(arms) >= 6 and all(a == ["A1", "A2", "B"] for a in arms)
    manifest = json.loads((out / "aa-gate.json").read_text())
    assert [r["resolve"] for r in manifest] == ["--resolve 5 --max-repeats 4"] * 2
    text = proc.stdout
    assert "compare --split arm prints it" in text
    assert "| round | run | load (1, 5, 15 min) at start; at end |" in text
    assert "| any strategy | " in text and "| asyncio | | 2/2 = 100%" in text
    assert "sequential" not in text.split("| any strategy |")[1]  # only the slowed strategy
    assert "drift stored" not in text and "drift not stored" not in text  # no drift to store
    pairs = pd.read_csv(tables)
    assert set(pairs["kind"]) == {"aa", "slow"} and set(pairs["pair"]) == {1, 2}
    slow = pairs[(pairs["kind"] == "slow") & (pairs["strategy"] == "asyncio")]
    request = slow[slow["measure"] == "request"]
    assert len(request) == 2 and (request["log_ratio"] > 0.2).all()  # 1.5 x latency, paired
