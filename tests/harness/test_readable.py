"""What a user reads about a run is true of it and easy to follow: numeric order of every
swept axis, one efficiency on the progress line and in the table, the busy-machine warning,
``--version``. One small real run (asyncio, a slow disk swept out of order) serves them all."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench
from bench.present.charts.data import workloads
from bench.present.charts.data import workloads as data_workloads

from ..xdist_env import without_xdist
from .conftest import flagbench, run_flagbench

DELAYS = ("10ms", "0.5ms", "20ms", "1ms", "2ms")  # given out of order on purpose


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    proc = run_flagbench(
        "run", "asyncio", "-n", "8", "-m", "4", "--latency", "2ms", "--save",
        "--save-delay", ",".join(DELAYS), "--repeats", "1", "--warmup", "0",
        "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return proc, folder, bench.load(folder)


def _delays_in(text: str) -> list[str]:
    return re.findall(r"save\\?_delay=(\d+(?:\.\d+)?ms)", text)


NUMERIC = ["0.5ms", "1ms", "2ms", "10ms", "20ms"]


def test_summary_table_lists_a_sweep_in_numeric_order(swept):
    proc, _, run = swept
    assert _delays_in(" ".join(run.summary["workload"])) == NUMERIC
    # the table the CLI prints: one block per workload, in the same order
    assert _delays_in(proc.stdout.split("workload:", 1)[1]) == NUMERIC


def test_charts_and_report_list_a_sweep_in_numeric_order(swept):
    _, folder, run = swept
    assert _delays_in(" ".join(w.label for w in workloads(run))) == NUMERIC
    md = (folder / "report.md").read_text()
    table_order = list(dict.fromkeys(_delays_in(md)))
    assert table_order == NUMERIC


def test_a_folder_with_a_summary_in_text_order_is_drawn_in_numeric_order(swept):
    _, _, run = swept
    shuffled = run.summary.sort_values("workload").reset_index(drop=True)
    assert _delays_in(" ".join(shuffled["workload"])) != NUMERIC  # text order: 0.5, 10, 1, ...
    old = dataclasses.replace(run, summary=shuffled)
    assert _delays_in(" ".join(w.label for w in workloads(old))) == NUMERIC


def test_progress_line_and_trials_table_give_one_efficiency(swept):
    # with slow writes the ideal is set by the writes (blocking), not by the requests: the
    # line once divided the requests' ideal alone and printed 0.09 for a table's 0.94
    proc, _, run = swept
    lines = re.findall(
        r"\] asyncio (N=\S+ .*?): wall ([\d.]+) s, efficiency ([\d.]+);", proc.stderr
    )
    assert len(lines) == len(DELAYS)
    t = run.trials.set_index("workload")
    assert (t["ideal_bound"] != "io").any()
    for label, wall, eff in lines:
        row = t.loc[label]
        assert float(wall) == pytest.approx(row["wall_s"], abs=6e-4)
        assert float(eff) == pytest.approx(round(row["efficiency"], 2), abs=0.005)


def _readings(folder) -> list[str]:
    """The sentences under the report's charts (not the tables, not the metadata)."""
    md = (folder / "report.md").read_text()
    charts = md.split("## Charts", 1)[1].split("## How to reproduce", 1)[0]
    return [ln.strip() for ln in charts.splitlines() if ln.strip() and ln[0] not in "#!|"]


def test_readings_of_one_strategy_say_the_one_fact(swept):
    _, folder, _ = swept
    text = " ".join(_readings(folder))
    assert text
    # nothing to contrast: no range from a strategy to itself, no winner among one
    assert not re.search(r"\((?:with )?asyncio\) to [^.;]*\((?:with )?asyncio\)", text), text
    assert not re.search(r"with asyncio and [^.;]* with asyncio", text), text
    assert not re.search(r"(\d+(?:\.\d+)? (?:µs|ms|s)) to \1(?![\d.])", text), text
    assert "fastest" not in text and "across strategies" not in text, text


def test_every_percentage_in_the_readings_is_in_range(swept):
    _, folder, _ = swept
    for line in _readings(folder):
        for pct in re.findall(r"(\d+(?:\.\d+)?)%", line):
            assert 0 <= float(pct) <= 100, line


SPIN = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass\n"


