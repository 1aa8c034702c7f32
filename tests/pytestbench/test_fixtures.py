"""The pytest plugin's fixtures and marker, seen from inside a test run (pytester)."""

from __future__ import annotations

from .helpers import benchmarks_json

pytest_plugins = ["pytester"]


def test_marker_configures_the_server_per_test(inner):
    """Closest marker wins, defaults come back, a bad marker fails in one line; with
    --strict-markers, so the marker is registered too."""
    result = inner(
        """
import pytest

@pytest.mark.flagbench(latency="5ms", error_rate=0.2)
class TestMarked:
    @pytest.mark.flagbench(latency="20ms")
    def test_closest_marker_wins(self, flagbench_server):
        config = flagbench_server.config()
        assert (config["latency"], config["error_rate"]) == ("20ms", 0.2)

    def test_class_marker(self, flagbench_server):
        assert flagbench_server.config()["latency"] == "5ms"
        flagbench_server.configure(timeout_rate=0.5)   # a test may change more by hand

def test_defaults_come_back(flagbench_server):
    config = flagbench_server.config()
    assert (config["latency"], config["error_rate"], config["timeout_rate"]) == ("0", 0.0, 0.0)
    assert flagbench_server.stats()["requests"] == 0

@pytest.mark.flagbench(latency="fast")
def test_bad_latency(flagbench_server):
    pass

@pytest.mark.flagbench("20ms")
def test_positional(flagbench_server):
    pass
""",
        "--strict-markers",
    )
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.flagbench(latency='fast'): *latency*",
            "*@pytest.mark.flagbench('20ms',): give the server settings by name*",
        ],
        consecutive=False,
    )


def test_builtin_object_class_function_and_coroutine(inner, pytester):
    """Every kind of target, timed, with the stats reset before each round."""
    result = inner(
        """
import asyncio

import aiohttp
import pytest
import requests

import strategies
from strategies.sequential import SequentialStrategy

COUNTS = {"ok": 12, "not_found": 0, "error": 0}

def test_name(flagbench_bench):
    assert flagbench_bench("asyncio", n_jobs=12, concurrency=4, rounds=3).counts == COUNTS

def test_object(flagbench_bench):
    result = flagbench_bench(strategies.get("threadpool"), n_jobs=12, concurrency=4, rounds=3)
    assert result.strategy == "threadpool" and result.counts == COUNTS

def test_class(flagbench_bench):
    result = flagbench_bench(SequentialStrategy, n_jobs=12, rounds=2)
    assert result.concurrency_effective == 1 and result.peak_inflight == 1

@pytest.mark.flagbench(latency="5ms")
def test_function_sees_fresh_counters_each_round(flagbench_bench, flagbench_server):
    seen = []

    def fetch_all(jobs, settings):
        seen.append(flagbench_server.stats()["requests"])
        with requests.Session() as session:
            return [session.get(job.flag_url).status_code for job in jobs]

    result = flagbench_bench(fetch_all, n_jobs=12, rounds=4, warmup_rounds=2)
    assert seen == [0] * 6 and len(result.rounds) == 4
    assert result.counts == COUNTS and result.kind == "function"

async def fetch_async(jobs, settings):
    async with aiohttp.ClientSession() as session:
        async def one(job):
            async with session.get(job.flag_url) as response:
                await response.read()
                return response.status
        return await asyncio.gather(*(one(job) for job in jobs))

def test_coroutine(flagbench_bench):
    result = flagbench_bench(fetch_async, n_jobs=12, concurrency=12, latency="20ms")
    assert result.kind == "coroutine" and result.counts == COUNTS
    assert result.peak_inflight == 12

@pytest.mark.flagbench(error_rate=0.25)
def test_errors(flagbench_bench):
    flagbench_bench("threadpool", n_jobs=20, concurrency=5, latency="10ms", rounds=3)
""",
        "--benchmark-json",
        "out.json",
    )
    result.assert_outcomes(passed=6)
    found = benchmarks_json(pytester.path / "out.json")
    assert set(found) == {
        "test_name",
        "test_object",
        "test_class",
        "test_errors",
        "test_function_sees_fresh_counters_each_round",
        "test_coroutine",
    }
    assert found["test_function_sees_fresh_counters_each_round"]["stats"]["rounds"] == 4
    assert found["test_coroutine"]["group"] == "N=12 C=12 latency=20ms"
    check_extra_info(found["test_errors"])


