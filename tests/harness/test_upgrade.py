"""Results folders written by an older flagbench load through the upgrade step, or are refused
with one line; never half-read through fallbacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import bench
from bench._exceptions import RunDirError
from bench.results.records import SCHEMA_VERSION

# A real run (sequential and asyncio, 8 flags, 2 repeats) written before results had a schema.
SCHEMA1_RUN = Path(__file__).parent.parent / "data" / "run-schema1"


@pytest.fixture
def old_run(tmp_path) -> Path:
    return Path(shutil.copytree(SCHEMA1_RUN, tmp_path / "old"))


def test_a_schema_1_run_loads_with_todays_columns(old_run):
    run = bench.load(old_run)
    assert run.meta["schema"] == SCHEMA_VERSION and run.meta["spec"]["baseline"] == "sequential"
    assert len(run.trials) == 4 and set(run.trials["status"]) == {"ok"}
    assert {"baseline", "speedup"} <= set(run.summary.columns)
    assert set(run.summary["baseline"]) == {"sequential"}
    assert "strategy" in run.requests.columns
    # ids are derived again from each trial's workload: one per configuration
    assert run.trials.groupby("strategy", observed=True)["config_id"].nunique().eq(1).all()


def test_collect_writes_the_upgrade_back(old_run, run_cli):
    proc = run_cli("collect", str(old_run))
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((old_run / "meta.json").read_text())
    assert meta["schema"] == SCHEMA_VERSION
    assert len(bench.load(old_run).trials) == 4


def test_report_of_an_old_run_works(old_run, run_cli):
    proc = run_cli("report", str(old_run))
    assert proc.returncode == 0, proc.stderr
    assert (old_run / "report.html").is_file()


def test_a_run_from_a_newer_flagbench_is_refused_in_one_line(old_run, run_cli):
    meta = json.loads((old_run / "meta.json").read_text())
    (old_run / "meta.json").write_text(json.dumps({**meta, "schema": SCHEMA_VERSION + 1}))
    with pytest.raises(RunDirError, match="written by a newer flagbench"):
        bench.load(old_run)
    proc = run_cli("report", str(old_run))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "newer flagbench" in proc.stderr
    assert not (old_run / "report.html").exists()


def test_an_old_run_without_raw_files_is_refused_in_one_line(old_run, run_cli):
    shutil.rmtree(old_run / "raw")
    proc = run_cli("report", str(old_run))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no raw/ trial files" in proc.stderr
