"""pytest-benchmark suites for the flag server's hot paths (skipped in the normal run).

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_server.py --benchmark-only
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from flags_server import RunningServer, ServerConfig, catalog, running
from flags_server.app import parse_site_path
from flags_server.decide import FaultRates, decide
from flags_server.images import synthetic_images
from flags_server.latency import parse_latency


def test_decide(benchmark) -> None:
    model = parse_latency("lognormal:median=100ms,sigma=0.5")
    rates = FaultRates(http_error=0.1, reset=0.05, truncate=0.05)
    decision = benchmark(decide, 7, "br/br.gif", 3, model, rates)
    # a pure function: the same inputs give the same decision, within the model's range
    assert decision == decide(7, "br/br.gif", 3, model, rates)
    assert 0 < decision.latency_s <= 60.0
    assert decision.fault in (None, "http_error", "reset", "truncate")


def test_parse_site_path(benchmark) -> None:
    assert benchmark(parse_site_path, "/flags/br/br.gif", "/flags") == ("flag", "br")


def test_synthetic_image_set(benchmark) -> None:
    images = benchmark(synthetic_images, catalog.codes())
    assert len(images) == 194


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running(ServerConfig(payload_size=12_288)) as srv:
        yield srv


def test_loopback_round_trip_keep_alive(benchmark, server: RunningServer) -> None:
    """One 12 KB image over a kept-alive connection: client and server cost together."""
    url = f"{server.flags_url}/br/br.gif"
    with requests.Session() as session:
        session.trust_env = False
        response = benchmark(session.get, url, timeout=5)
    assert response.status_code == 200
