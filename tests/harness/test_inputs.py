"""Bad input is one line on stderr and exit status 2 with nothing written; odd but valid input
(codes after options, a huge sweep) is taken as a user means it."""

from __future__ import annotations

import pytest

from bench import cli
from bench.cli.run import suite_from_run_args
from bench.define.spec import Suite
from bench.define.workload import Workload
from bench.run.checks import check_size


@pytest.mark.parametrize(
    ("content", "expected"),
    [  # the others: test_spec.py, in-process
        (b"[suite]\nname = 'results/../../x'\n", "name = 'results/../../x' is not allowed"),
        (b"[suite]\ndescription = '\xff'\n", "not a TOML file: byte 23 is not UTF-8 text"),
    ],
)
def test_a_bad_suite_file_is_one_line(tmp_path, run_cli, content, expected):
    suite = tmp_path / "s.toml"
    suite.write_bytes(content)
    out = tmp_path / "r"
    proc = run_cli("suite", str(suite), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"flagbench: error: {suite}") and expected in line
    assert not out.exists()


def test_country_codes_may_follow_the_options():
    parser = cli.build_parser()
    args = cli.parse_args(parser, ["run", "asyncio", "--repeats", "1", "BR", "-m", "2", "CN"])
    suite = suite_from_run_args(args)
    assert suite.strategies == ("asyncio",) and suite.repeats == 1
    assert suite.workloads[0].codes == "BR CN" and suite.workloads[0].concurrency == 2


def test_an_unknown_option_after_the_codes_is_still_refused(capsys):
    with pytest.raises(SystemExit) as info:
        cli.parse_args(cli.build_parser(), ["run", "asyncio", "BR", "--colour", "red"])
    assert info.value.code == 2
    assert "unrecognized arguments: --colour (see" in capsys.readouterr().err


def test_a_huge_sweep_is_announced_with_an_estimate():
    sweep = tuple(Workload(concurrency=c, latency="100ms", n_jobs=100) for c in range(1, 201))
    suite = Suite("big", ("threadpool", "asyncio"), sweep, repeats=100, warmup=0)
    warnings: list[str] = []
    check_size(suite.trials(), warnings.append)
    [warning] = warnings
    # 200 values of C, two strategies, 100 repeats: at C = 1, 100 requests one at a time
    assert warning.startswith("40,000 trials to run, taking at least ")
    assert " h " in warning
    assert "--resume" in warning


def test_a_small_run_says_nothing():
    suite = Suite("small", ("asyncio",), (Workload(latency="100ms"),), repeats=5)
    warnings: list[str] = []
    check_size(suite.trials(), warnings.append)
    assert warnings == []
