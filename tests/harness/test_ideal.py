"""The ideal time: exact on the server's own draws, equal to the formula for a fixed latency."""

from __future__ import annotations

import math

import pytest

from bench.define.codes import country_codes
from bench.results.ideal import (
    BlockingIdeal,
    blocking_ideal,
    ideal_parts,
    job_draws,
    request_waits,
    scheduled_ideal,
)
from flags_server import ServerConfig


@pytest.mark.parametrize(("n", "c"), [(100, 20), (194, 20), (7, 3), (5, 50), (60, 1)])
def test_fixed_latency_gives_the_formula(n, c):
    codes = (country_codes() * 2)[:n]
    waits = request_waits(ServerConfig(latency="100ms"), codes, metadata=False, timeout_s=10)
    assert waits == [pytest.approx(0.1)] * n
    assert scheduled_ideal(waits, c) == pytest.approx(math.ceil(n / c) * 0.1)


def test_metadata_adds_its_own_latency_and_a_404_ends_the_job():
    config = ServerConfig(latency="100ms", metadata_latency="30ms")
    waits = request_waits(config, ["BR", "QQ"], metadata=True, timeout_s=10)
    assert waits == [pytest.approx(0.13), pytest.approx(0.03)]  # QQ: metadata 404, no flag


def test_random_latency_ideal_is_above_the_mean_formula():
    config = ServerConfig(latency="uniform:0.5..5", seed=2021)
    codes = country_codes()[:100]
    waits = request_waits(config, codes, metadata=False, timeout_s=10)
    assert min(waits) >= 0.5 and max(waits) <= 5
    # all at once: the slowest request decides; the mean formula says 2.75 s
    assert scheduled_ideal(waits, 100) == pytest.approx(max(waits))
    assert scheduled_ideal(waits, 100) > 4.5


def test_timeouts_cost_the_client_timeout():
    config = ServerConfig(latency="10ms", timeout_rate=1.0, timeout_hold_s=5.0)
    assert request_waits(config, ["BR"], metadata=False, timeout_s=0.5) == [0.5]


def test_waits_are_what_the_real_server_does():
    """Each request takes the delay the ideal expects: the same draws, seen from a client."""
    import time

    import requests

    from flags_server import running

    config = ServerConfig(seed=5, latency="lognormal:median=40ms,sigma=0.8", error_rate=0.2)
    codes = ["BR", "CN", "QQ", "US", "IN", "JP", "ZZ", "DE", "FR", "NG"]
    expected = request_waits(config, codes, metadata=False, timeout_s=10)
    with running(config) as srv, requests.Session() as session:
        session.trust_env = False
        for code, wait in zip(codes, expected, strict=True):
            t0 = time.perf_counter()
            r = session.get(f"{srv.flags_url}/{code.lower()}/{code.lower()}.gif", timeout=10)
            elapsed = time.perf_counter() - t0
            # the server says the delay it applied: exactly the ideal's draw; the client waited
            # at least that long (how much longer depends on how busy the machine is)
            assert float(r.headers["X-Flagbench-Delay"]) == pytest.approx(wait, abs=1e-6)
            assert elapsed >= wait, (code, wait, elapsed)
    assert len(set(expected)) == len(codes)  # really random, and really the same draws


# ---------------------------------------------------------------- with CPU work and slow writes


def _draws(n: int, latency: str = "20ms", codes=None):
    codes = codes or (country_codes() * 2)[:n]
    return job_draws(ServerConfig(latency=latency), codes, metadata=False, timeout_s=10)


def _ideal(draws, c, cpu_s, save_s, spread):
    parts = blocking_ideal(
        draws, c, cpu_s, save_s, spread.cpu_cores, spread.workers, spread.in_slot
    )
    io = scheduled_ideal([d.wait_s for d in draws], c)
    return (
        io,
        parts,
        ideal_parts(io, parts.slots_s, parts.cpu_floor_s, parts.blocking_floor_s, cpu_s, save_s),
    )