def test_the_busy_machine_warning_says_whose_load_it_is(tmp_path):
    """Another program spinning on a CPU is named as other programs; the run's own trials
    and flag server are counted as flagbench's, however much CPU they take."""
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        proc = run_flagbench(
            "run", "threadpool", "-n", "12", "-m", "4", "--latency", "0",
            "--cpu-work", "python:15ms", "--repeats", "2", "--warmup", "0",
            "--no-report", "--out", str(tmp_path),
        )  # fmt: skip
    finally:
        spinner.kill()
        spinner.wait()
    assert proc.returncode == 0, proc.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    run = bench.load(folder)
    use = run.meta["cpu_during_run"]
    t = run.trials
    trials_cpu = float((t["cpu_user_s"] + t["cpu_sys_s"]).sum() + t["server_cpu_s"].sum())
    # every trial's CPU and the server's are flagbench's own, not "other programs"
    assert use["flagbench_cpus"] * use["wall_s"] >= 0.9 * trials_cpu
    assert use["others_cpus"] > 0.2  # the spinner ran beside it, on a CPU of its own
    if use["others_cpus"] >= 0.25 * use["cpus"]:
        line = f"other programs kept {use['others_cpus']:.1f} of the {use['cpus']} CPUs busy"
        assert line in proc.stderr, proc.stderr
    assert "busy at the end of the run" not in proc.stderr


ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    proc = flagbench("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"flagbench {version('flagbench')}"


def _block(text: str, after: str, lang: str) -> str:
    rest = text.split(after, 1)[1]
    return rest.split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def test_readme_pytest_snippet_runs_as_written_in_a_clone(tmp_path):
    """The README's test file and its two commands, in a folder holding the project's own
    pytest settings (pyproject.toml) as a clone's top level does: the test passes, is timed
    and its JSON is written, and flagbench turns the JSON into a run folder."""
    readme = (ROOT / "README.md").read_text()
    section = "## Benchmark your own strategy in pytest"
    quick = _block(readme, "## Quick start", "bash")
    venv_line = next(ln for ln in quick.splitlines() if "pytest" in ln)
    extra = re.search(r"-e '\.\[(\w+)\]'", venv_line).group(1)
    pyproject = (ROOT / "pyproject.toml").read_text()
    extras = re.search(rf"^{extra} = \[(.*?)^\]", pyproject, re.S | re.M).group(1)
    assert '"pytest>=' in extras and '"pytest-benchmark>=' in extras  # the venv has them
    assert "Quick start's second" in readme.split(section, 1)[1][:600]

    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "test_fetch.py").write_text(_block(readme, section, "python"))
    commands = _block(readme.split(section, 1)[1], "--benchmark-json FILE", "bash")
    env = {**without_xdist(), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for line in commands.splitlines():
        argv = line.split("#", 1)[0].split()
        argv = [sys.executable if a == ".venv/bin/python" else a for a in argv]
        argv = [
            str(Path(sys.executable).parent / "flagbench") if a == ".venv/bin/flagbench" else a
            for a in argv
        ]
        proc = subprocess.run(
            argv, cwd=tmp_path, capture_output=True, text=True, timeout=240, env=env
        )
        assert proc.returncode == 0, line + "\n" + proc.stdout + proc.stderr
    data = json.loads((tmp_path / "before.json").read_text())
    (bm,) = data["benchmarks"]
    assert bm["stats"]["rounds"] >= 2 and bm["extra_info"]["flagbench"]["counts"]["ok"] == 20
    (folder,) = [p for p in (tmp_path / "results").iterdir() if p.is_dir()]
    assert (folder / "report.html").exists()


def test_the_wall_chart_fits_one_screen(swept):
    from bench.present.charts.summary import fig_wall

    _, _, run = swept
    fig = fig_wall(run)
    assert len(data_workloads(run)) == 5
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) <= 4 and fig.get_size_inches()[1] <= 12
    assert "(4 of 5 workloads)" in fig._suptitle.get_text()


def _estimated_s(stdout_or_err: str) -> float:
    m = re.findall(r"estimated (?:(\d+) min )?(\d+) s", stdout_or_err)
    mi, s = m[-1]
    return 60 * int(mi or 0) + int(s)


def test_the_estimate_learns_what_runs_here_take(tmp_path):
    """A run records what its strategies and the harness took on this machine; the next
    estimate of the same run starts from that, so it lands nearer the time the run took
    than the ideal-based default did (the accuracy itself is scripts/bench_estimate.py's)."""
    timing = tmp_path / "timing.json"
    env = {**os.environ, "FLAGBENCH_TIMING": str(timing)}
    args = ("run", "threadpool", "processpool", "-n", "12", "-m", "4", "--latency", "5ms",
            "--repeats", "2", "--warmup", "0")  # fmt: skip
    first = flagbench(*args, "--dry-run", env=env)
    assert first.returncode == 0 and not timing.exists()
    default = _estimated_s(first.stdout)
    t0 = time.monotonic()
    proc = flagbench(*args, "--out", str(tmp_path / "out"), env=env)
    actual = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    saved = json.loads(timing.read_text())
    assert set(saved["strategies"]) == {"threadpool", "processpool"}
    assert saved["fixed_s"] > 0 and all(v["overhead_s"] > 0 for v in saved["strategies"].values())
    # each configuration's own time, and the run's fixed cost under its name
    assert sorted(saved["configs"]) == [
        "processpool N=12 C=4 latency=5ms codes=pop20",
        "threadpool N=12 C=4 latency=5ms codes=pop20",
    ], saved["configs"]
    assert all(0 < v < actual for v in saved["configs"].values())
    assert list(saved["suites"]) == ["run"] and saved["suites"]["run"] > 0
    learned = _estimated_s(flagbench(*args, "--dry-run", env=env).stdout)
    assert abs(learned - actual) < abs(default - actual) or abs(learned - actual) <= 1, (
        default,
        learned,
        actual,
    )


