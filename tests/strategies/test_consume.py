"""Against the real server: how results reach the caller in each consume mode (map,
as_completed, gather, TaskGroup), and that every mode's counts stay exact, TaskGroup's
cancellations included."""

from __future__ import annotations

import sys

import pytest

import strategies
from flags_server.catalog import codes as known_codes
from flags_server.decide import decide
from strategies._exceptions import UnsupportedSetting
from strategies.base import Settings, make_jobs
from strategies.clients import check
from strategies.consume import ASYNC_CONSUMES, POOL_CONSUMES, resolve

from .helpers import check_records, client_view, prepare

POOLS = ("threadpool", "processpool", "asyncio", "asyncio_executor")
ASYNC = ("asyncio", "asyncio_executor")
MODES = [(name, mode) for name in POOLS for mode in strategies.get(name).consumes]
needs_taskgroup = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in Python 3.11"
)


def _slow_first(cfg, n_fast: int) -> list[str]:
    """A latency schedule from the server's own draws: the slowest flag first, then the
    ``n_fast`` fastest ones."""

    def latency(cc: str) -> float:
        lower = cc.lower()
        return decide(
            cfg.seed, f"{lower}/{lower}.gif", 1, cfg.latency_model, cfg.fault_rates
        ).latency_s

    ranked = sorted(known_codes(), key=latency)
    slow, fast = ranked[-1], ranked[:n_fast]
    assert latency(slow) > 5 * max(latency(cc) for cc in fast)  # the schedule holds
    return [slow, *fast]


def _fails_early(cfg, n: int, attempts: int) -> list[str]:
    """``n`` codes, the fourth of which the server fails on each of its ``attempts``: an
    error that ends a job while most others have yet to run."""

    def fails(cc: str) -> bool:
        path = f"{cc.lower()}/{cc.lower()}.gif"
        return all(
            decide(cfg.seed, path, a, cfg.latency_model, cfg.fault_rates).fault == "http_error"
            for a in range(1, attempts + 1)
        )

    codes = list(known_codes())
    bad = next(cc for cc in codes if fails(cc))
    rest = [cc for cc in codes if cc != bad][: n - 1]
    return [*rest[:3], bad, *rest[3:]]


@pytest.mark.parametrize("name", POOLS)
def test_map_waits_for_the_slow_first_job_while_as_completed_delivers_the_others(
    flag_server, name
) -> None:
    cfg = prepare(flag_server, latency="uniform:5ms..600ms")
    jobs = make_jobs(flag_server.flags_url, _slow_first(cfg, 15))
    by_mode = {}
    for mode in ("map", "as_completed"):
        flag_server.reset_stats()
        records = strategies.get(name).run(jobs, Settings(concurrency=4, consume=mode))
        check_records(records, jobs)
        assert client_view(records)["requests"] == flag_server.wait_idle()["requests"]
        by_mode[mode] = {r.cc: r for r in records if r.final}
    slow = jobs[0].cc
    mapped = by_mode["map"]
    # map: nothing reaches the caller before the first job's response has finished
    assert min(r.t_delivered for r in mapped.values()) >= mapped[slow].t_end
    # ... and results come in the submitted order
    order = sorted(mapped.values(), key=lambda r: (r.t_delivered, [j.cc for j in jobs].index(r.cc)))
    assert [r.cc for r in order] == [j.cc for j in jobs]
    done = by_mode["as_completed"]
    first = done[slow]
    before = [r for cc, r in done.items() if cc != slow and r.t_delivered < first.t_end]
    # as_completed: the other jobs are handed over while the slow one is still on its way
    assert len(before) >= 0.75 * (len(jobs) - 1), (len(before), len(jobs) - 1)
    assert min(done.values(), key=lambda r: r.t_delivered).cc != slow


@pytest.mark.parametrize("name", ASYNC)
def test_gather_hands_every_result_over_after_the_last_response(flag_server, name) -> None:
    cfg = prepare(flag_server, latency="uniform:5ms..200ms")
    jobs = make_jobs(flag_server.flags_url, _slow_first(cfg, 11))
    records = strategies.get(name).run(jobs, Settings(concurrency=4, consume="gather"))
    check_records(records, jobs)
    last_response = max(r.t_end for r in records)
    assert min(r.t_delivered for r in records) >= last_response


