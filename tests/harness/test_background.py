"""The worker's background load: CPU-bound threads and the switch interval, applied for the
timed region, always undone, and recorded."""

from __future__ import annotations

import statistics
import sys
import threading

import pytest

from bench.define.workload import Workload
from bench.results.records import WorkerTask
from bench.run.background import BackgroundThreads, switch_interval
from bench.run.probes import Heartbeat
from bench.run.worker import run_trial
from flags_server import ServerConfig, running
from strategies.base import ProbeSample


def _flagbench_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("flagbench-cpu-")]


def test_background_threads_run_until_the_block_ends_and_are_joined() -> None:
    with BackgroundThreads(2) as bg:
        assert len(_flagbench_threads()) == 2
        threading.Event().wait(0.1)
    assert _flagbench_threads() == []
    assert bg.cpu_s > 0.02  # they did spin


def test_background_threads_are_stopped_when_the_strategy_fails() -> None:
    with pytest.raises(RuntimeError, match="boom"), BackgroundThreads(1):
        raise RuntimeError("boom")
    assert _flagbench_threads() == []


def test_switch_interval_is_applied_for_the_block_and_restored() -> None:
    before = sys.getswitchinterval()
    with switch_interval(0.0005) as applied:
        assert applied == pytest.approx(0.0005) == sys.getswitchinterval()
    assert sys.getswitchinterval() == before
    with switch_interval(None) as applied:  # the workload left it alone
        assert applied == before


def _heartbeat_lags(threads: int, interval_s: float) -> list[float]:
    samples: list[ProbeSample] = []
    with switch_interval(interval_s), Heartbeat(samples, 0.005), BackgroundThreads(threads):
        threading.Event().wait(0.6)
    return [s.lag_s for s in samples]


def test_a_background_cpu_thread_makes_the_heartbeat_late() -> None:
    """The heartbeat needs the GIL to wake; a spinning thread gives it up only when the switch
    interval (20 ms here) runs out, so the heartbeat wakes late, by about that much."""
    quiet = statistics.median(_heartbeat_lags(0, 0.02))
    busy = statistics.median(_heartbeat_lags(1, 0.02))
    assert busy >= 0.004 and busy >= 3 * quiet, (quiet, busy)


@pytest.fixture(scope="module")
def flags_url():
    with running(ServerConfig(latency="5ms")) as srv:
        yield srv.flags_url


def test_the_worker_applies_and_records_them(flags_url) -> None:
    w = Workload(concurrency=4, background_threads=1, switch_interval="2ms", cpu_work="python:1ms")
    result = run_trial(WorkerTask("threadpool", w, ["BR", "CN", "IN", "US"] * 3, flags_url))
    assert result.switch_interval_s == pytest.approx(0.002)
    assert result.background_threads == 1 and result.background_cpu_s > 0
    assert (result.cpu_cores, result.blocking_workers, result.cpu_limit) == (1, 4, "gil")
    assert result.blocking_in_slot and result.start_method is None
    assert sys.getswitchinterval() != 0.002 and _flagbench_threads() == []
