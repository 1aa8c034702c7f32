"""Nothing escapes, nothing hangs: refused connections, Ctrl-C, random fault mixes."""

from __future__ import annotations

import signal
import socket
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies.base import Settings, make_jobs

from .helpers import COVERING, STRATEGIES, Variant, check_records, client_view, jobs_for, prepare


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("variant", COVERING, ids=str)
def test_refused_connections_are_errors_not_exceptions(run_variant, variant) -> None:
    jobs = make_jobs(f"http://127.0.0.1:{_closed_port()}/flags", ["BR", "CN", "IN"])
    records = run_variant(
        variant, jobs, Settings(concurrency=2, timeout_s=2.0, retries=1, backoff_s=0.001)
    )
    assert check_records(records, jobs) == {"ok": 0, "not_found": 0, "error": 3}
    assert {r.error_kind for r in records} == {"connection_refused"}
    assert len(records) == 6  # each job tried twice


@pytest.mark.parametrize("variant", COVERING, ids=str)
def test_a_trickling_body_cannot_outlast_the_timeout(flag_server, run_variant, variant) -> None:
    """At 200 bytes/s a flag takes about a minute; the request still ends at its budget."""
    prepare(flag_server, latency="0", slow_rate=1.0, bandwidth_bps=200)
    jobs = jobs_for(flag_server, 2)
    records = run_variant(variant, jobs, Settings(concurrency=2, timeout_s=0.3))
    check_records(records, jobs)
    assert [(r.status, r.error_kind) for r in records] == [(200, "timeout")] * 2
    assert max(r.t_end - r.t_start for r in records) < 5.0  # 0.3 s budget, not 60 s
    assert all(0 < r.nbytes < 2000 for r in records)  # part of the body had arrived


@pytest.mark.parametrize("name", STRATEGIES)
def test_ctrl_c_stops_promptly_and_returns_what_finished(flag_server, run_variant, name) -> None:
    """SIGINT after the first finished job: the run returns, jobs that never ran are
    recorded as cancelled, and the server sees only a fraction of the requests."""
    prepare(flag_server, latency="100ms")
    jobs = jobs_for(flag_server, 60)
    interrupted: list[bool] = []

    def progress(record) -> None:
        if not interrupted:
            interrupted.append(True)
            signal.raise_signal(signal.SIGINT)

    records = run_variant(
        Variant(name), jobs, Settings(concurrency=4, timeout_s=5.0), progress=progress
    )
    assert interrupted
    counts = check_records(records, jobs)
    finals = Counter(r.error_kind for r in records if r.final)
    assert counts["ok"] >= 1
    assert finals["cancelled"] >= 40, finals
    assert all(r.attempt == 0 and r.status is None for r in records if r.error_kind == "cancelled")
    assert flag_server.wait_idle()["requests"] <= 20


rates = st.sampled_from([0.0, 0.05, 0.15])


# run_variant only builds settings: sharing it between examples is harmless
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(STRATEGIES),
    concurrency=st.integers(1, 12),
    error=rates,
    timeout=rates,
    reset=rates,
    truncate=rates,
    retries=st.integers(0, 1),
    metadata=st.booleans(),
)
def test_accounting_holds_for_any_fault_mix(
    flag_server, run_variant, name, concurrency, error, timeout, reset, truncate, retries, metadata
) -> None:
    prepare(
        flag_server,
        latency="0",
        error_rate=error,
        error_codes=[500, 503],
        timeout_rate=timeout,
        timeout_hold_s=0.6,
        reset_rate=reset,
        truncate_rate=truncate,
    )
    jobs = jobs_for(flag_server, 12, 2)
    # 0.3 s: far above a loopback answer even on a loaded machine, below the server's hold
    run_settings = Settings(
        concurrency=concurrency, timeout_s=0.3, retries=retries, backoff_s=0.001, metadata=metadata
    )
    records = run_variant(Variant(name), jobs, run_settings)
    check_records(records, jobs)
    stats = flag_server.wait_idle()
    view = client_view(records)
    assert view["requests"] == stats["requests"]
    assert view["by_status"] == stats["by_status"]
    for kind in ("timeout", "reset", "http_error"):
        assert view[kind] == stats["faults"][kind], kind


# dask's workers are processes of their own, which a monkeypatch here cannot reach
@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "dask"])
def test_a_bug_in_a_job_is_recorded_not_raised(flag_server, name: str, monkeypatch) -> None:
    """If post-processing blew up with an unexpected exception, each job still ends in one
    final record (``internal_error``) and run() returns normally."""
    import strategies._jobs

    def boom(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(strategies._jobs, "post_process", boom)
    prepare(flag_server, latency="0")
    jobs = jobs_for(flag_server, 6)
    # processes of processpool and multiprocess_asyncio: forked, they inherit the patch
    run_settings = Settings(concurrency=2, start_method="fork")
    records = strategies.get(name).run(jobs, run_settings)
    assert check_records(records, jobs) == {"ok": 0, "not_found": 0, "error": 6}
    assert Counter(r.error_kind for r in records if r.final) == {"internal_error": 6}
    assert flag_server.wait_idle()["requests"] == 6


def test_a_dead_pool_process_loses_no_job(flag_server, monkeypatch) -> None:
    """A worker process that dies (OOM killer, segfault) breaks the pool; its jobs and the
    queued ones end as ``worker_lost`` and run() still returns every job."""
    import os

    import strategies._jobs

    monkeypatch.setattr(strategies._jobs, "post_process", lambda *args: os._exit(3))
    prepare(flag_server, latency="0")
    jobs = jobs_for(flag_server, 8)
    records = strategies.get("processpool").run(jobs, Settings(concurrency=2, start_method="fork"))
    assert check_records(records, jobs) == {"ok": 0, "not_found": 0, "error": 8}
    assert Counter(r.error_kind for r in records if r.final) == {"worker_lost": 8}
