"""The ideal time: exact on the server's own draws, equal to the formula for a fixed latency."""

from __future__ import annotations

import math

import pytest

from bench.codes import country_codes
from bench.ideal import request_waits, scheduled_ideal
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
            session.get(f"{srv.flags_url}/{code.lower()}/{code.lower()}.gif", timeout=10)
            elapsed = time.perf_counter() - t0
            assert wait <= elapsed < wait + 0.05, (code, wait, elapsed)
    assert len(set(expected)) == len(codes)  # really random, and really the same draws
