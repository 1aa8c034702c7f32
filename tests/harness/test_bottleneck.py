"""The bottleneck rule, one label at a time (rows as the collector builds them)."""

from __future__ import annotations

import pytest

from bench.results.collect import bottleneck

BASE = {
    "status": "ok",
    "wall_s": 1.0,
    "cpu_user_s": 0.1,
    "cpu_sys_s": 0.05,
    "server_cpu_s": 0.1,
    "efficiency": 0.5,
    "heartbeat_p99_s": 0.001,
    "client_processes": 1,
    "client_threads": 1,
    "n_requests": 100,
    "n_costly_failures": 0,
}


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"efficiency": 0.9}, "latency"),
        ({"efficiency": 0.9, "cpu_user_s": 0.95}, "latency"),  # waiting well, whatever the CPU
        # at an ideal set by the CPU work: bound by what holds it to its cores, not inefficient
        ({"efficiency": 0.9, "ideal_bound": "cpu", "cpu_limit": "gil"}, "gil"),
        ({"efficiency": 0.9, "ideal_bound": "cpu", "cpu_limit": "loop"}, "client_cpu"),
        ({"efficiency": 0.9, "ideal_bound": "cpu", "cpu_limit": "cores"}, "client_cpu"),
        ({"efficiency": 0.9, "ideal_bound": "blocking", "cpu_limit": "loop"}, "blocking"),
        ({"efficiency": 0.9, "ideal_bound": "io", "cpu_limit": "gil"}, "latency"),
        ({"efficiency": 0.5, "ideal_bound": "cpu", "cpu_limit": "gil"}, "mixed"),
        ({"server_cpu_s": 0.85}, "server"),
        ({"cpu_user_s": 0.9, "client_threads": 50, "heartbeat_p99_s": 0.02}, "gil"),
        ({"cpu_user_s": 0.9, "client_threads": 1, "heartbeat_p99_s": 0.02}, "client_cpu"),
        ({"cpu_user_s": 0.9, "client_threads": 50, "heartbeat_p99_s": 0.001}, "client_cpu"),
        ({"cpu_user_s": 1.8, "client_processes": 20, "heartbeat_p99_s": 0.02}, "client_cpu"),
        ({"n_costly_failures": 15}, "errors"),
        ({"n_costly_failures": 5}, "mixed"),
        ({}, "mixed"),
        ({"status": "failed"}, "failed"),
    ],
)
def test_labels(changes, label):
    assert bottleneck({**BASE, **changes}) == label
