"""The flags-server command: bad values, a taken port, Ctrl-C, the printed URL."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
import requests

from flags_server.cli import build_parser, config_from_args

from .conftest import TIMEOUT, first_line


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flags_server", *args], capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--latency", "soon"], ["'soon'", "uniform:0.5..5"]),
        (["--error-rate", "2"], ["error_rate=2.0", "0..1"]),
        (["--error-rate", "lots"], ["--error-rate", "'lots'"]),
        (["--error-codes", "500,abc"], ["500,abc"]),
        (["--port", "70000"], ["port=70000", "0..65535"]),
        (["--host", "0.0.0.0"], ["0.0.0.0", "--allow-remote"]),
        (["--overflow", "drop"], ["--overflow", "'drop'"]),
        (["--prefix", "flags"], ["prefix='flags'"]),
        (["--flags-zip", "/nonexistent/flags.zip", "--port", "0"], ["flags_zip", "cannot be read"]),
    ],
)
def test_bad_value_is_one_line_and_exit_2(args: list[str], words: list[str]) -> None:
    result = _cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("flags-server: error: ")
    for word in words:
        assert word in lines[0]


def test_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli("--port", str(port))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"port {port}" in lines[0] and "already in use" in lines[0]


@contextlib.contextmanager
def _serving(*args: str) -> Iterator[tuple[str, Callable[[], subprocess.CompletedProcess[str]]]]:
    """`flags-server --port 0 ARGS` in a child: yields its first line and a Ctrl-C that
    returns how the child ended. The child is killed and reaped whatever the test does."""
    cmd = [sys.executable, "-m", "flags_server", "--port", "0", *args]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ctrl_c() -> subprocess.CompletedProcess[str]:
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
        return subprocess.CompletedProcess(cmd, process.returncode, out, err)

    try:
        yield first_line(process), ctrl_c
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_prints_the_url_serves_and_stops_cleanly_on_ctrl_c() -> None:
    with _serving("--latency", "1ms", "--seed", "3") as (line, ctrl_c):
        assert line.startswith("Serving flags at http://127.0.0.1:")
        flags_url = line.split()[3]
        assert flags_url.endswith("/flags")
        r = requests.get(f"{flags_url}/br/br.gif", timeout=TIMEOUT)
        assert r.status_code == 200
        ended = ctrl_c()
    assert ended.returncode == 0
    assert "Stopped." in ended.stdout
    assert "Traceback" not in ended.stderr


def test_options_map_onto_the_config() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "8002",
            "--error-rate",
            "0.25",
            "--error-codes",
            "500,429",
            "--seed",
            "7",
            "--latency",
            "uniform:10ms..20ms",
            "--metadata-latency",
            "5ms",
            "--max-inflight",
            "4",
            "--overflow",
            "reject",
            "--timeout-hold",
            "2",
            "--bandwidth",
            "1000",
            "--payload-size",
            "12288",
            "--loop",
            "asyncio",
            "--retry-after",
            "2",
        ]
    )
    config = config_from_args(args)
    assert (config.port, config.error_rate, config.error_codes, config.seed) == (
        8002,
        0.25,
        (500, 429),
        7,
    )
    assert config.latency_model.mean_s == pytest.approx(0.015)
    assert config.metadata_latency_model.mean_s == pytest.approx(0.005)
    assert (config.max_inflight, config.overflow, config.timeout_hold_s) == (4, "reject", 2.0)
    assert (config.bandwidth_bps, config.payload_size, config.loop, config.retry_after_s) == (
        1000,
        12288,
        "asyncio",
        2,
    )


def test_defaults_suit_the_books_delay_server() -> None:
    config = config_from_args(build_parser().parse_args([]))
    assert (config.host, config.port, config.prefix) == ("127.0.0.1", 8001, "/flags")


def test_a_remote_address_warns_then_fails_clearly_when_absent() -> None:
    """192.0.2.1 (TEST-NET-1) is never a local address: no socket is opened."""
    result = _cli("--host", "192.0.2.1", "--allow-remote", "--port", "0")
    assert result.returncode == 2
    warning, error = result.stderr.strip().splitlines()
    assert "warning: binding 192.0.2.1" in warning
    assert error.startswith("flags-server: error: cannot listen on 192.0.2.1:0")


def test_access_log_names_each_outcome() -> None:
    with _serving("--access-log", "--reset-rate", "1") as (line, ctrl_c):
        flags_url = line.split()[3]
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{flags_url}/br/br.gif", timeout=TIMEOUT)
        assert requests.get(f"{flags_url}/b/b.gif", timeout=TIMEOUT).status_code == 404
        lines = ctrl_c().stderr.strip().splitlines()
    assert any("GET /flags/br/br.gif reset (TCP RST)" in line for line in lines)
    assert any("GET /flags/b/b.gif 404" in line for line in lines)
