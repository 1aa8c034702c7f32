"""/_stats counts equal what the clients saw."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import TIMEOUT, burst


def test_counts_match_a_mixed_client_run(srv) -> None:
    srv.configure(
        latency="5ms", error_rate=0.2, error_codes=[500, 404], reset_rate=0.1, truncate_rate=0.1
    )
    seen = {"status": {}, "reset": 0, "truncate": 0}
    codes = ["br", "cn", "us", "in", "ru", "jp", "de", "fr", "gb", "it", "zz", "qq"]
    with requests.Session() as session:
        for cc in codes:
            for resource in (f"{cc}/{cc}.gif", f"{cc}/metadata.json"):
                try:
                    r = session.get(f"{srv.flags_url}/{resource}", timeout=TIMEOUT)
                    status = str(r.status_code)
                    seen["status"][status] = seen["status"].get(status, 0) + 1
                except requests.exceptions.ChunkedEncodingError:
                    seen["truncate"] += 1
                    seen["status"]["200"] = seen["status"].get("200", 0) + 1
                except requests.ConnectionError:
                    seen["reset"] += 1
    stats = srv.stats()
    assert stats["requests"] == 2 * len(codes)
    assert stats["by_route"] == {"flag": len(codes), "metadata": len(codes)}
    assert stats["by_status"] == dict(sorted(seen["status"].items()))
    assert stats["faults"]["reset"] == seen["reset"]
    assert stats["faults"]["truncate"] == seen["truncate"]
    assert stats["inflight"] == 0
    assert stats["latency"]["count"] == 2 * len(codes) - seen["reset"]
    assert stats["latency"]["p50"] >= 0.005


def test_keep_alive_shows_as_few_connections(srv) -> None:
    with requests.Session() as session:
        for cc in ("br", "cn", "us", "in"):
            assert session.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT).ok
    for cc in ("br", "cn"):
        with requests.Session() as fresh:
            assert fresh.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT).ok
    stats = srv.stats()
    assert stats["requests"] == 6
    assert stats["connections"] == 3
    assert stats["connections_accepted"] >= 3


def test_peak_inflight_sees_the_client_concurrency(srv) -> None:
    srv.configure(latency="300ms")  # a window wide enough for all 20 to arrive
    assert burst([f"{srv.flags_url}/br/br.gif"] * 20) == [200] * 20
    stats = srv.stats()
    assert stats["peak_inflight"] == 20
    assert stats["connections"] == 20
    assert stats["latency"]["count"] == 20
    assert 0.3 <= stats["latency"]["p50"] <= stats["latency"]["p99"] <= stats["latency"]["max"]


def test_reset_zeroes_the_counts_but_not_the_gauges(srv, session: requests.Session) -> None:
    session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    srv.reset_stats()
    stats = srv.stats()
    assert stats["requests"] == 0
    assert stats["by_status"] == {}
    assert stats["latency"]["count"] == 0
    assert stats["connections"] == 0
    session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    # the kept-alive connection is counted again in the new period
    assert srv.stats()["connections"] == 1


def test_stats_document_has_every_documented_key(srv) -> None:
    stats = srv.stats()
    for key in (
        "requests",
        "by_route",
        "by_status",
        "faults",
        "inflight",
        "peak_inflight",
        "connections",
        "latency",
        "cpu_s",
    ):
        assert key in stats
    assert set(stats["faults"]) >= {"http_error", "timeout", "reset", "truncate", "slow"}
    assert set(stats["latency"]) == {"count", "mean", "p50", "p99", "max"}


def test_a_client_that_leaves_is_no_longer_in_flight(srv) -> None:
    srv.configure(latency="2s")
    with requests.Session() as session, pytest.raises(requests.exceptions.ReadTimeout):
        session.get(f"{srv.flags_url}/br/br.gif", timeout=0.2)
    # the server notices the closed connection and stops waiting: nothing is held
    stats = srv.wait_idle()
    assert stats["requests"] == 1
    assert stats["inflight"] == 0
    assert stats["abandoned"] == 1
    assert stats["by_status"] == {}


def test_a_client_that_leaves_mid_body_is_counted_as_abandoned(srv) -> None:
    srv.configure(slow_rate=1.0, bandwidth_bps=1000, payload_size=4000)
    parts = urlsplit(srv.flags_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {parts.path}/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 200")  # headers, then a trickle
    stats = srv.wait_idle()
    assert stats["abandoned"] == 1
    assert stats["faults"]["slow"] == 1
    assert stats["by_status"] == {}


def test_wait_idle_waits_for_a_held_request_and_says_so_when_it_gives_up(srv) -> None:
    srv.configure(latency="2s")
    parts = urlsplit(srv.flags_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {parts.path}/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        deadline = time.monotonic() + TIMEOUT
        while srv.stats()["inflight"] == 0:  # the request is on its way; bounded poll
            assert time.monotonic() < deadline
        with pytest.raises(TimeoutError, match="inflight=1"):
            srv.wait_idle(timeout_s=0.1)
    assert srv.wait_idle()["abandoned"] == 1  # the client closed: the server stops holding
