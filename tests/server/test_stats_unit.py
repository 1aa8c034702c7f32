"""The counters' arithmetic, without a server (the network tests check the counting)."""

from __future__ import annotations

import pytest

from flags_server import stats as stats_module
from flags_server.stats import Stats


def test_percentiles_are_delivered_values() -> None:
    s = Stats()
    for ms in range(1, 101):
        s.answered(200, ms / 1000)
    lat = s.snapshot()["latency"]
    assert lat["count"] == 100
    assert lat["p50"] == 0.050
    assert lat["p99"] == 0.099
    assert lat["max"] == 0.100
    assert lat["mean"] == pytest.approx(0.0505)


def test_latency_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_module, "MAX_LATENCY_SAMPLES", 1000)
    s = Stats()
    for i in range(20_000):
        s.answered(200, (i % 100) / 1000)
    lat = s.snapshot()["latency"]
    assert len(s.latencies) == 1000
    assert lat["count"] == 20_000
    assert lat["max"] == 0.099
    assert lat["mean"] == pytest.approx(0.0495)
    assert lat["p50"] == pytest.approx(0.050, abs=0.006)  # a uniform sample's median


def test_reset_keeps_the_live_gauges() -> None:
    s = Stats()
    s.enter()
    s.enter()
    s.arrive("flag")
    s.open_connections = 3
    s.reset()
    assert (s.requests, s.inflight, s.peak_inflight, s.open_connections) == (0, 2, 2, 3)
    assert s.generation == 1
