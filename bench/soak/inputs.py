"""Bad input tried: malformed HTTP, bad ``/_config`` bodies and a slowloris flood against the
server, bad command lines and suite files against the CLI. The server must answer every one
with less than 500 and stay up; the CLI must answer each with one line, exit status 2, and
nothing written."""

from __future__ import annotations

import contextlib
import json
import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.soak import procs
from bench.soak.runs import Sandbox, sandbox
from bench.soak.table import Row
from flags_server import AdminClient, AdminError, ServerConfig, running
from flags_server.config import CONFIG_FIELDS

_CLOSE = b"Host: x\r\nConnection: close\r\n"
#: Requests no client should send; each well-formed one asks the server to close after it.
RAW_REQUESTS: tuple[bytes, ...] = (
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n" + _CLOSE + b"\r\n",
    b"GET /flags/br/br.gif HTTP/1.1\r\n" + _CLOSE + b"Content-Length: -5\r\n\r\n",
    b"GET /flags/../../etc/passwd HTTP/1.1\r\n" + _CLOSE + b"\r\n",
    b"GET /flags/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n" + _CLOSE + b"\r\n",
    b"GET /flags/br/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\n" + _CLOSE + b"\r\n",
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n" + _CLOSE + b"\r\n",
    b"GET / HTTP/1.1\r\n" + _CLOSE + b"X: " + b"y" * 20_000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + _CLOSE + b"".join(b"X-%d: y\r\n" % i for i in range(500)) + b"\r\n",
    b"PUT /_config HTTP/1.1\r\n" + _CLOSE + b"Content-Length: 3\r\n\r\n\xff\xfe\x00",
    b"PUT /_config HTTP/1.1\r\n" + _CLOSE + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"PUT /_config HTTP/1.1\r\n" + _CLOSE + b"Content-Length: 99999999\r\n\r\n{}",
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n" * 50
    + b"GET / HTTP/1.1\r\n"
    + _CLOSE
    + b"\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n",  # TLS
    b"GET /\x00 HTTP/1.1\r\n" + _CLOSE + b"\r\n",
    b"CONNECT example.com:443 HTTP/1.1\r\n" + _CLOSE + b"\r\n",
    b"TRACE / HTTP/1.1\r\n" + _CLOSE + b"\r\n",
    b"GET /_stats HTTP/1.1\r\n" + _CLOSE + b"X-Forwarded-For: 203.0.113.9\r\n\r\n",
)

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
_WRONG_VALUES: tuple[Any, ...] = ("x", -1, 10**30, 1e308, None, True, [], {}, "NaN")


def bad_config_bodies() -> list[bytes]:
    """Bodies ``PUT /_config`` must refuse with 400: every field given wrong values, and JSON
    that is malformed, deep, huge or not an object."""
    bodies = [
        json.dumps({field: value}).encode()
        for field in CONFIG_FIELDS
        for value in _WRONG_VALUES
        if not _accepted(field, value)
    ]
    bodies += [
        b"",
        b"{",
        b"{}}",
        b'{"latency": }',
        b"[" * 60_000,
        b'{"a":' * 12_000,
        b"\xff\xfe",
        b'{"latency": "1' + b"0" * 5000 + b'"}',
        b'{"seed": ' + b"9" * 5000 + b"}",
        b'{"error_rate": NaN}',
        b'{"error_rate": Infinity}',
        b'{"error_rate": 1e999}',
        b"null",
        b"42",
        b'"text"',
        b"[]",
        b'{"latency": "5ms",}',
        b'{"\\ud800": 1}',
        b'{"port": 1, "port": 2}',
        b"{" + b'"x": 1,' * 5000 + b'"y": 2}',
    ]
    return bodies


def _accepted(field: str, value: Any) -> bool:
    try:
        ServerConfig().runtime_update({field: value})
    except (ValueError, TypeError):
        return False
    return True


def exchange(url: str, raw: bytes, timeout_s: float = 10.0) -> list[int]:
    """Send raw bytes and read until the server closes; the status of every answer."""
    host, port = url.split("//", 1)[1].split(":")
    data = b""
    with socket.create_connection((host, int(port)), timeout=timeout_s) as sock:
        try:
            sock.sendall(raw)
            while chunk := sock.recv(65536):
                data += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return [int(code) for code in _STATUS_LINE.findall(data)]


