"""Open loop: arrivals on schedule, the intended start recorded, the cap's overflow."""

from __future__ import annotations

import numpy as np
import pytest

import strategies
from bench import system
from strategies.arrivals import schedule
from strategies.base import RequestRecord, Settings

from ..busy import skip_if_busy
from .helpers import check_records, jobs_for, prepare

OPEN = ("threadpool", "asyncio", "asyncio_executor")


def _sent(records: list[RequestRecord]) -> list[RequestRecord]:
    return [r for r in records if r.attempt > 0]


def _p99(values: list[float]) -> float:
    return float(np.percentile(values, 99))


def test_constant_schedule_is_evenly_spaced_and_poisson_has_the_rate() -> None:
    assert schedule(5, 10.0) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    poisson = schedule(20_000, 100.0, "poisson")
    assert poisson == schedule(20_000, 100.0, "poisson")  # seeded: the same for everyone
    assert (len(poisson) - 1) / poisson[-1] == pytest.approx(100.0, rel=0.03)


def test_a_ramp_climbs_to_the_rate_then_holds_it() -> None:
    times = schedule(200, 100.0, ramp_s=1.0)  # 50 arrivals in the ramp, then 100 per second
    gaps = np.diff(times)
    assert gaps[0] > 5 * gaps[-1]
    assert np.all(np.diff(gaps[:49]) <= 1e-12)  # ever closer during the ramp
    assert gaps[-100:] == pytest.approx(0.01)
    assert times[50] == pytest.approx(1.0)


@pytest.mark.parametrize("name", OPEN)
def test_under_capacity_corrected_and_uncorrected_agree_at_the_target_rate(
    flag_server, name
) -> None:
    prepare(flag_server, latency="50ms")
    jobs = jobs_for(flag_server, 60)
    settings = Settings(concurrency=20, rate=40.0, timeout_s=5.0)  # capacity: 400 per second
    start = system.cpu_sample()
    records = strategies.get(name).run(jobs, settings)
    assert check_records(records, jobs)["ok"] == 60
    sent = _sent(records)
    assert all(r.t_intended is not None for r in records)
    corrected = [r.t_end - r.t_intended for r in sent]
    uncorrected = [r.t_end - r.t_start for r in sent]
    starts = sorted(r.t_start for r in sent)
    achieved = (len(starts) - 1) / (starts[-1] - starts[0])
    agree = abs(_p99(corrected) - _p99(uncorrected)) < 0.005
    if not agree or achieved != pytest.approx(40.0, rel=0.02):
        skip_if_busy(start, "sending on schedule (p99s within 5 ms, 40/s within 2%)")
    assert abs(_p99(corrected) - _p99(uncorrected)) < 0.005
    assert achieved == pytest.approx(40.0, rel=0.02)


def _corrected_and_uncorrected_p99(srv, name: str, n: int) -> tuple[float, float]:
    jobs = jobs_for(srv, n)
    settings = Settings(concurrency=2, rate=80.0, timeout_s=10.0)  # capacity: 40 per second
    sent = _sent(strategies.get(name).run(jobs, settings))
    assert len(sent) == n
    return (_p99([r.t_end - r.t_intended for r in sent]), _p99([r.t_end - r.t_start for r in sent]))


@pytest.mark.parametrize("name", ("threadpool", "asyncio"))
def test_over_capacity_the_corrected_p99_grows_with_the_run_the_uncorrected_does_not(
    flag_server, name
) -> None:
    prepare(flag_server, latency="50ms")
    start = system.cpu_sample()
    short = _corrected_and_uncorrected_p99(flag_server, name, 30)
    long = _corrected_and_uncorrected_p99(flag_server, name, 90)
    # queued arrivals wait ever longer: about n/80 s behind by the end of the schedule
    assert long[0] > 2 * short[0]
    assert short[0] > 3 * short[1]
    # while each request's own time stays the server's 50 ms, which CPUs others take stretch
    steady = long[1] < 1.5 * short[1] and long[1] < 0.2
    if not steady:
        skip_if_busy(start, "the uncorrected p99 staying put (within 1.5x, under 200 ms)")
    assert long[1] < 1.5 * short[1] and long[1] < 0.2


@pytest.mark.parametrize("name", ("threadpool", "asyncio"))
def test_overflow_drop_sends_no_more_than_the_cap_allows(flag_server, name) -> None:
    prepare(flag_server, latency="50ms")
    jobs = jobs_for(flag_server, 40)
    settings = Settings(concurrency=2, rate=100.0, overflow="drop", timeout_s=5.0)
    records = strategies.get(name).run(jobs, settings)
    counts = check_records(records, jobs)
    dropped = [r for r in records if r.error_kind == "dropped"]
    assert dropped and all(r.attempt == 0 and r.final for r in dropped)
    assert counts["ok"] + len(dropped) == 40
    stats = flag_server.wait_idle()
    assert stats["requests"] == len(_sent(records))
    assert stats["peak_inflight"] <= 2


@pytest.mark.parametrize(
    "bad",
    [
        {"rate": -1.0},
        {"rate": float("inf")},
        {"arrivals": "burst"},
        {"overflow": "spill"},
        {"ramp_s": -1.0},
    ],
)
def test_open_loop_settings_are_checked(bad) -> None:
    with pytest.raises(ValueError):
        Settings(**bad)


def test_poisson_arrivals_with_a_ramp_run_on_schedule(flag_server) -> None:
    prepare(flag_server, latency="10ms")
    jobs = jobs_for(flag_server, 40)
    settings = Settings(concurrency=10, rate=100.0, arrivals="poisson", ramp_s=0.2)
    records = strategies.get("asyncio").run(jobs, settings)
    assert check_records(records, jobs)["ok"] == 40
    late = [r.t_start - r.t_intended for r in _sent(records)]
    assert max(late) < 0.05  # well under capacity: every arrival starts about on time
