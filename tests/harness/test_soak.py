"""The soak command works and prints its table (its long checks run with ``tox -e soak``)."""

from __future__ import annotations

import subprocess
import sys

from bench.soak.table import HEADER, Row, markdown


def test_the_soak_runs_a_check_and_prints_one_table():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--quick", "--only", "http-inputs"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header, rule, row, blank, verdict = proc.stdout.strip().splitlines()
    assert header == "| " + " | ".join(HEADER) + " |" and rule.startswith("| --- |")
    assert blank == ""
    assert row.startswith("| bad input: HTTP | ") and "0 answered 5xx" in row
    assert verdict.startswith("1 of 1 checks held in ")


def test_an_unknown_check_is_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--only", "everything"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown check 'everything'; choose from: load-asyncio, " in proc.stderr


def test_a_failed_check_is_marked_in_the_table():
    table = markdown([Row("c", "l", "f", "why", lost=3, passed=False)])
    assert "| c | l | f | FAILED: why | 3 | - | - | 0 | 0 s |" in table
