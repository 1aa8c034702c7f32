"""Checks shared by the strategy tests: the record invariants and the server's own view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

import strategies
from flags_server import RATE_FIELDS, RunningServer, ServerConfig
from flags_server.catalog import codes as known_codes
from flags_server.decide import decide
from strategies.base import Job, RequestRecord, count_outcomes, make_jobs

#: The built-in strategies this interpreter can run; one that cannot (``interpreterpool``
#: before 3.13) is tested in another interpreter by its own module (test_interpreterpool.py).
STRATEGIES = tuple(strategies.runnable_names())


class Variant(NamedTuple):
    """A strategy with a client library and an event loop ("": the strategy's default)."""

    name: str
    client: str = ""
    loop: str = ""

    def __str__(self) -> str:
        return "-".join(part for part in self if part)


def _offered(name: str, what: str) -> tuple[str, ...]:
    return tuple(getattr(strategies.get(name), what, ()))


def _covering() -> tuple[Variant, ...]:
    """Every strategy on its defaults, plus, for each other client library (sync or asyncio)
    and event loop, the first strategy that offers it: each implementation once."""
    out = [Variant(name) for name in STRATEGIES]
    seen: set[tuple[str, bool]] = set()
    for name in STRATEGIES:
        loops = _offered(name, "loops")
        for client in _offered(name, "clients")[1:]:
            if (client, bool(loops)) not in seen:
                seen.add((client, bool(loops)))
                out.append(Variant(name, client))
        for loop in loops[1:]:
            if (loop, True) not in seen:
                seen.add((loop, True))
                out.append(Variant(name, "", loop))
    return tuple(out)


#: Every strategy with every client it offers, and each asyncio one on every other loop.
VARIANTS = tuple(
    [Variant(n, c) for n in STRATEGIES for c in _offered(n, "clients") or ("",)]
    + [Variant(n, "", loop) for n in STRATEGIES for loop in _offered(n, "loops")[1:]]
)
#: Each strategy, client library and event loop at least once.
COVERING = _covering()
UNKNOWN = ("QQ", "ZX", "XQ", "QZ", "JJ", "XX")  # two-letter codes that are not countries
DEFAULTS: dict[str, Any] = {
    "latency": "10ms",
    "metadata_latency": None,
    **{field: 0.0 for field in RATE_FIELDS},
    "error_codes": [418],
    "timeout_hold_s": 0.4,
    "bandwidth_bps": 16384,
    "retry_after_s": 0,
    "max_inflight": None,
}


def prepare(srv: RunningServer, **changes: Any) -> ServerConfig:
    """Put the shared server in a known state: defaults plus ``changes``, counters zeroed."""
    srv.configure(**{**DEFAULTS, **changes})
    srv.reset_stats()
    return ServerConfig.from_dict(srv.config())


def jobs_for(srv: RunningServer, n_known: int, n_unknown: int = 0) -> list[Job]:
    codes = list(known_codes()[:n_known]) + list(UNKNOWN[:n_unknown])
    assert len(codes) == n_known + n_unknown
    return make_jobs(srv.flags_url, codes)


def check_records(records: Sequence[RequestRecord], jobs: Sequence[Job]) -> dict[str, int]:
    """The contract's invariants; returns the outcome counts."""
    counts = count_outcomes(records)
    assert sum(counts.values()) == len(jobs), counts
    finals = Counter(r.cc for r in records if r.final)
    assert finals == Counter(j.cc for j in jobs), "exactly one final record per job"
    by_job: dict[str, list[RequestRecord]] = {}
    for rec in records:
        assert rec.t_queued <= rec.t_start <= rec.t_end, rec
        assert rec.outcome in ("ok", "not_found", "error"), rec
        assert (rec.error_kind is None) == (rec.outcome == "ok"), rec
        by_job.setdefault(rec.cc, []).append(rec)
    per_code = Counter(j.cc for j in jobs)
    for cc, recs in by_job.items():
        if per_code[cc] > 1:
            continue  # several jobs share the code: their records interleave
        assert recs[-1].final and not any(r.final for r in recs[:-1]), cc
        for resource in ("metadata", "flag"):
            attempts = [r.attempt for r in recs if r.resource == resource and r.attempt > 0]
            assert attempts == list(range(1, len(attempts) + 1)), (cc, resource, attempts)
    return counts


def expected_kind(
    cfg: ServerConfig, cc: str, resource: str, attempt: int
) -> tuple[int | None, str | None]:
    """(status, error_kind) the client must see for this request, from the server's own pure
    decision function (DESIGN: decide(seed, path, attempt))."""
    lower = cc.lower()
    key = f"{lower}/{lower}.gif" if resource == "flag" else f"{lower}/metadata.json"
    model = cfg.latency_model if resource == "flag" else cfg.metadata_latency_model
    d = decide(cfg.seed, key, attempt, model, cfg.fault_rates)
    known = cc in known_codes()
    if d.fault == "timeout":
        return None, "timeout"
    if d.fault == "reset":
        return None, "connection_reset"
    if d.fault == "http_error":
        return d.status, f"http_{d.status}"
    if not known:
        return 404, "not_found"
    if d.fault == "truncate":
        return 200, "truncated"
    return 200, None


def client_view(records: Sequence[RequestRecord]) -> dict[str, Any]:
    """What the records say, in the server's terms, for comparison with /_stats."""
    real = [r for r in records if r.attempt > 0]
    kinds = Counter(r.error_kind for r in real)
    return {
        "requests": len(real),
        "by_status": dict(Counter(str(r.status) for r in real if r.status is not None)),
        "timeout": kinds["timeout"],
        "reset": kinds["connection_reset"],
        "http_error": sum(n for k, n in kinds.items() if k and k.startswith("http_")),
        "truncated": kinds["truncated"],
    }


def check_against_server(
    srv: RunningServer, cfg: ServerConfig, records: Sequence[RequestRecord], jobs: Sequence[Job]
) -> None:
    """Every job accounted for, and the client's counts equal to the server's own: requests,
    statuses and injected faults, each record what the server's draws decided."""
    check_records(records, jobs)
    stats = srv.wait_idle()
    view = client_view(records)
    assert view["requests"] == stats["requests"] == len(jobs)
    assert view["by_status"] == stats["by_status"]
    for kind in ("timeout", "reset", "http_error"):
        assert view[kind] == stats["faults"][kind], kind
    # The server also counts a truncation drawn for an unknown code, which it answers 404.
    assert 0 < view["truncated"] <= stats["faults"]["truncate"]
    for rec in records:
        assert (rec.status, rec.error_kind) == expected_kind(cfg, rec.cc, rec.resource, rec.attempt)
