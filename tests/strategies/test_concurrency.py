"""Concurrency means what it says, connections are reused, and each model's own checks."""

from __future__ import annotations

import asyncio
import os

import pytest

import strategies
from strategies.base import ProbeSample, Settings, make_jobs
from strategies.cpu import calibrate
from strategies.processpool import chunk_size

from .helpers import VARIANTS, check_records, jobs_for, prepare

CONCURRENT = [v for v in VARIANTS if v.name != "sequential"]


@pytest.mark.parametrize("variant", CONCURRENT, ids=str)
def test_server_sees_exactly_c_in_flight_over_kept_alive_connections(
    flag_server, run_variant, variant
) -> None:
    prepare(flag_server, latency="200ms")
    jobs = jobs_for(flag_server, 100)
    records = run_variant(variant, jobs, Settings(concurrency=20, timeout_s=5.0))
    assert check_records(records, jobs)["ok"] == 100
    stats = flag_server.wait_idle()
    assert stats["requests"] == 100
    assert stats["peak_inflight"] == 20
    assert stats["connections"] == 20  # keep-alive: one connection per slot, reused 5 times


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.name == "sequential"], ids=str)
def test_sequential_has_one_request_in_flight_on_one_connection(
    flag_server, run_variant, variant
) -> None:
    prepare(flag_server, latency="10ms")
    jobs = jobs_for(flag_server, 60)
    records = run_variant(variant, jobs, Settings(concurrency=20))
    assert check_records(records, jobs)["ok"] == 60
    stats = flag_server.wait_idle()
    assert (stats["requests"], stats["peak_inflight"], stats["connections"]) == (60, 1, 1)


def test_processpool_records_come_from_children_with_the_start_method(flag_server) -> None:
    prepare(flag_server, latency="10ms")
    jobs = jobs_for(flag_server, 30)
    settings = Settings(concurrency=3, start_method="spawn")
    records = strategies.get("processpool").run(jobs, settings)
    check_records(records, jobs)
    pids = {int(r.worker.split("/")[0]) for r in records}
    assert len(pids) == 3 and os.getpid() not in pids
    assert {r.worker.split("/")[1] for r in records} == {"spawn"}
    assert flag_server.wait_idle()["connections"] == 3  # one Session per process


@pytest.mark.parametrize(
    ("n", "c", "size"), [(100, 20, 1), (1000, 100, 2), (100_000, 100, 50), (7, 20, 1), (0, 3, 1)]
)
def test_chunks_divide_each_workers_share(n: int, c: int, size: int) -> None:
    assert chunk_size(n, c) == size


@pytest.mark.parametrize("name", ["asyncio", "asyncio_executor"])
def test_asyncio_keeps_live_tasks_bounded(flag_server, name: str) -> None:
    """2,000 jobs, C = 8: the loop never holds more than 2C job tasks (+ main, + probe)."""
    prepare(flag_server, latency="0")
    jobs = make_jobs(flag_server.flags_url, [j.cc for j in jobs_for(flag_server, 100)] * 20)
    live: list[int] = []
    records = strategies.get(name).run(
        jobs, Settings(concurrency=8), progress=lambda rec: live.append(len(asyncio.all_tasks()))
    )
    assert check_records(records, jobs)["ok"] == 2000
    assert len(live) == 2000  # progress: once per job, on the loop
    assert 8 <= max(live) <= 2 * 8 + 2


def test_loop_lag_shows_blocking_work_on_the_loop_and_not_in_the_executor(flag_server) -> None:
    """40 ms of hashing per flag: on the loop it stalls the loop-lag probe; through
    run_in_executor it runs in threads (hashlib releases the GIL) and the loop stays free."""
    prepare(flag_server, latency="10ms")
    jobs = jobs_for(flag_server, 12)
    work = calibrate("hashlib", 40)
    lags: dict[str, list[float]] = {}
    for name in ("asyncio", "asyncio_executor"):
        probes: list[ProbeSample] = []
        settings = Settings(concurrency=2, cpu_work=work, probe_interval_s=0.005)
        records = strategies.get(name).run(jobs, settings, probes=probes)
        assert check_records(records, jobs)["ok"] == 12
        lags[name] = sorted(p.lag_s for p in probes if p.kind == "loop_lag")
        assert lags[name], name
    blocked, offloaded = lags["asyncio"], lags["asyncio_executor"]
    assert max(blocked) >= 0.02  # a 40 ms call on the loop: the 5 ms probe wakes >= 35 ms late
    assert max(blocked) > max(offloaded)
    assert _p90(blocked) > _p90(offloaded)
    assert sum(blocked) > sum(offloaded)
    assert len(offloaded) > len(blocked)  # the free loop woke the probe more often


def _p90(values: list[float]) -> float:
    return values[int(0.9 * (len(values) - 1))]
