"""Suites: validation that names the file and key, sweeps, and the interleaved trial order."""

from __future__ import annotations

from collections import Counter

import pytest

from bench._exceptions import SpecError
from bench.define.spec import builtin_suites, load_suite
from bench.define.values import parse_cpu_work


def write(tmp_path, text: str):
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return str(path)


def test_builtin_suites_load_and_are_listed():
    names = builtin_suites()
    assert {"quick", "book", "scaling", "errors", "gil", "blocking", "switch-interval"} <= set(
        names
    )
    for name in names:
        suite = load_suite(name)
        assert suite.trials(), name


def test_sweep_axes_multiply_and_order_is_interleaved(tmp_path):
    suite = load_suite(
        write(
            tmp_path,
            """
[suite]
strategies = ["sequential", "asyncio"]
repeats = 3
warmup = 1
seed = 5
[[workloads]]
concurrency = [1, 10]
latency = ["10ms", "20ms"]
""",
        )
    )
    assert len(suite.workloads) == 4
    trials = suite.trials()
    configs = {t.config_id for t in trials if not t.warmup}
    # sequential cannot observe C: it runs once per latency, not once per (latency, C)
    assert len(configs) == 6
    assert {t.workload.concurrency for t in trials if t.strategy == "sequential"} == {1}
    assert len(trials) == 6 * 4  # 1 warm-up round + 3 repeats
    assert all(t.warmup for t in trials[:6]) and not any(t.warmup for t in trials[6:])
    # warm-ups are cut to about 2 s of waiting, never below one round of C requests
    for t in trials[:6]:
        c = 1 if t.strategy == "sequential" else t.workload.concurrency
        rounds = -(-t.workload.jobs_count() // c)
        latency = float(t.workload.latency[:-2]) / 1000
        assert rounds == 1 or rounds * latency <= 2.0 + 1e-9
    # every repeat is one full round of every configuration ...
    for r in range(3):
        assert Counter(t.config_id for t in trials if t.repeat == r) == Counter(configs)
    # ... in a shuffled order that the seed fixes
    rounds = [[t.config_id for t in trials if t.repeat == r] for r in range(3)]
    assert len({tuple(r) for r in rounds}) > 1
    assert [t.config_id for t in load_suite(suite.source).trials()] == [t.config_id for t in trials]


def test_per_workload_strategies(tmp_path):
    suite = load_suite(
        write(
            tmp_path,
            """
[suite]
strategies = ["sequential", "asyncio"]
repeats = 1
warmup = 0
[[workloads]]
concurrency = 5
[[workloads]]
concurrency = 500
strategies = ["asyncio"]
""",
        )
    )
    pairs = {(t.strategy, t.workload.concurrency) for t in suite.trials()}
    assert pairs == {("sequential", 5), ("asyncio", 5), ("asyncio", 500)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[suite]\nrepeat = 3\n", "unknown key 'repeat'"),
        ("[suite]\nstrategies = ['warp']\n", "unknown strategy 'warp'; allowed: "),
        ("[[workloads]]\nconcurency = 3\n", "unknown key 'concurency'"),
        ("[[workloads]]\nconcurrency = 0\n", "concurrency = 0: must be between 1 and 10000"),
        ("[[workloads]]\nconcurrency = true\n", "concurrency = True must be an integer"),
        ("[[workloads]]\nlatency = 'fast'\n", "latency = 'fast'"),
        ("[[workloads]]\nerror_rate = 1.5\n", "error_rate = 1.5: must be between 0 and 1"),
        (
            "[[workloads]]\nerror_rate = 0.6\nreset_rate = 0.6\n",
            "add up to 1.2; allowed: a sum of at most 1",
        ),
        ("[[workloads]]\ncodes = 'B4'\n", "'B4' is not a country code"),
        ("[[workloads]]\ncpu_work = 'rust:1ms'\n", "expected KIND:Nms"),
        ("[[workloads]]\npython = '2.1'\n", "python = '2.1'"),
        ("[server]\nloop = 'fast'\n", "[server]: loop='fast'"),
        (
            "[[workloads]]\nsave = true\nsave_delay = '5'\n",
            "save_delay = '5': expected a duration with its unit (us, ms or s)",
        ),
        (
            "[[workloads]]\nsave = true\nsave_delay = '-1ms'\n",
            "save_delay = '-1ms': must be at least 0ms and at most 10000ms",
        ),
        (
            "[[workloads]]\nsave_delay = '5ms'\n",
            "save_delay = '5ms' delays each file write, but files are not saved; allowed with "
            "save = true only",
        ),
        (
            "[[workloads]]\nswitch_interval = '0ms'\n",
            "switch_interval = '0ms': must be more than 0ms and at most 1000ms",
        ),
        ("[[workloads]]\nswitch_interval = 5\n", "switch_interval = 5 must be a string"),
        (
            "[[workloads]]\nbackground_threads = 100\n",
            "background_threads = 100: must be between 0 and 64",
        ),
        ("[[workloads]]\nexecutor = 'fork'\n", "executor = 'fork': allowed: thread, process"),
        ("[suite\n", "not valid TOML"),
        ("[suite]\nname = 'a/b'\n", "name = 'a/b' is not allowed; it names the run folder"),
        (
            f"[suite]\nname = '{'x' * 300}'\n",
            "is not allowed; it names the run folder: use 1 to 64",
        ),
        ("[suite]\nname = '..'\n", "name = '..' is not allowed"),
        ("", "the suite file is empty"),
        ("# nothing but a comment\n", "the suite file is empty"),
    ],
)
def test_bad_values_name_the_file_key_and_allowed(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_suite(path)
    message = str(info.value)
    assert path in message
    assert expected in message
    assert "\n" not in message


def test_unknown_suite_lists_the_builtins():
    with pytest.raises(SpecError, match=r"built-in suites: .*quick"):
        load_suite("nope")


def test_durations_have_one_spelling():
    """The same duration written two ways is one workload (one id, one label)."""
    from bench.define.values import Duration, parse_duration
    from bench.define.workload import Workload

    assert parse_duration("5ms") == pytest.approx(0.005)
    assert parse_duration("500us") == pytest.approx(0.0005)
    assert parse_duration("0.02s") == pytest.approx(0.02)
    assert [Duration(d) for d in ("0.005s", "5ms", "5000us", "0s", "1s")] == [
        "5ms",
        "5ms",
        "5ms",
        "0ms",
        "1000ms",
    ]
    a = Workload.from_mapping({"switch_interval": "0.005s"})
    b = Workload.from_mapping({"switch_interval": "5ms"})
    assert a == b and a.switch_interval == "5ms" and "switch_interval=5ms" in a.label
    assert Workload.from_mapping({"save_delay": "0s"}) == Workload()  # the default, unlabelled


def test_cpu_work_grammar():
    assert parse_cpu_work("python:2ms") == ("python", 2.0)
    assert parse_cpu_work("hashlib:0.5ms") == ("hashlib", 0.5)
    for bad in ("python", "python:2", "python:-1ms", "java:1ms", "python:xms"):
        with pytest.raises(ValueError):
            parse_cpu_work(bad)


def test_a_suite_file_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes("[suite]\ndescription = 'caf\u00e9'\n".encode("latin-1"))
    with pytest.raises(SpecError) as info:
        load_suite(str(path))
    assert str(info.value) == f"{path}: not a TOML file: byte 26 is not UTF-8 text"


def test_a_file_name_that_cannot_name_a_folder_is_made_one(tmp_path):
    path = tmp_path / "my suite (v2).toml"
    path.write_text("[suite]\nstrategies = ['asyncio']\n")
    assert load_suite(str(path)).name == "my-suite-v2"