def check_extra_info(bench: dict) -> None:
    """What pytest-benchmark cannot know is in the JSON: counts, ideal, server, CPU, workload."""
    info = bench["extra_info"]["flagbench"]
    assert info["strategy"] == "threadpool" and info["kind"] == "builtin"
    assert info["workload_params"]["error_rate"] == 0.25  # from the marker
    assert info["workload_params"]["latency"] == "10ms"  # from the call
    assert info["workload"] == "N=20 C=5 latency=10ms error_rate=0.25"
    assert info["n_jobs"] == 20 and info["counts"]["error"] > 0
    assert sum(info["counts"].values()) == 20
    assert info["ideal_s"] >= 0.04 and 0 < info["efficiency"] <= 1.02
    assert info["server_peak_inflight"] <= 5 and info["cpu_user_s"] > 0
    assert info["counts_match"] is True
    assert [row["wall_s"] for row in info["trials"]] == bench["stats"]["data"]
    assert [row["repeat"] for row in info["trials"]] == [0, 1, 2]
    assert all(row["server_requests"] == row["n_requests"] for row in info["trials"])


def test_a_lost_request_and_bad_arguments_fail_in_one_line(inner):
    result = inner("""
import strategies

def test_lossy(flagbench_bench):
    asyncio_strategy = strategies.get("asyncio")
    calls = []

    def lossy(jobs, settings):
        calls.append(1)
        records = asyncio_strategy.run(jobs, settings)
        return records[:-1] if len(calls) == 3 else records

    flagbench_bench(lossy, n_jobs=10, rounds=3, warmup_rounds=1)

def test_invented(flagbench_bench):
    def claims_more(jobs, settings):
        import requests
        with requests.Session() as session:
            return [session.get(job.flag_url).status_code for job in jobs[1:]] + [200]

    flagbench_bench(claims_more, n_jobs=10)

def test_unknown_key(flagbench_bench):
    flagbench_bench("asyncio", concurency=5)

def test_unknown_strategy(flagbench_bench):
    flagbench_bench("asyncioo")

def test_not_records(flagbench_bench):
    flagbench_bench(lambda jobs, settings: None, n_jobs=3)

def test_loop_factory_for_sync_code(flagbench_bench):
    import asyncio
    flagbench_bench("sequential", loop_factory=asyncio.new_event_loop)
""")
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines(
        [
            "*flagbench_bench: round 2 of 3: 10 jobs, 9 final records: 1 job(s) without a final "
            "record (*)",
            "*flagbench_bench: warm-up round 1 of 1: the client reports 10 requests, the server "
            "received 9",
            "*flagbench_bench: flagbench_bench(): unknown key 'concurency'; allowed: codes,*",
            "*flagbench_bench: unknown strategy 'asyncioo'*",
            "*flagbench_bench: warm-up round 1 of 1: <lambda> returned None; return its "
            "RequestRecords*",
            "*flagbench_bench: loop_factory is for async code*",
        ],
        consecutive=False,
    )
    assert "Traceback" not in result.stdout.str()


def test_checks_run_under_benchmark_disable(inner):
    """CI runs the bodies once, untimed: a lost job still fails."""
    result = inner(
        """
import strategies

def test_ok(flagbench_bench):
    result = flagbench_bench("sequential", n_jobs=5)
    assert not result.timed and len(result.rounds) == 1 and result.rounds[0].wall_s > 0

def test_lossy(flagbench_bench):
    def lossy(jobs, settings):
        return strategies.get("sequential").run(jobs, settings)[1:]
    flagbench_bench(lossy, n_jobs=5)
""",
        "--benchmark-disable",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the untimed run (--benchmark-disable): 5 jobs, 4 final*"])


def test_skipped_with_benchmark_skip(inner):
    result = inner(
        """
def test_skipped(flagbench_bench):
    raise AssertionError("not run")
""",
        "--benchmark-skip",
    )
    result.assert_outcomes(skipped=1)
