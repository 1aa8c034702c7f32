"""``--resolve PCT``: rounds added to a run with arms until compare --split can detect PCT, on
real runs against the real server: what was added is in the run (and its spec, so a resume
agrees), the cap holds and is said, a resolved run adds nothing, and bad values are one line."""

from __future__ import annotations

import json

import pytest

import bench
from bench import cli
from bench._exceptions import SpecError
from bench.cli import resolve
from bench.define.spec import load_suite
from bench.system import CpuUse

SUITE = """
[suite]
name = "resolve"
strategies = ["sequential", "asyncio"]
repeats = 2
warmup = 0
seed = 5

[[workloads]]
codes = "all"
n_jobs = 8
concurrency = 4
latency = "10ms"
arm = ["A", "B"]
"""


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("resolve") / "resolve.toml"
    path.write_text(SUITE)
    return path


def _run_dir(out):
    (run,) = [p for p in out.iterdir() if p.is_dir() and p.name != "baselines"]
    return run


def test_a_threshold_no_run_can_see_adds_rounds_up_to_the_cap_and_says_so(
    suite_file, tmp_path, run_cli
):
    # 0.01%: far below what a few repeats of real timings can resolve, on any machine
    proc = run_cli(
        "suite", str(suite_file), "--out", str(tmp_path), "--no-report",
        "--resolve", "0.01", "--max-repeats", "4",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run = _run_dir(tmp_path)
    t = bench.load(run).trials
    assert (t["status"] == "ok").all()
    # every configuration of both arms ran 4 repeats, the two added ones interleaved
    repeats = t.groupby(["strategy", "arm"])["repeat"].apply(sorted)
    assert len(repeats) == 4 and all(r == [0, 1, 2, 3] for r in repeats), repeats
    for r in (2, 3):
        assert sorted(t[t["repeat"] == r]["arm"]) == ["A", "A", "B", "B"]
    assert proc.stderr.count("--resolve 0.01%: one more round of ") == 2
    warned = [ln for ln in proc.stderr.splitlines() if "can only detect" in ln]
    assert len(warned) == 2 and all("after 4 repeats (--max-repeats)" in ln for ln in warned)
    # the spec in meta.json holds the rounds, so the run's trial list is what ran
    meta = json.loads((run / "meta.json").read_text())
    assert len(meta["spec"]["extra_rounds"]) == 2 and meta["complete"] is True
    # compare agrees: after 4 repeats, its own warning names the same blind configurations
    out = run_cli("compare", str(run), "--split", "arm", "--fail-above", "0.01").stdout
    assert "configurations cannot detect a 0.01% change" in out
    # resuming the finished run runs nothing more
    again = run_cli("suite", "--resume", str(run), "--no-report")
    assert again.returncode == 0, again.stderr
    assert len(bench.load(run).trials) == len(t)


def test_a_threshold_the_repeats_already_resolve_adds_nothing(suite_file, tmp_path, run_cli):
    proc = run_cli(
        "suite", str(suite_file), "--out", str(tmp_path), "--no-report", "--resolve", "100"
    )
    assert proc.returncode == 0, proc.stderr
    assert "--resolve 100%: every configuration can detect it at 2 repeats" in proc.stderr
    assert "one more round" not in proc.stderr
    assert set(bench.load(_run_dir(tmp_path)).trials["repeat"]) == {0, 1}


def test_the_extra_rounds_are_a_pure_function_of_the_spec(suite_file):
    suite = load_suite(str(suite_file))
    base = suite.trials()
    more = suite.with_round({"asyncio-" + suite.workloads[1].workload_id})
    trials = more.trials()
    assert trials[: len(base)] == base  # what ran keeps its ids
    (added,) = trials[len(base) :]
    assert (added.strategy, added.repeat, added.workload.arm) == ("asyncio", 2, "B")
    assert more.rounds_of(added.config_id) == 3 and more.rounds_of(base[0].config_id) == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--resolve", "0"], "--resolve 0: give a change in percent, more than 0 and at most 100"),
        (["--resolve", "nan"], "--resolve nan: give a change in percent"),
        (["--max-repeats", "9"], "--max-repeats: give --resolve PCT too"),
        (["--resolve", "5", "--max-repeats", "2"], "--max-repeats 2: must be more than"),
        (["--resolve", "5", "--resolve-on", "colour"], "--resolve-on colour: not a workload axis"),
        (["--resolve", "5", "--resolve-on", "latency"], "the suite has one value of latency"),
    ],
)
def test_bad_values_are_refused_before_anything_runs(suite_file, args, words):
    parsed = cli.parse_args(cli.build_parser(), ["suite", str(suite_file), *args])
    with pytest.raises(SpecError) as info:
        resolve.check(parsed, load_suite(str(suite_file)))
    assert words in str(info.value)


def test_a_bad_value_is_one_line_exit_2_and_nothing_written(suite_file, tmp_path, run_cli):
    proc = run_cli("suite", str(suite_file), "--out", str(tmp_path / "o"), "--resolve", "-1")
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line == (
        "flagbench: error: --resolve -1: give a change in percent, more than 0 and at most 100"
    )
    assert not (tmp_path / "o").exists()


def test_a_run_without_arms_is_refused(tmp_path, run_cli):
    proc = run_cli("run", "asyncio", "--resolve", "5", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "needs two arms or more" in proc.stderr and "--arm A,B" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_the_cpu_use_of_a_run_in_parts_is_weighted_by_each_parts_time():
    """A run finished in parts (a resume, or --resolve's rounds) says who kept the CPUs busy
    over all of them, not over its last part only."""
    first = {"wall_s": 30.0, "cpus": 2, "flagbench_cpus": 1.0, "others_cpus": 0.0}
    last = CpuUse(wall_s=10.0, cpus=2, flagbench_cpus=0.6, others_cpus=2.0)
    both = last.after(first)
    assert both.wall_s == 40.0
    assert both.flagbench_cpus == pytest.approx(0.9) and both.others_cpus == pytest.approx(0.5)
    assert last.after(None) is last
