"""Each injected fault, as a real client sees it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import aiohttp
import pytest
import requests

from flags_server import RunningServer, ServerConfig, running

from .conftest import TIMEOUT, burst
from .rawhttp import raw_get


def test_http_errors_use_the_configured_codes(srv, session: requests.Session) -> None:
    srv.configure(error_rate=1.0, error_codes=[500, 503, 418, 429], retry_after_s=3)
    seen: dict[int, int] = {}
    for cc in ("br", "cn", "us", "in", "ru", "jp", "de", "fr", "gb", "it", "es", "mx"):
        r = session.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT)
        seen[r.status_code] = seen.get(r.status_code, 0) + 1
        if r.status_code in (429, 503):
            assert r.headers["Retry-After"] == "3"
        else:
            assert "Retry-After" not in r.headers
    assert set(seen) <= {500, 503, 418, 429}
    assert len(seen) >= 3
    stats = srv.stats()
    assert stats["faults"]["http_error"] == 12
    assert {int(k): v for k, v in stats["by_status"].items()} == seen


def test_default_error_code_is_the_books_teapot(srv, session: requests.Session) -> None:
    srv.configure(error_rate=1.0)
    assert session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT).status_code == 418


def test_reset_sends_an_rst_and_no_response(srv) -> None:
    srv.configure(reset_rate=1.0)
    result = raw_get(f"{srv.flags_url}/br/br.gif")
    assert result.status is None
    assert result.error == "reset"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{srv.flags_url}/cn/cn.gif", timeout=TIMEOUT)
    stats = srv.stats()
    assert stats["faults"]["reset"] == 2
    assert stats["by_status"] == {}


def test_truncated_body_is_shorter_than_content_length(srv, session: requests.Session) -> None:
    srv.configure(truncate_rate=1.0)
    result = raw_get(f"{srv.flags_url}/us/us.gif")
    assert result.status == 200
    declared = int(result.headers["content-length"])
    assert 0 < len(result.body) < declared
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    assert srv.stats()["faults"]["truncate"] == 2


def test_timeout_holds_past_the_client_timeout(srv, session: requests.Session) -> None:
    srv.configure(timeout_rate=1.0, timeout_hold_s=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(f"{srv.flags_url}/br/br.gif", timeout=0.2)
    # counted at once; the client closed its connection, so the hold ended with it
    held = srv.wait_idle()
    assert (held["requests"], held["faults"]["timeout"], held["inflight"]) == (1, 1, 0)
    # the hold is bounded: a patient client gets no answer, and the connection ends
    result = raw_get(f"{srv.flags_url}/cn/cn.gif", timeout=TIMEOUT)
    assert result.status is None
    stats = srv.stats()
    assert stats["faults"]["timeout"] == 2
    assert stats["by_status"] == {}


def test_slow_body_arrives_whole_at_the_capped_rate(srv, session: requests.Session) -> None:
    srv.configure(slow_rate=1.0, bandwidth_bps=20_000, payload_size=4_000)
    started = time.perf_counter()
    r = session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    assert r.status_code == 200
    assert len(r.content) == 4_000
    assert elapsed >= 4_000 / 20_000 * 0.9  # paced: cannot arrive faster than the cap
    assert srv.stats()["faults"]["slow"] == 1


def test_faults_seen_by_an_aiohttp_client(srv) -> None:
    srv.configure(reset_rate=0.25, truncate_rate=0.25, error_rate=0.25, error_codes=[503])

    async def fetch_all() -> dict[str, int]:
        kinds: dict[str, int] = {}
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as s:
            # aiohttp (3.10+) silently resends an idempotent request once after a
            # reset or disconnect, so the server would count more requests than the
            # client saw; aiohttp's own test client switches that off the same way.
            s._retry_connection = False
            for cc in (
                "br",
                "cn",
                "us",
                "in",
                "ru",
                "jp",
                "de",
                "fr",
                "gb",
                "it",
                "es",
                "mx",
                "ar",
                "ca",
                "au",
                "eg",
                "ng",
                "ke",
                "za",
                "tr",
            ):
                try:
                    async with s.get(f"{srv.flags_url}/{cc}/{cc}.gif") as resp:
                        await resp.read()
                        kind = str(resp.status)
                except aiohttp.ClientPayloadError:
                    kind = "truncate"
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    kind = "reset"
                kinds[kind] = kinds.get(kind, 0) + 1
        return kinds

    kinds = asyncio.run(fetch_all())
    stats = srv.stats()
    assert kinds.get("reset", 0) == stats["faults"]["reset"] > 0
    assert kinds.get("truncate", 0) == stats["faults"]["truncate"] > 0
    assert kinds.get("503", 0) == stats["faults"]["http_error"] > 0
    assert kinds.get("200", 0) + kinds.get("truncate", 0) == stats["by_status"]["200"]
    assert sum(kinds.values()) == stats["requests"] == 20


def test_reject_overflow_answers_503(srv) -> None:
    # 300 ms: wide enough that all six requests arrive while the first two are served
    srv.configure(latency="300ms", max_inflight=2, overflow="reject")
    statuses = burst(_six_flags(srv))
    stats = srv.stats()
    assert statuses.count(200) == 2
    assert statuses.count(503) == 4
    assert stats["faults"]["rejected"] == 4
    assert stats["peak_inflight"] == 2


def test_queue_overflow_serves_everyone_in_turn(srv) -> None:
    srv.configure(latency="300ms", max_inflight=2, overflow="queue")
    t0 = time.perf_counter()
    assert burst(_six_flags(srv)) == [200] * 6
    took = time.perf_counter() - t0
    stats = srv.stats()
    assert stats["peak_inflight"] == 2
    assert stats["peak_waiting"] == 4
    assert stats["latency"]["count"] == 6
    # Queued requests get their full latency after admission: three rounds of 300 ms, the
    # first admitted after t0. (The server times each request from its own arrival, and the
    # last ones may arrive a little after the first round began, so its max can be < 0.9.)
    assert took >= 0.9


def _six_flags(srv: RunningServer) -> list[str]:
    return [f"{srv.flags_url}/{cc}/{cc}.gif" for cc in ("br", "cn", "us", "in", "ru", "jp")]


@pytest.fixture(scope="module", params=["uvloop", "asyncio"])
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """Faults touch the transport directly, so they are checked on both event loops."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    with running(ServerConfig(seed=7, loop=request.param)) as srv:
        yield srv
