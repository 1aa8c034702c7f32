"""Against the real server: every request accounted for, the same way the server counts it."""

from __future__ import annotations

from collections import Counter

import pytest

import strategies
from bench import system
from strategies.base import Settings

from ..busy import skip_if_busy
from .helpers import (
    COVERING,
    VARIANTS,
    check_against_server,
    check_records,
    client_view,
    expected_kind,
    jobs_for,
    prepare,
)

FAULT_MIX = {
    "latency": "10ms",
    "error_rate": 0.15,
    "error_codes": [503, 500, 418],
    "timeout_rate": 0.08,
    "timeout_hold_s": 2.0,
    "reset_rate": 0.08,
    "truncate_rate": 0.08,
}


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_fault_mix_counts_add_up_and_match_the_servers(flag_server, run_variant, variant) -> None:
    cfg = prepare(flag_server, **FAULT_MIX)
    jobs = jobs_for(flag_server, 40, 4)
    # a timeout far above a 10 ms answer's time, below the hold: only the held ones time out
    start = system.cpu_sample()
    records = run_variant(variant, jobs, Settings(concurrency=8, timeout_s=1.0))
    late = [r for r in records if r.error_kind == "timeout" and not _held(cfg, r)]
    if late:  # a machine too busy to answer within the second: the counts cannot match
        skip_if_busy(start, f"{len(late)} of 40 answers within the 1 s timeout")

    check_against_server(flag_server, cfg, records, jobs)
    kinds = Counter(r.error_kind for r in records)
    for kind in ("not_found", "timeout", "connection_reset", "truncated"):
        assert kinds[kind] > 0, f"the mix lacks {kind}: {kinds}"
    assert any(k and k.startswith("http_") for k in kinds), kinds
    sent = {r.client for r in records if r.attempt > 0}
    assert sent == {variant.client or strategies.get(variant.name).clients[0]}


def _held(cfg, rec) -> bool:
    """Whether the server drew a hold (a timeout) for this request."""
    return expected_kind(cfg, rec.cc, rec.resource, rec.attempt)[1] == "timeout"


def _expected_final(cfg, cc: str, retries: int, metadata: bool) -> str | None:
    """The error kind the job must end with: each resource is tried until the first
    non-error answer or until the attempts run out; a failed metadata ends the job."""
    kind = None
    for resource in ("metadata", "flag") if metadata else ("flag",):
        for attempt in range(1, retries + 2):
            _, kind = expected_kind(cfg, cc, resource, attempt)
            if kind in (None, "not_found"):
                break
        if kind is not None:
            return kind
    return kind


@pytest.mark.parametrize("variant", COVERING, ids=str)
def test_retries_recover_injected_errors(flag_server, run_variant, variant) -> None:
    mix = {
        "error_rate": 0.3,
        "error_codes": [503, 429, 500],
        "reset_rate": 0.1,
        "truncate_rate": 0.1,
    }
    jobs = jobs_for(flag_server, 24, 2)
    finals = {}
    for retries in (0, 3):
        cfg = prepare(flag_server, **mix)
        settings = Settings(
            concurrency=6, timeout_s=2.0, retries=retries, backoff_s=0.002, metadata=True
        )
        records = run_variant(variant, jobs, settings)
        check_records(records, jobs)
        stats = flag_server.wait_idle()
        assert client_view(records)["requests"] == stats["requests"]
        assert client_view(records)["by_status"] == stats["by_status"]
        for rec in records:
            assert (rec.status, rec.error_kind) == expected_kind(
                cfg, rec.cc, rec.resource, rec.attempt
            )
        final = {r.cc: r.error_kind for r in records if r.final}
        assert final == {j.cc: _expected_final(cfg, j.cc, retries, True) for j in jobs}
        finals[retries] = Counter(final.values())
    errors = {
        r: sum(n for k, n in c.items() if k not in (None, "not_found")) for r, c in finals.items()
    }
    assert errors[0] >= 8, finals  # the faults were there ...
    assert errors[3] < errors[0] / 4, finals  # ... and retrying recovered most of them
    assert finals[3]["not_found"] == finals[0]["not_found"] == 2  # 404 is final, not retried


@pytest.mark.parametrize(
    "variant", [v for v in COVERING if v.name in ("sequential", "asyncio")], ids=str
)
def test_retry_after_of_a_429_is_obeyed(flag_server, run_variant, variant) -> None:
    prepare(flag_server, error_rate=1.0, error_codes=[429], retry_after_s=1)
    jobs = jobs_for(flag_server, 1)
    records = run_variant(variant, jobs, Settings(retries=1, backoff_s=0.0, timeout_s=2.0))
    check_records(records, jobs)
    first, second = records
    assert (first.status, second.status) == (429, 429)
    assert second.t_start - first.t_end >= 1.0  # Retry-After: 1 (backoff alone would be 0)
    assert second.t_queued >= first.t_end + 1.0
