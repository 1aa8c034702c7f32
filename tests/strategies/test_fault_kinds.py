"""Every fault kind of the server's table, end to end: injected, counted, classified.

Parametrized over FAULT_KINDS, so a kind added to the table is tested here without a
new line: a rate of 1 must make the server inject it on every request, count it under
its own /_stats counter, and make every strategy and every client library (requests, httpx
and urllib3; aiohttp and httpx, on asyncio and uvloop) record the error kind the table
declares.
"""

from __future__ import annotations

import pytest

from flags_server import FAULT_KINDS, FaultKind, RunningServer
from flags_server.fault_kinds import CODE_PLACEHOLDER
from strategies.base import Settings
from strategies.classify import ERROR_KINDS, classify

from .helpers import COVERING, check_records, jobs_for, prepare

# The client gives up long before the server's hold ends (the hold then ends with it);
# bodies are paced fast enough that a slow answer still arrives within the timeout.
ENVIRONMENT = {"latency": "0", "timeout_hold_s": 30.0, "bandwidth_bps": 1_000_000}
SETTINGS = Settings(concurrency=2, timeout_s=1.0, retries=0)
BY_KIND = pytest.mark.parametrize("kind", FAULT_KINDS, ids=lambda k: k.name)


@BY_KIND
@pytest.mark.parametrize("variant", COVERING, ids=str)
def test_each_fault_kind_is_injected_counted_and_classified(
    flag_server: RunningServer, run_variant, kind: FaultKind, variant
) -> None:
    cfg = prepare(flag_server, **ENVIRONMENT, **{kind.rate_field: 1.0})
    jobs = jobs_for(flag_server, 2)
    records = run_variant(variant, jobs, SETTINGS)
    counts = check_records(records, jobs)
    expected_outcome = "ok" if kind.client_error_kind is None else "error"
    assert counts[expected_outcome] == len(jobs), records
    for rec in records:
        assert rec.error_kind == kind.error_kind(rec.status), rec
        if kind.client_error_kind and CODE_PLACEHOLDER in kind.client_error_kind:
            assert rec.status in cfg.error_codes, rec
    stats = flag_server.wait_idle()
    # aiohttp may resend an idempotent request after a reset: the server then sees more
    # requests than the client recorded, every one of them with this fault.
    assert stats["faults"][kind.name] == stats["requests"] >= len(jobs)
    others = {k: n for k, n in stats["faults"].items() if k != kind.name}
    assert set(others.values()) == {0}, others


@BY_KIND
def test_declared_client_error_kind_is_one_the_classifier_gives(kind: FaultKind) -> None:
    declared = kind.client_error_kind
    if declared is None:
        assert classify(200) == ("ok", None)
    elif CODE_PLACEHOLDER in declared:
        assert classify(503) == ("error", kind.error_kind(503))
    else:
        assert declared in ERROR_KINDS