def http_inputs() -> Row:
    """Malformed requests and bad configuration bodies, one server, its health after each."""
    started = time.monotonic()
    bodies = bad_config_bodies()
    fives = wrong = silent = 0
    with running(ServerConfig(seed=3, header_timeout_s=1.0)) as srv:
        before_config = srv.config()
        before = procs.open_fds(srv.pid)
        for raw in RAW_REQUESTS:
            answered = exchange(srv.base_url, raw)
            fives += sum(s >= 500 for s in answered)
            silent += not answered
        for body in bodies:
            head = (
                f"PUT /_config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            statuses = exchange(srv.base_url, head.encode() + body)
            fives += sum(s >= 500 for s in statuses)
            wrong += statuses != [400]
        alive = srv.health()["status"] == "ok" and srv.config() == before_config
        after = _settle(srv.pid, before)
    n = len(RAW_REQUESTS) + len(bodies)
    return Row(
        "bad input: HTTP",
        f"{n} requests",
        f"{len(RAW_REQUESTS)} malformed requests "
        f"(traversal, oversized, pipelined, not HTTP), {len(bodies)} bad /_config bodies",
        f"{fives} answered 5xx, {silent} unanswered, {wrong} bad bodies not refused "
        "with 400; server "
        f"{'up, its configuration unchanged' if alive else 'HURT'}",
        lost=None,
        fds=f"{before} -> {after}",
        seconds=time.monotonic() - started,
        passed=not (fives or silent or wrong) and alive and after <= before,
    )


@contextmanager
def _low_fd_server(limit: int, header_timeout_s: float) -> Iterator[tuple[int, AdminClient]]:
    """A flag server whose hard open-files limit is ``limit``."""

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flags_server",
            "--port",
            "0",
            "--header-timeout",
            str(header_timeout_s),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=lower,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        url = line.split("Serving flags at ", 1)[1].split("/flags", 1)[0]
        yield proc.pid, AdminClient(url, timeout=5)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def slowloris(connections: int = 3000, fd_limit: int = 1024, header_timeout_s: float = 2.0) -> Row:
    """More half-sent request heads than the server has descriptors; /_health must come back
    within the header timeout, and every descriptor with it."""
    started = time.monotonic()
    with _low_fd_server(fd_limit, header_timeout_s) as (pid, srv):
        cap = srv.health()["max_connections"]
        before = procs.open_fds(pid)
        host, port = srv.base_url.split("//", 1)[1].split(":")
        held = []
        try:
            for _ in range(connections):
                sock = socket.create_connection((host, int(port)), timeout=10)
                with contextlib.suppress(OSError):  # closed at once: over the cap
                    sock.sendall(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
            flooded = time.monotonic()
            back = _health_within(srv, header_timeout_s + 5)
            back_s = time.monotonic() - flooded
            stats = _all_closed(srv, connections, header_timeout_s + 5)
        finally:
            for sock in held:
                sock.close()
        after = _settle(pid, before)
    closed = stats["header_timeouts"] + stats["connections_rejected"]
    return Row(
        "bad input: slowloris",
        f"{connections:,} connections, fd limit {fd_limit:,}",
        f"half-sent heads; cap {cap} connections, header timeout {header_timeout_s:g} s",
        f"/_health back after {back_s:.1f} s; {stats['header_timeouts']:,} timed out, "
        f"{stats['connections_rejected']:,} over the cap",
        lost=None,
        fds=f"{before} -> {after}",
        seconds=time.monotonic() - started,
        passed=back and closed >= connections and after <= before,
    )


def _health_within(srv: AdminClient, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return srv.health()["status"] == "ok"
        except AdminError:
            time.sleep(0.1)
    return False


def _all_closed(srv: AdminClient, connections: int, seconds: float) -> dict[str, Any]:
    """The server's stats once it has closed every flooding connection itself."""
    deadline = time.monotonic() + seconds
    while True:
        stats = srv.stats()
        closed = stats["header_timeouts"] + stats["connections_rejected"]
        if closed >= connections or time.monotonic() > deadline:
            return stats
        time.sleep(0.1)


def _settle(pid: int, before: int, within_s: float = 10.0) -> int:
    deadline = time.monotonic() + within_s
    while procs.open_fds(pid) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    return procs.open_fds(pid)


_SUITES: dict[str, bytes] = {
    "a name with a slash": b"[suite]\nname = 'a/b'\n",
    "a 300-character name": b"[suite]\nname = '" + b"n" * 300 + b"'\n",
    "not UTF-8": b"[suite]\ndescription = '\xff'\n",
    "empty": b"",
    "not TOML": b"[suite\n",
    "an unknown key": b"[[workloads]]\nconcurency = 3\n",
    "a rate over 1": b"[[workloads]]\nerror_rate = 1.5\n",
    "rates adding up over 1": b"[[workloads]]\nerror_rate = 0.6\nreset_rate = 0.6\n",
    "an unknown strategy": b"[suite]\nstrategies = ['warp']\n",
    "a missing flags.zip": b"[server]\nflags_zip = '/nonexistent/flags.zip'\n",
}


def _command_lines(box: Sandbox) -> list[list[str]]:
    a_file = box.root / "a-file"
    a_file.write_text("")
    out = ["--out", str(box.out)]
    lines = [
        ["run", "warp", *out],
        ["run", "asyncio", "--latency", "soon", *out],
        ["run", "asyncio", "-m", "0", *out],
        ["run", "asyncio", "--error-rate", "2", *out],
        ["run", "asyncio", "B4", *out],
        ["run", "asyncio", "--repeats", "0", *out],
        ["run", "asyncio", "--server", "http://192.0.2.1:8001", *out],
        ["run", "asyncio", "--server", "http://127.0.0.1:1", *out],
        ["run", "asyncio", "--server", "ftp://127.0.0.1/flags", *out],
        ["run", "asyncio", "BR", "--out", str(a_file)],
        ["run", "asyncio", "BR", "--out", str(a_file / "under")],
        ["suite", "nope", *out],
        ["report", str(box.root / "nothing")],
        ["collect", str(a_file)],
        ["compare", str(a_file), str(a_file)],
    ]
    for name, content in _SUITES.items():
        path = box.root / f"{name.replace(' ', '-')}.toml"
        path.write_bytes(content)
        lines.append(["suite", str(path), *out])
    return lines


def cli_inputs() -> Row:
    """Each bad command line or suite file: one line on stderr, exit 2, nothing written."""
    started = time.monotonic()
    failures = []
    with sandbox() as box:
        lines = _command_lines(box)
        for args in lines:
            code, stderr = box.run(*args)
            one_line = len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
            if code != 2 or not one_line or box.out.exists() or box.left_over(0):
                failures.append(" ".join(args[:3]))
    return Row(
        "bad input: CLI",
        f"{len(lines)} command lines and suite files",
        "bad values, files and folders, unreachable and remote servers",
        f"{len(lines) - len(failures)} of {len(lines)} one line, exit 2, nothing written"
        + (f"; not: {', '.join(failures)}" if failures else ""),
        lost=None,
        seconds=time.monotonic() - started,
        passed=not failures,
    )
