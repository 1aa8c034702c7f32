"""A small real run, made once per session through the real CLI against the real flag server.

Every chart and report test reads this stored run (``bench.load``), so the tests exercise the
tables exactly as the harness writes them. The run and its report are made once even when
pytest-xdist splits the session between workers (``tests/once.py``): the tests only read them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bench
from bench.present import report

from ..once import built_once

# Three strategies (sequential for speed-ups, threads for heartbeats, asyncio for loop lag),
# two concurrency values (a sweep), injected errors, two repeats: about 12 short trials.
RUN_ARGS = (
    "run",
    "sequential",
    "threadpool",
    "asyncio",
    "-n",
    "16",
    "-m",
    "2,4",
    "--latency",
    "10ms",
    "--error-rate",
    "0.2",
    "--repeats",
    "2",
    "--warmup",
    "0",
    "--seed",
    "5",
    "--no-report",
)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    def build(out: Path) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "bench", *RUN_ARGS, "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    out = built_once(tmp_path_factory, "report-run", build)
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


@pytest.fixture(scope="session")
def real_run(run_dir):
    return bench.load(run_dir)


@pytest.fixture(scope="session")
def written(real_run, tmp_path_factory):
    """The report and charts, written once into the run folder as ``flagbench report`` does."""
    built_once(tmp_path_factory, "report-written", lambda _: report.write_report(real_run))
    return Path(real_run.path) / "report.html", Path(real_run.path) / "report.md"
