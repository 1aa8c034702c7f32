"""Programmatic use: start the server in a subprocess and always reap it.

The server runs in its own process so its work never competes with the
client being measured for the GIL. The child binds port 0 and announces
the real URL on its first stdout line; we then confirm with /_health.
Whatever happens in the `with` body (an exception, Ctrl-C), the child is
terminated, killed if it does not stop, and waited for.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from ._exceptions import AdminError, ConfigError, ServerStartError
from .client import DEFAULT_TIMEOUT_S, AdminClient
from .config import ServerConfig

_URL = re.compile(r"(http://(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(\d+))")


class RunningServer(AdminClient):
    """A live server process we started; its admin calls are AdminClient's."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        base_url: str,
        prefix: str,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        super().__init__(base_url, timeout, flags_url=base_url + prefix)
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


def _read_ready_line(process: subprocess.Popen[bytes], deadline: float) -> str:
    """The child's first stdout line, or '' if it exits or the deadline passes."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                return ""
            chunk = os.read(fd, 4096)
            if not chunk:
                return ""
            buf += chunk
    return buf.split(b"\n", 1)[0].decode("utf-8", "replace")


def _wait_healthy(server: RunningServer, deadline: float) -> None:
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if server.health().get("status") == "ok":
                return
        except AdminError as exc:
            last = exc
        time.sleep(0.05)
    raise ServerStartError(f"flags_server at {server.base_url} did not answer /_health: {last}")


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM (and SIGCONT, so a stopped one hears it), then SIGKILL after `grace_s`, and
    always reap."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(ProcessLookupError):  # a frozen (SIGSTOP) server, too
            os.kill(process.pid, signal.SIGCONT)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextlib.contextmanager
def running(
    config: ServerConfig | None = None, *, startup_timeout: float = 30.0, python: str | None = None
) -> Iterator[RunningServer]:
    """Run a flag server for the duration of the block (see the module docstring)."""
    config = config or ServerConfig()
    if not isinstance(config, ServerConfig):
        raise TypeError(f"running() needs a ServerConfig, not {type(config).__name__}")
    cmd = [
        python or sys.executable,
        "-m",
        "flags_server",
        "--config-json",
        json.dumps(config.to_dict()),
        "--parent-pid",
        str(os.getpid()),
    ]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + startup_timeout
            line = _read_ready_line(process, deadline)
            match = _URL.search(line)
            if not match:
                stop_process(process)
                errors.seek(0)
                detail = errors.read().decode("utf-8", "replace").strip().splitlines()
                last = detail[-1] if detail else f"no output within {startup_timeout:g} s"
                if process.returncode == 2 and "error:" in last:
                    raise ConfigError(last.split("error:", 1)[1].strip())
                raise ServerStartError(f"flags_server did not start: {last}")
            server = RunningServer(process, match.group(1), config.prefix)
            _wait_healthy(server, deadline)
            yield server
        finally:
            stop_process(process)
