"""Same seed, same decisions: across servers, request orders and resets."""

from __future__ import annotations

import random

import requests

from flags_server import ServerConfig, running
from flags_server.decide import FaultRates, decide, uniforms
from flags_server.latency import parse_latency

from .conftest import TIMEOUT
from .rawhttp import raw_get

CONFIG = dict(
    seed=11,
    latency="uniform:1ms..20ms",
    error_rate=0.2,
    error_codes=(500, 503),
    reset_rate=0.15,
    truncate_rate=0.15,
)
CODES = ["br", "cn", "us", "in", "ru", "jp", "de", "fr", "gb", "it", "zz"]


def _outcome(url: str) -> tuple:
    """What one request looked like on the wire: status, delay header, or the fault."""
    r = raw_get(url, timeout=TIMEOUT)
    if r.status is None:
        return ("reset",)
    if r.status == 200 and len(r.body) < int(r.headers["content-length"]):
        return ("truncated",)
    return (r.status, r.headers.get("x-flagbench-attempt"), r.headers.get("x-flagbench-delay"))


def _sequence(flags_url: str, order: list[tuple[str, int]]) -> dict[tuple[str, int], tuple]:
    return {(cc, k): _outcome(f"{flags_url}/{cc}/{cc}.gif") for cc, k in order}


def test_two_servers_in_different_orders_agree() -> None:
    order = [(cc, k) for k in range(1, 4) for cc in CODES]  # round by round
    # path by path, codes shuffled: every path still sees its attempts 1, 2, 3 in turn
    shuffled = [(cc, k) for cc in random.Random(3).sample(CODES, len(CODES)) for k in range(1, 4)]
    with running(ServerConfig(**CONFIG)) as a, running(ServerConfig(**CONFIG)) as b:
        first = _sequence(a.flags_url, order)
        second = _sequence(b.flags_url, shuffled)
    assert first == second
    kinds = {o[0] for o in first.values()}
    assert {"reset", "truncated", 200} <= kinds and kinds & {500, 503}


def test_reset_restarts_each_paths_sequence(srv, session: requests.Session) -> None:
    srv.configure(latency="uniform:1ms..30ms", error_rate=0.3)

    def run() -> list[tuple]:
        out = []
        for cc in ("br", "cn", "us"):
            for _ in range(3):
                r = session.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT)
                out.append(
                    (
                        r.status_code,
                        r.headers["X-Flagbench-Attempt"],
                        r.headers["X-Flagbench-Delay"],
                    )
                )
        return out

    first = run()
    srv.reset_stats()
    assert run() == first
    assert [a for _, a, _ in first] == ["1", "2", "3"] * 3


def test_delay_header_matches_the_pure_decision(srv, session: requests.Session) -> None:
    srv.configure(latency="lognormal:median=5ms,sigma=0.5", seed=123)
    model = parse_latency("lognormal:median=5ms,sigma=0.5")
    for cc in ("br", "cn"):
        r = session.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT)
        expected = decide(123, f"{cc}/{cc}.gif", 1, model, FaultRates())
        assert float(r.headers["X-Flagbench-Delay"]) == round(expected.latency_s, 6)


def test_seed_changes_the_decisions() -> None:
    assert uniforms(1, "br/br.gif", 1) != uniforms(2, "br/br.gif", 1)
    assert uniforms(1, "br/br.gif", 1) != uniforms(1, "br/br.gif", 2)
    assert uniforms(1, "br/br.gif", 1) == uniforms(1, "br/br.gif", 1)


def test_fault_shares_follow_the_rates() -> None:
    rates = FaultRates(
        http_error=0.1, timeout=0.05, reset=0.2, truncate=0.0, slow=0.15, error_codes=(500, 429)
    )
    model = parse_latency("10ms")
    n = 20_000
    counts: dict[str | None, int] = {}
    codes: dict[int | None, int] = {}
    for i in range(n):
        d = decide(0, f"p{i}", 1, model, rates)
        counts[d.fault] = counts.get(d.fault, 0) + 1
        codes[d.status] = codes.get(d.status, 0) + 1
        assert d.latency_s == 0.01
    for kind, rate in (
        ("http_error", 0.1),
        ("timeout", 0.05),
        ("reset", 0.2),
        ("slow", 0.15),
        (None, 0.5),
    ):
        assert abs(counts[kind] / n - rate) < 0.015, kind
    assert "truncate" not in counts
    assert abs(codes[500] - codes[429]) < 0.2 * counts["http_error"]


def test_the_draws_of_a_seed_never_change() -> None:
    """Pinned decisions for seed 42: the fault table's order (the draw order) and the
    hashing must stay as they are, or old runs stop being comparable with new ones."""
    rates = FaultRates(
        (500, 503), http_error=0.15, timeout=0.15, reset=0.15, truncate=0.15, slow=0.15
    )
    model = parse_latency("10ms")
    seen = []
    for i in range(24):
        d = decide(42, f"p{i}", 1, model, rates)
        seen.append(f"http_{d.status}" if d.fault == "http_error" else d.fault or "-")
    assert " ".join(seen) == (
        "http_503 slow - - timeout reset - - timeout reset - slow reset reset timeout "
        "http_500 slow - timeout - slow reset - reset"
    )
    cut = decide(42, "p3", 2, model, FaultRates(truncate=1.0))
    assert (cut.fault, round(cut.keep_fraction, 12)) == ("truncate", 0.351382153184)


def test_raising_a_rate_keeps_every_delay() -> None:
    model = parse_latency("uniform:0..1")
    calm = [decide(4, f"p{i}", 1, model, FaultRates()) for i in range(200)]
    rough = [decide(4, f"p{i}", 1, model, FaultRates(reset=0.5)) for i in range(200)]
    assert [d.latency_s for d in calm] == [d.latency_s for d in rough]


def test_the_constant_fast_path_equals_decide() -> None:
    from flags_server.decide import constant_decision

    model = parse_latency("30ms")
    constant = constant_decision(model, FaultRates())
    assert constant is not None
    assert all(decide(9, f"p{i}", 1, model, FaultRates()) == constant for i in range(100))
    assert constant_decision(model, FaultRates(reset=0.1)) is None
    assert constant_decision(parse_latency("uniform:1ms..2ms"), FaultRates()) is None


def test_metadata_has_its_own_latency(srv, session: requests.Session) -> None:
    srv.configure(latency="40ms", metadata_latency="uniform:1ms..5ms")
    flag = session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    meta = session.get(f"{srv.flags_url}/br/metadata.json", timeout=TIMEOUT)
    assert float(flag.headers["X-Flagbench-Delay"]) == 0.04
    assert 0.001 <= float(meta.headers["X-Flagbench-Delay"]) <= 0.005
