"""Hostile and broken clients: the server answers 400 to malformed input (never 500), closes
connections whose request head does not arrive in time, and keeps its connections below its
open-files limit, counting both in /_stats."""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.soak.inputs import RAW_REQUESTS, bad_config_bodies, exchange
from flags_server import AdminClient, AdminError
from flags_server.guard import FD_RESERVE
from flags_server.jsonbody import MAX_DEPTH, nesting_depth

from .conftest import TIMEOUT, first_line


def _connect(url: str) -> socket.socket:
    host, port = url.split("//", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    return sock


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    """True when the server closes (or resets) the connection within ``within_s``."""
    sock.settimeout(within_s)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _eventually(call: Callable[[], Any], within_s: float = 10.0) -> Any:
    """``call()``'s answer once the server admits a connection again (AdminError until then)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return call()
        except AdminError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# ---------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 60_000,
        b'{"a":' * 12_000,
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    ],
)
def test_deeply_nested_json_is_a_400(srv, session, body) -> None:
    r = session.put(srv.base_url + "/_config", data=body, timeout=TIMEOUT)
    assert r.status_code == 400
    assert "is not valid JSON: nested" in r.json()["error"]
    assert srv.health()["status"] == "ok"


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert nesting_depth(b'{"latency": "[[[[\\"[[[", "x": [1, [2]]}') == 3


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "latency",
                            "error_rate",
                            "seed",
                            "prefix",
                            "max_connections",
                            "header_timeout_s",
                            "x",
                        ]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_any_config_body_is_answered_200_or_400_never_500(srv, session, body) -> None:
    r = session.put(srv.base_url + "/_config", data=body, timeout=TIMEOUT)
    assert r.status_code in (200, 400), (body, r.text)
    assert isinstance(r.json(), dict)


@pytest.mark.parametrize("raw", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_malformed_requests_are_answered_below_500(srv, raw) -> None:
    srv.configure(header_timeout_s=1.0)  # an incomplete body is answered 408 within it
    statuses = exchange(srv.base_url, raw)
    assert statuses and all(s < 500 for s in statuses), statuses
    assert srv.health()["status"] == "ok"


def test_every_bad_config_body_is_a_400(srv) -> None:
    before = srv.config()
    for body in bad_config_bodies():
        head = (
            f"PUT /_config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        assert exchange(srv.base_url, head.encode() + body) == [400], body[:80]
    assert srv.config() == before


# ---------------------------------------------------------------- the header timeout


def test_a_request_head_that_does_not_arrive_in_time_closes_the_connection(srv) -> None:
    srv.configure(header_timeout_s=0.3)
    srv.reset_stats()
    with _connect(srv.base_url) as silent, _connect(srv.base_url) as slow:
        slow.sendall(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n")  # and never the end
        started = time.monotonic()
        assert _closed_by_server(slow, 5) and _closed_by_server(silent, 5)
        # closed by the 0.3 s timeout, not by the 5 s this test waits: a ratio, not a wall time
        assert (time.monotonic() - started) / 5 < 0.4
    stats = srv.stats()
    assert stats["header_timeouts"] == 2 and stats["requests"] == 0


def test_an_idle_keep_alive_connection_is_not_cut_by_the_header_timeout(srv) -> None:
    srv.configure(header_timeout_s=0.2)
    with requests.Session() as s:
        s.trust_env = False
        first = s.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
        time.sleep(0.6)  # idle between requests, three header timeouts long
        second = s.get(f"{srv.flags_url}/cn/cn.gif", timeout=TIMEOUT)
    assert first.status_code == second.status_code == 200
    stats = srv.stats()
    assert stats["connections"] == 1 and stats["header_timeouts"] == 0


def test_a_config_body_that_trickles_in_is_a_408(srv) -> None:
    srv.configure(header_timeout_s=0.3)
    with _connect(srv.base_url) as sock:
        sock.sendall(b"PUT /_config HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert srv.config()["header_timeout_s"] == 0.3


# ---------------------------------------------------------------- the connection cap


def test_connections_over_the_cap_are_closed_at_once_and_counted(srv) -> None:
    srv.configure(max_connections=3)
    srv.reset_stats()
    held = [_connect(srv.base_url) for _ in range(3)]
    try:
        with _connect(srv.base_url) as over:
            assert _closed_by_server(over, 2)
    finally:
        for sock in held:
            sock.close()
    # once the server has seen them close, a new connection is admitted again
    assert _eventually(srv.health)["max_connections"] == 3
    assert srv.stats()["connections_rejected"] >= 1


@pytest.fixture
def low_fd_server() -> Iterator[tuple[subprocess.Popen[bytes], AdminClient]]:
    """A server whose hard open-files limit is 160 (it cannot raise its soft one past it)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))

    proc = subprocess.Popen(
        [sys.executable, "-m", "flags_server", "--port", "0", "--header-timeout", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=limit,
    )
    try:
        line = first_line(proc)
        url = line.split("Serving flags at ", 1)[1].split("/flags", 1)[0]
        yield proc, AdminClient(url, timeout=TIMEOUT)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


def test_slowloris_under_a_low_fd_limit_cannot_take_the_server_down(low_fd_server) -> None:
    proc, srv = low_fd_server
    cap = srv.health()["max_connections"]
    assert cap == 160 - FD_RESERVE - 160 // 20
    fds_before = len(list(Path(f"/proc/{proc.pid}/fd").iterdir()))
    attackers = []
    try:
        for _ in range(400):  # far more than the server has descriptors for
            sock = _connect(srv.base_url)
            sock.sendall(b"GET / HTTP/1.1\r\n")
            attackers.append(sock)
        assert _eventually(srv.health)["status"] == "ok"  # the slow heads time out
        # Every head admitted times out, every other one is refused, before any attacker
        # gives up: the first health answer only needed one slot (on a loaded machine the
        # heads were admitted over more than a header timeout, so they time out in turn).
        deadline = time.monotonic() + 10
        while True:
            stats = _eventually(srv.stats)
            if stats["header_timeouts"] + stats["connections_rejected"] >= 400:
                break
            assert time.monotonic() < deadline, stats
            time.sleep(0.1)
    finally:
        for sock in attackers:
            sock.close()
    # the cap's worth of heads at least were admitted and timed out; every other head was
    # refused at once (the cap itself: test_connections_over_the_cap_are_closed_at_once...)
    assert stats["header_timeouts"] >= cap
    assert stats["connections_rejected"] >= 400 - stats["header_timeouts"]
    deadline = time.monotonic() + 5
    while len(list(Path(f"/proc/{proc.pid}/fd").iterdir())) > fds_before:
        assert time.monotonic() < deadline, "the server's descriptors did not come back"
        time.sleep(0.05)