@pytest.mark.parametrize(("name", "mode"), MODES, ids=[f"{n}-{m}" for n, m in MODES])
def test_every_mode_accounts_for_every_job_and_request(flag_server, name, mode) -> None:
    if mode == "taskgroup" and sys.version_info < (3, 11):
        pytest.skip("asyncio.TaskGroup is new in Python 3.11")
    cfg = prepare(flag_server, latency="uniform:5ms..60ms", error_rate=0.2)
    jobs = make_jobs(flag_server.flags_url, _fails_early(cfg, 40, attempts=2))
    # a short backoff: the failing job ends while most of the others are still to come
    settings = Settings(concurrency=5, consume=mode, retries=1, backoff_s=0.01)
    records = strategies.get(name).run(jobs, settings)
    counts = check_records(records, jobs)
    stats = flag_server.wait_idle()
    view = client_view(records)
    assert view["requests"] == stats["requests"]
    assert view["by_status"] == stats["by_status"]
    assert view["http_error"] == stats["faults"]["http_error"]
    finals = [r for r in records if r.final]
    cancelled = [r for r in finals if r.error_kind == "group_cancelled"]
    if mode == "taskgroup":
        assert counts["error"] > len(cancelled) > 0  # the first error cancelled the rest
        assert all(r.attempt == 0 and r.t_delivered is None for r in cancelled)
    else:
        assert not cancelled and counts["error"] > 0  # errors counted, every job went on
    delivered = [r for r in finals if r.error_kind != "group_cancelled"]
    assert all(r.t_delivered is not None and r.t_delivered >= r.t_end for r in delivered)


@needs_taskgroup
@pytest.mark.parametrize("name", ASYNC)
def test_taskgroup_lets_cancelled_requests_finish_so_the_server_agrees(flag_server, name) -> None:
    """Jobs in flight at the first error: their requests still count on both sides."""
    cfg = prepare(flag_server, latency="uniform:50ms..300ms", error_rate=0.1)
    jobs = make_jobs(flag_server.flags_url, _fails_early(cfg, 60, attempts=1))
    records = strategies.get(name).run(jobs, Settings(concurrency=20, consume="taskgroup"))
    check_records(records, jobs)
    stats = flag_server.wait_idle()
    assert client_view(records)["requests"] == stats["requests"]
    sent_then_cancelled = {r.cc for r in records if not r.final and r.attempt > 0}
    finals = {r.cc: r for r in records if r.final}
    assert sent_then_cancelled, "no request was in flight when the group cancelled"
    assert all(finals[cc].error_kind == "group_cancelled" for cc in sent_then_cancelled)


def test_consume_modes_are_refused_where_they_mean_nothing() -> None:
    threads = strategies.get("threadpool")
    assert threads.consumes == POOL_CONSUMES
    assert strategies.get("asyncio").consumes == ASYNC_CONSUMES
    with pytest.raises(UnsupportedSetting, match="cannot consume results by 'gather'"):
        check(threads, Settings(consume="gather"))
    with pytest.raises(UnsupportedSetting, match="only its own way"):
        check(strategies.get("sequential"), Settings(consume="map"))
    with pytest.raises(UnsupportedSetting, match="open loop"):
        check(threads, Settings(consume="map", rate=10.0))
    with pytest.raises(UnsupportedSetting, match="cannot await its save delay"):
        check(threads, Settings(save_wait="await", save_delay_s=0.01))
    assert resolve(threads, Settings()) == ""


def test_taskgroup_on_python_3_10_says_what_to_use_instead(monkeypatch) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 10, 14, "final", 0))
    with pytest.raises(UnsupportedSetting) as info:
        resolve(strategies.get("asyncio"), Settings(consume="taskgroup"))
    assert str(info.value) == (
        "consume 'taskgroup' needs asyncio.TaskGroup, new in Python 3.11; this is Python "
        "3.10: use gather or as_completed"
    )