def test_a_configuration_run_before_is_estimated_at_what_it_took():
    """One slowdown per strategy cannot fit a suite whose configurations differ in kind (a
    loop blocked by slow writes against one that is not): a configuration this machine has
    run is estimated at its own time, the others from their strategy's slowdown."""
    from bench.run import calibration

    rec = calibration.Recorder()
    for elapsed in (2.2, 2.4, 2.3):  # the blocked configuration: ten times its ideal
        rec.add("asyncio", 0.2, elapsed - 0.1, elapsed, "asyncio N=100 save_delay=20ms")
    for elapsed in (0.5, 0.6, 0.55):
        rec.add("asyncio", 0.2, elapsed - 0.1, elapsed, "asyncio N=100 save_delay=0ms")
    cal = rec.calibration(calibration.Calibration(), 10.0, "blocking")
    assert cal.configs == {
        "asyncio N=100 save_delay=20ms": pytest.approx(2.3),
        "asyncio N=100 save_delay=0ms": pytest.approx(0.55),
    }
    assert cal.fixed_for("blocking") == pytest.approx(10.0 - 2.2 - 2.4 - 2.3 - 0.5 - 0.6 - 0.55)
    assert cal.fixed_for("another") == cal.fixed_s
    again = calibration.Recorder()
    again.add("asyncio", 0.2, 2.6, 2.7, "asyncio N=100 save_delay=20ms")
    later = again.calibration(cal, 5.0, "blocking")
    assert later.configs["asyncio N=100 save_delay=20ms"] == pytest.approx(2.5)  # blended
    assert list(later.configs)[-1] == "asyncio N=100 save_delay=20ms"  # the newest last


def test_the_readme_example_is_written_from_the_committed_run():
    """Not edited by hand: the block is what scripts/make_examples.py writes from
    docs/example, and the charts it shows are that run's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_examples", ROOT / "scripts" / "make_examples.py"
    )
    make_examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_examples)
    readme = (ROOT / "README.md").read_text()
    example = bench.load(ROOT / "docs" / "example")
    assert make_examples.readme_block(example) in readme
    for chart in re.findall(r"\(docs/example/charts/([\w.-]+\.png)\)", readme):
        assert (ROOT / "docs" / "example" / "charts" / chart).exists(), chart
    for shot in ("quick.png", "gil.png"):
        assert (ROOT / "docs" / "screenshots" / shot).stat().st_size > 20_000


def test_process_start_up_is_measured_apart_from_the_downloads(tmp_path):
    proc = run_flagbench(
        "run", "threadpool", "processpool", "-n", "12", "-m", "4", "--latency", "5ms",
        "--repeats", "2", "--warmup", "0", "--no-report", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    run = bench.load(folder)
    t = run.trials.astype({"strategy": str}).set_index(["strategy", "repeat"])
    r = run.requests.astype({"strategy": str})
    for _, row in t.iterrows():
        mine = r[(r["trial_id"] == row["trial_id"]) & (r["attempt"] > 0)]
        assert row["pool_startup_s"] == pytest.approx(mine["t_start_s"].min(), abs=1e-9)
        final = mine[mine["final"]]
        assert row["first_response_s"] == pytest.approx(final["t_end_s"].min(), abs=1e-9)
        assert row["first_result_s"] >= row["first_response_s"] >= row["pool_startup_s"] >= 0
        # the book's total keeps every part
        assert row["pool_startup_s"] + row["steady_s"] == pytest.approx(row["wall_s"])
    starts = t["pool_startup_s"].groupby(level=0).median()
    assert starts["processpool"] > starts["threadpool"]  # processes start before a request
    s = run.summary.set_index("strategy")
    assert s.loc["processpool", "pool_startup_median_s"] == pytest.approx(starts["processpool"])
    from bench.present.charts.summary import fig_wall

    fig = fig_wall(run)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts()) if fig.legends else ""
    if starts["processpool"] >= 0.05 * s.loc["processpool", "wall_median_s"]:
        assert "start-up: until the first request" in legend
