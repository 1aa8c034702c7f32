"""The client library and event loop as axes, end to end through the CLI: the trials and
requests tables say which client and loop ran, and a strategy's start-up is reported apart
from its timed run; an explicit remote cap is recorded in meta.json."""

from __future__ import annotations

import math

import pytest

import bench


@pytest.fixture(scope="module")
def httpx_run(tmp_path_factory, run_cli):
    out = tmp_path_factory.mktemp("r")
    proc = run_cli(
        "run",
        "sequential",
        "asyncio",
        "multiprocess_asyncio",
        "BR",
        "CN",
        "IN",
        "--client",
        "httpx",
        "-m",
        "2",
        "--latency",
        "1ms",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--no-report",
        "--allow-remote",
        "--remote-concurrency-cap",
        "50",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    (folder,) = out.iterdir()
    return bench.load(folder)


def test_trials_say_which_client_and_loop_ran(httpx_run):
    t = httpx_run.trials.set_index(httpx_run.trials["strategy"].astype(str))
    assert set(t["client"]) == {"httpx"} and set(t["client_requested"]) == {"httpx"}
    assert t.loc["sequential", "loop"] == "" and t.loc["asyncio", "loop"] == "asyncio"
    assert t["counts_match"].all()
    assert set(httpx_run.requests["client"].astype(str)) == {"httpx"}


def test_start_up_is_reported_outside_the_timed_run(httpx_run):
    t = httpx_run.trials.set_index(httpx_run.trials["strategy"].astype(str))
    assert math.isnan(t.loc["asyncio", "startup_s"])
    assert t.loc["multiprocess_asyncio", "startup_s"] > 0
    assert t.loc["multiprocess_asyncio", "client_processes"] == 2  # C = 2 over two processes


def test_an_explicit_remote_cap_is_recorded_in_meta(httpx_run):
    assert httpx_run.meta["remote"] == {"allowed": True, "concurrency_cap": 50, "cap_raised": True}
