"""The client-CPU and scale-out charts, and their readings, from a small real run with two
event loops and two models of one-loop-or-several."""

from __future__ import annotations

import subprocess
import sys

import pytest

import bench
from bench.present import charts
from bench.present.report.readings import reading

from .test_charts import check_png


@pytest.fixture(scope="module")
def loops_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "asyncio",
            "multiprocess_asyncio",
            "-n",
            "12",
            "-m",
            "2,4",
            "--latency",
            "5ms",
            "--loop",
            "asyncio,uvloop",
            "--processes",
            "2",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--no-report",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return bench.load(folder)


def test_client_cpu_and_scale_out_charts_are_drawn_and_read(loops_run, tmp_path):
    paths = {p.name for p in charts.render_all(loops_run, tmp_path)}
    assert {"client-cpu.png", "scale-out.png"} <= paths
    check_png(tmp_path / "client-cpu.png")
    check_png(tmp_path / "scale-out.png")
    cpu = reading("client_cpu", loops_run)
    assert "the least client CPU per request was" in cpu[0] and "uvloop" in cpu[1]
    (scale, *_) = reading("scale_out", loops_run)
    assert "C=4: asyncio reached" in scale and "multiprocess_asyncio" in scale


def test_the_charts_are_skipped_without_a_second_client_or_model(real_run, tmp_path):
    paths = {p.stem for p in charts.render_all(real_run, tmp_path)}
    assert not {"client-cpu", "scale-out"} & paths
