"""``flagbench compare RUN --split AXIS``: the arms of one interleaved run, on a real run against
the real server: matched and paired as documented, a real slowdown found, words that agree
with the numbers, and bad values refused in one line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import bench
from bench.present.compare_split import compare_split

from .test_compare import assert_words_match_numbers, rows

SUITE = """
[suite]
name = "split"
strategies = ["threadpool", "asyncio"]
repeats = 4
warmup = 0
seed = 9

[[workloads]]
codes = "all"
n_jobs = 12
concurrency = 6
latency = "40ms"
arm = ["A", "B"]

[[workloads]]
codes = "all"
n_jobs = 12
concurrency = 6
latency = "56ms"
arm = "L"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory, run_cli):
    """One run, three arms interleaved in every repeat: A and B identical, L with every
    request's latency 40% longer (the same draws, 56 ms against 40 ms)."""
    tmp = tmp_path_factory.mktemp("split")
    suite = tmp / "split.toml"
    suite.write_text(SUITE)
    proc = run_cli("suite", str(suite), "--out", str(tmp / "out"), "--no-report")
    assert proc.returncode == 0, proc.stderr
    return next((tmp / "out").iterdir())


def test_the_arms_ran_interleaved_in_every_repeat(run):
    t = bench.load(run).trials
    for _, block in t.groupby("repeat"):
        assert sorted(block["arm"]) == ["A", "A", "B", "B", "L", "L"]


def test_a_slower_arm_is_caught_and_fails_ci(run, run_cli):
    proc = run_cli(
        "compare", str(run), "--split", "arm=A,L", "--ignore", "latency", "--fail-above", "5"
    )
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert "A: arm = A (8 trials)" in out and "B: arm = L (8 trials)" in out
    assert "B differs from A in: latency (A 40ms; B 56ms); arm (A A; B L)" in out
    assert "drift allowance none: A and B ran interleaved in one run and are paired" in out
    assert "B/A the median over the requests of each request's own ratio" in out
    latency = [r for r in rows(out) if r["measure"] == "req ms"]
    assert len(latency) == 2 and all(r["verdict"] == "slower" for r in latency)
    assert all(1.25 < float(r["ratio"]) < 1.45 for r in latency), latency
    assert_words_match_numbers(out)
    last = out.strip().splitlines()[-1]
    assert last.startswith("verdict: FAIL, threshold 5% slower; worst change ")


def test_every_other_arm_is_compared_with_the_first(run, run_cli):
    proc = run_cli("compare", str(run), "--split", "arm", "--ignore", "latency")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "B: arm = B (8 trials)" in out and "C: arm = L (8 trials)" in out
    assert "B against A:" in out and "C against A:" in out
    assert "C differs from A in: latency (A 40ms; C 56ms); arm (A A; C L)" in out
    assert len(rows(out)) == 8  # two strategies, two measures, two arms against A
    assert "no --fail-above given" in out.strip().splitlines()[-1]


def test_pairs_are_the_same_repeat_and_the_same_request(run):
    """The wall rows pair A's and B's trials of one repeat; the request rows compare each
    request's best latency over the repeats with itself in the other arm."""
    r = bench.load(run)
    table = compare_split(r, "arm", ("latency",), ["A", "L"])
    t = r.trials[r.trials["status"] == "ok"]
    for _, row in table.iterrows():
        mine = t[t["strategy"] == row["strategy"]]
        a, b = mine[mine["arm"] == "A"], mine[mine["arm"] == "L"]
        pairs = a[["repeat", "trial_id", "wall_s"]].merge(
            b[["repeat", "trial_id", "wall_s"]], on="repeat"
        )
        assert row["n_a"] == row["n_b"] == len(pairs) == 4
        if row["measure"] == "wall":
            d = np.log(pairs["wall_s_y"]) - np.log(pairs["wall_s_x"])
            assert row["log_ratio"] == pytest.approx(d.mean())
            assert row["se"] == pytest.approx(d.std(ddof=1) / 2)
            assert row["df"] == 3
            continue
        q = r.requests[r.requests["outcome"] == "ok"].groupby("trial_id")
        key = ["cc", "resource", "attempt"]
        ba = (
            pd.concat([q.get_group(i) for i in pairs["trial_id_x"]]).groupby(key)["latency_s"].min()
        )
        bb = (
            pd.concat([q.get_group(i) for i in pairs["trial_id_y"]]).groupby(key)["latency_s"].min()
        )
        common = ba.index.intersection(bb.index)
        assert len(common) == 12  # no faults: every request of the workload, in both arms
        d = np.log(bb[common]) - np.log(ba[common])
        assert row["log_ratio"] == pytest.approx(np.median(d))
        assert row["a_value"] == pytest.approx(math.exp(np.median(np.log(ba[common]))))
        assert row["b_value"] / row["a_value"] == pytest.approx(row["ratio"])
        assert row["se"] > 0 and row["df"] == len(common) - 1


def test_an_a_a_split_speaks_only_from_its_numbers(run, run_cli):
    proc = run_cli("compare", str(run), "--split", "arm=A,B", "--fail-above", "5")
    assert proc.returncode in (0, 1), proc.stderr
    assert "B differs from A in: arm (A A; B B)" in proc.stdout
    assert len(rows(proc.stdout)) == 4
    assert_words_match_numbers(proc.stdout)


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--split", "armm"], "--split armm: not a workload axis (did you mean 'arm'?)"),
        (["--split", "concurrency"], "--split concurrency: "),
        (["--split", "arm"], "no configuration of arm = 'L' matches"),
        (["--split", "arm", "--ignore", "arm"], "an axis is split or ignored"),
        (["--split", "arm", "--ignore", "latency", "--drift", "3"], "--drift with --split arm"),
        (["--split", "arm", "--baseline", "main"], "compares the arms of one run"),
        (["--split", "arm=A,Z"], "has no successful trial with arm = 'Z'"),
        (["--split", "arm=A"], "name two different values or more of arm"),
    ],
    ids=[
        "unknown",
        "one-value",
        "unmatched",
        "split-and-ignored",
        "drift",
        "baseline",
        "absent-value",
        "one-named",
    ],
)
def test_bad_split_values_are_one_line_and_exit_2(run, run_cli, extra, words):
    proc = run_cli("compare", str(run), *extra)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_two_runs_with_split_are_refused(run, run_cli):
    proc = run_cli("compare", str(run), str(run), "--split", "arm")
    assert proc.returncode == 2 and "give exactly one RUN" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_arms_come_from_the_command_line_too(tmp_path, run_cli):
    proc = run_cli(
        "run", "asyncio", "BR", "CN", "--latency", "1ms", "--arm", "x,y", "--repeats", "2",
        "--warmup", "0", "--no-report", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    t = bench.load(next(tmp_path.iterdir())).trials
    assert sorted(t["arm"]) == ["x", "x", "y", "y"]
    bad = run_cli("run", "asyncio", "--arm", "a b", "--no-report", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "--arm a b: must be 1 to 32 letters" in bad.stderr
    assert not (tmp_path / "b").exists()
