"""``flagbench import-pytest-benchmark``: pytest-benchmark JSON becomes a run folder that
``bench.load``, ``flagbench report`` and ``flagbench compare`` accept.

Two sources: the project's own benchmark suite (flagbench's fixtures, plus a plain benchmark
of the server's) and files written by pytest-benchmark alone, without flagbench's plugin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import bench
import strategies
from bench.cli import main
from bench.define.workload import Workload
from bench.results.records import SCHEMA_VERSION

from ..xdist_env import without_xdist

ROOT = Path(__file__).resolve().parents[2]
PLAIN = """
import pytest

def test_sum(benchmark):
    benchmark.pedantic(sum, args=(range(10_000),), rounds=6, iterations=5)

@pytest.mark.benchmark(group="sorting")
def test_sorted(benchmark):
    benchmark.pedantic(sorted, args=(list(range(5_000, 0, -1)),), rounds=4, warmup_rounds=1)
"""


def pytest_json(args: list[str], cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=without_xdist(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def project_json(tmp_path_factory) -> Path:
    """The project's suite, a few of its benchmarks, timed: flagbench's and a plain one."""
    out = tmp_path_factory.mktemp("project") / "project.json"
    pytest_json(
        [
            "tests/benchmarks",
            "-k",
            "metadata_and_saving or synthetic_image_set",
            "--benchmark-only",
            f"--benchmark-json={out}",
        ],
        ROOT,
    )
    return out


@pytest.fixture(scope="module")
def plain_files(tmp_path_factory) -> dict[str, Path]:
    """Written by pytest-benchmark alone (flagbench's plugin off), in one session: with every
    round's time (--benchmark-json) and saved without them (--benchmark-autosave)."""
    tmp = tmp_path_factory.mktemp("plain")
    (tmp / "test_plain.py").write_text(PLAIN)
    files = {"json": tmp / "plain.json"}
    pytest_json(
        [
            "-p",
            "no:flagbench",
            "test_plain.py",
            f"--benchmark-json={files['json']}",
            "--benchmark-autosave",
            f"--benchmark-storage=file://{tmp}/saved",
        ],
        tmp,
    )
    files["saved"] = next((tmp / "saved").rglob("*.json"))
    return files


def flagbench(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, timeout=300
    )


def import_(files: list[Path], out: Path, *args: str) -> Path:
    assert main(["import-pytest-benchmark", *map(str, files), "--out", str(out), *args]) == 0
    (run_dir,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return run_dir


def test_the_project_suite_imports_with_the_harness_ids(project_json, tmp_path):
    proc = flagbench("import-pytest-benchmark", str(project_json), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = tmp_path.iterdir()
    run = bench.load(run_dir)
    assert (
        run.meta["schema"] == SCHEMA_VERSION
        and run.meta["imported_from"]["format"] == "pytest-benchmark"
    )
    assert run.requests.empty and run.probes.empty
    t = run.trials.astype({"strategy": str, "config_id": str})
    files = Workload(
        codes="all", n_jobs=30, concurrency=10, latency="5ms", metadata=True, save=True
    )
    ours = t[t["workload_id"].astype(str) == files.workload_id]
    assert sorted(ours["strategy"].unique()) == sorted(strategies.runnable_names())
    assert all(sorted(g) == [0, 1, 2] for _, g in ours.groupby("strategy")["repeat"])
    assert set(ours["config_id"]) == {f"{s}-{files.workload_id}" for s in ours["strategy"]}
    assert (ours["n_ok"] == 30).all() and (ours["n_requests"] == 60).all()
    assert ours["counts_match"].astype(bool).all() and (ours["n_saved_files"] == 30).all()
    plain = t[t["strategy"] == "test_synthetic_image_set"]
    assert len(plain) >= 1 and plain["n_requests"].isna().all()
    s = run.summary.set_index("strategy")
    assert s.loc["asyncio", "n"] == 3 and s.loc["asyncio", "speedup"] > 1
    assert s.loc["test_synthetic_image_set", "workload"] == "tests/benchmarks/test_bench_server.py"
    assert (run_dir / "report.html").is_file() and (run_dir / "charts" / "wall.png").is_file()
    again = flagbench("report", str(run_dir))
    assert again.returncode == 0, again.stderr


def test_plain_pytest_benchmark_files(plain_files, tmp_path):
    run = bench.load(import_([plain_files["json"]], tmp_path / "json"))
    t = run.trials.astype({"strategy": str, "workload": str})
    # one trial per benchmark; its rounds are samples of it, in the rounds table
    assert t.groupby("strategy").size().to_dict() == {"test_sorted": 1, "test_sum": 1}
    doc = json.loads(plain_files["json"].read_text())
    sum_rounds = next(b for b in doc["benchmarks"] if b["name"] == "test_sum")["stats"]["data"]
    [sum_trial] = t.loc[t["strategy"] == "test_sum", "trial_id"]
    r = run.rounds
    assert list(r.loc[r["trial_id"] == sum_trial, "time_s"]) == sum_rounds
    assert list(r.loc[r["trial_id"] == sum_trial, "round"]) == list(range(6))
    assert float(t.loc[t["strategy"] == "test_sum", "wall_s"].iloc[0]) == pytest.approx(
        sorted(sum_rounds)[2] / 2 + sorted(sum_rounds)[3] / 2
    )
    assert dict(zip(t["strategy"], t["workload"], strict=True)) == {
        "test_sorted": "sorting",
        "test_sum": "test_plain.py",
    }
    s = run.summary.set_index("strategy")
    low, mean, high = s.loc["test_sum", ["wall_ci_low_s", "wall_gmean_s", "wall_ci_high_s"]]
    assert s.loc["test_sum", "n"] == 6 and low < mean < high
    assert (Path(run.path) / "report.html").is_file()

    saved = bench.load(import_([plain_files["saved"]], tmp_path / "saved"))
    assert saved.trials.empty  # saved without --benchmark-save-data: no rounds, no trials
    stats = {
        b["name"]: b["stats"] for b in json.loads(plain_files["saved"].read_text())["benchmarks"]
    }
    s = saved.summary.set_index("strategy")
    assert s.loc["test_sum", "wall_median_s"] == pytest.approx(stats["test_sum"]["median"])
    assert s.loc["test_sorted", "n"] == 4
    assert (Path(saved.path) / "report.html").is_file()


def test_two_imported_runs_compare(plain_files, tmp_path, capsys):
    """B is A with test_sum 1.5 times slower: compare finds that one, only. (test_sum's rounds
    are set to fixed times on both sides, so the machine's noise cannot hide the slowdown.)"""
    runs = []
    for name, factor in (("a", 1.0), ("b", 1.5)):
        doc = json.loads(plain_files["json"].read_text())
        for b in doc["benchmarks"]:
            if b["name"] == "test_sum":
                b["stats"]["data"] = [factor * (1e-3 + 1e-5 * i) for i in range(6)]
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        runs.append(str(import_([path], tmp_path / name, "--no-report")))
    capsys.readouterr()
    assert main(["compare", *runs, "--chart", str(tmp_path / "cmp.png")]) == 0
    out = capsys.readouterr().out
    assert "workload: sorting" in out and "workload: test_plain.py" in out
    verdicts = {
        line.split()[0]: line.split()[-1] for line in out.splitlines() if line.startswith("test_")
    }
    assert verdicts == {"test_sum": "slower", "test_sorted": "same"}
    assert main(["compare", *runs, "--fail-above", "20"]) == 1


def test_files_pool_their_rounds_and_clashing_tests_stay_apart(project_json, tmp_path):
    doc = json.loads(project_json.read_text())
    twin = next(b for b in doc["benchmarks"] if b["name"] == "test_metadata_and_saving[asyncio]")
    doc["benchmarks"] = [{**twin, "name": "test_twin", "fullname": "tests/x.py::test_twin"}]
    other = tmp_path / "twin.json"
    other.write_text(json.dumps(doc))
    run = bench.load(import_([project_json, project_json, other], tmp_path / "out"))
    s = run.summary.set_index("strategy")
    assert s.loc["threadpool", "n"] == 6  # the same benchmark in two files: one configuration
    assert s.loc["asyncio (test_metadata_and_saving[asyncio])", "n"] == 6
    assert s.loc["asyncio (test_twin)", "n"] == 3


BAD = {
    "not json": ("{nope", "not JSON"),
    "a list": ("[1, 2]", 'not a pytest-benchmark JSON file (no "benchmarks" list)'),
    "no benchmarks": ('{"benchmarks": []}', "no benchmarks in it"),
    "no stats": ('{"benchmarks": [{"name": "t"}]}', "benchmarks[0] (t) has no stats"),
    "rounds and data disagree": (
        '{"benchmarks": [{"name": "t", "stats": {"min": 1, "max": 1, "mean": 1, "median": 1, '
        '"rounds": 3, "data": [1, 1]}}]}',
        "stats.data has 2 times for 3 rounds",
    ),
    "newer flagbench": (
        '{"benchmarks": [{"name": "t", "stats": {"min": 1, "max": 1, "mean": 1, "median": 1, '
        '"rounds": 1}, "extra_info": {"flagbench": {"schema": 99, "trials": []}}}]}',
        "written by a newer flagbench (results schema 99",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_nothing_written(case, tmp_path, capsys):
    content, message = BAD[case]
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "results"
    assert main(["import-pytest-benchmark", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"flagbench: error: {bad}")
    assert message in err
    assert not out.exists()


def test_bad_baseline_and_missing_file(plain_files, tmp_path, capsys):
    out = tmp_path / "results"
    args = ["import-pytest-benchmark", str(plain_files["json"])]
    assert main([*args, "--out", str(out), "--baseline", "test_nope"]) == 2
    assert "--baseline test_nope: no benchmark of that name" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    assert "missing.json: cannot read" in capsys.readouterr().err
    assert not out.exists()


def test_an_imported_folder_cannot_be_collected_or_resumed(plain_files, tmp_path, capsys):
    run_dir = import_([plain_files["json"]], tmp_path, "--no-report")
    before = sorted(p.name for p in run_dir.iterdir())
    for args in (["collect", str(run_dir)], ["suite", "--resume", str(run_dir)]):
        assert main(args) == 2
        assert "imported from pytest-benchmark files" in capsys.readouterr().err
    assert sorted(p.name for p in run_dir.iterdir()) == before
