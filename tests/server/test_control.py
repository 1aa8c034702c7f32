"""running(): always stops and reaps the server, whatever the body does."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys

import pytest
import requests

from flags_server import ConfigError, ServerConfig, running

from .conftest import TIMEOUT, first_line


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_reaped_after_a_normal_exit() -> None:
    with running(ServerConfig(loop="asyncio")) as srv:
        pid = srv.pid
        assert srv.health()["loop"] == "asyncio"
    assert srv.process.returncode == 0  # stopped by SIGTERM, shut down cleanly
    assert _gone(pid)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_reaped_when_the_body_raises(error: type[BaseException]) -> None:
    with pytest.raises(error), running(ServerConfig()) as srv:
        pid = srv.pid
        assert requests.get(srv.flags_url + "/br/br.gif", timeout=TIMEOUT).ok
        raise error("boom")
    assert srv.process.returncode is not None
    assert _gone(pid)


def test_reaped_while_requests_are_held() -> None:
    """A held timeout must not delay the shutdown (bounded grace, then kill)."""
    with running(ServerConfig(timeout_rate=1.0, timeout_hold_s=120)) as srv:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(srv.flags_url + "/br/br.gif", timeout=0.3)
        pid = srv.pid
    assert srv.process.returncode == 0
    assert _gone(pid)


def test_two_servers_get_different_free_ports() -> None:
    with running() as a, running() as b:
        assert a.port != b.port
        assert a.flags_url == a.base_url + "/flags"


def test_a_bad_config_in_the_child_surfaces_as_config_error() -> None:
    with (
        pytest.raises(ConfigError, match="flags_zip"),
        running(ServerConfig(flags_zip="/nonexistent.zip")),
    ):
        pass


def test_running_needs_a_server_config() -> None:
    with pytest.raises(TypeError), running({"seed": 1}):  # type: ignore[arg-type]
        pass


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_loopback() -> None:
    with running(ServerConfig(host="::1")) as srv:
        assert srv.base_url.startswith("http://[::1]:")
        assert requests.get(srv.flags_url + "/br/br.gif", timeout=TIMEOUT).ok
        assert srv.stats()["requests"] == 1


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs os.pidfd_open (Linux)")
def test_the_server_exits_when_its_parent_is_killed() -> None:
    """A parent killed with SIGKILL cannot reap; the server must not outlive it."""
    script = (
        "import sys, time\n"
        "from flags_server import running\n"
        "with running() as srv:\n"
        "    print(srv.pid, flush=True)\n"
        "    time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        server_pid = int(first_line(parent))
        pidfd = os.pidfd_open(server_pid)  # readable once the process has exited
        try:
            parent.kill()
            parent.wait(TIMEOUT)
            readable, _, _ = select.select([pidfd], [], [], TIMEOUT)
        finally:
            os.close(pidfd)
        assert readable, "the server outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