def _spread(name, c, kind="python", cores=2, executor="thread"):
    import strategies
    from strategies.base import CpuWork, Settings
    from strategies.spread import spread_of

    settings = Settings(concurrency=c, cpu_work=CpuWork(kind, 1), executor=executor)
    return spread_of(strategies.get(name), settings, cores)


def test_threads_with_gil_holding_work_are_held_to_one_core():
    """The issue's example: 80 flags, C = 8, 20 ms, python:10ms. No client of threads can
    beat 80 x 10 ms of work on one core; the I/O ideal alone says 0.2 s."""
    io, parts, (ideal, bound) = _ideal(_draws(80), 8, 0.010, 0.0, _spread("threadpool", 8))
    assert io == pytest.approx(0.2)
    assert parts.slots_s == pytest.approx(10 * 0.030)  # each slot: request, then the work
    assert parts.cpu_floor_s == pytest.approx(0.8)
    assert parts.blocking_floor_s == pytest.approx(0.1)
    assert (ideal, bound) == (pytest.approx(0.8), "cpu")


@pytest.mark.parametrize(
    ("name", "kind", "executor", "floor"),
    [
        ("threadpool", "hashlib", "thread", 0.4),  # released GIL: both cores
        ("processpool", "python", "thread", 0.4),  # one interpreter per process
        ("asyncio", "hashlib", "thread", 0.8),  # inline on the loop: one at a time
        ("asyncio_executor", "python", "thread", 0.8),  # executor threads share the GIL
        ("asyncio_executor", "hashlib", "thread", 0.4),
        ("asyncio_executor", "python", "process", 0.4),
    ],
)
def test_cpu_floor_is_the_work_over_the_cores_the_model_can_use(name, kind, executor, floor):
    _, parts, (ideal, bound) = _ideal(
        _draws(80), 8, 0.010, 0.0, _spread(name, 8, kind, 2, executor)
    )
    assert parts.cpu_floor_s == pytest.approx(floor)
    assert (ideal, bound) == (pytest.approx(floor), "cpu")


def test_sequential_does_the_work_and_the_request_in_series():
    io, _, (ideal, bound) = _ideal(_draws(80), 1, 0.010, 0.0, _spread("sequential", 1))
    assert io == pytest.approx(1.6)
    assert (ideal, bound) == (pytest.approx(80 * 0.030), "io")  # waiting is most of it


def test_a_plugin_without_a_spread_gets_the_optimistic_min_of_c_and_cores():
    from strategies.base import Settings
    from strategies.spread import default_spread, spread_of

    assert spread_of(object(), Settings(concurrency=8), 2) == default_spread(
        Settings(concurrency=8), 2
    )
    assert default_spread(Settings(concurrency=8), 2).cpu_cores == 2
    assert default_spread(Settings(concurrency=1), 2).cpu_cores == 1


def test_slow_writes_inline_on_a_loop_add_up():
    """asyncio saving inline: 100 writes of 20 ms, one at a time, whatever C."""
    _, parts, (ideal, bound) = _ideal(_draws(100), 10, 0.0, 0.020, _spread("asyncio", 10))
    assert parts.cpu_floor_s == 0
    assert (ideal, bound) == (pytest.approx(2.0), "blocking")
    _, parts, (ideal, bound) = _ideal(_draws(100), 10, 0.0, 0.020, _spread("asyncio_executor", 10))
    assert (ideal, bound) == (pytest.approx(0.2), "io")  # 10 threads: 100 x 20 ms / 10 = 0.2


def test_jobs_that_fail_do_no_blocking_steps():
    draws = _draws(4, codes=["BR", "QQ", "CN", "ZZ"])  # QQ and ZZ are 404
    assert [d.flag_ok for d in draws] == [True, False, True, False]
    parts = blocking_ideal(draws, 4, 0.010, 0.0, 1, 4, in_slot=False)
    assert parts.cpu_floor_s == pytest.approx(0.020)


def test_without_blocking_steps_the_ideal_is_the_io_ideal():
    io, parts, (ideal, bound) = _ideal(_draws(40), 8, 0.0, 0.0, _spread("threadpool", 8))
    assert parts == BlockingIdeal(None, 0.0, 0.0)
    assert (ideal, bound) == (io, "io")
