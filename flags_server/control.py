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
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from ._exceptions import ConfigError
from .config import ServerConfig

_URL = re.compile(r"(http://(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(\d+))")
# Loopback admin calls must never go through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerStartError(RuntimeError):
    """The server process exited or stayed silent before it was ready."""


class RunningServer:
    """A live server process; its admin calls are thin wrappers over the HTTP API."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, prefix: str,
                 timeout: float = 10.0) -> None:
        self.process = process
        self.base_url = base_url
        self.flags_url = base_url + prefix
        self.timeout = timeout

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(request, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text.strip()
            if exc.code == 400:
                raise ConfigError(message) from None
            raise

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/_health")

    def stats(self) -> dict[str, Any]:
        """GET /_stats."""
        return self._call("GET", "/_stats")

    def reset_stats(self) -> None:
        """POST /_stats/reset (also restarts every path's attempt numbering)."""
        self._call("POST", "/_stats/reset")

    def config(self) -> dict[str, Any]:
        """GET /_config."""
        return self._call("GET", "/_config")

    def wait_idle(self, timeout_s: float = 10.0, poll_s: float = 0.01) -> dict[str, Any]:
        """GET /_stats once no request is in flight or queued.

        The server finishes a request a moment after its client has moved on (a held
        timeout ends when it notices the closed connection), so stats read at once may
        still change. Polls every `poll_s`; TimeoutError if still busy after `timeout_s`.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            stats = self.stats()
            if stats["inflight"] == 0 and stats["waiting"] == 0:
                return stats
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"flags_server still busy after {timeout_s:g} s: "
                    f"inflight={stats['inflight']}, waiting={stats['waiting']}"
                )
            time.sleep(poll_s)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """PUT /_config with `changes`; returns the new config; ConfigError if refused."""
        if "error_codes" in changes and changes["error_codes"] is not None:
            changes["error_codes"] = list(changes["error_codes"])
        return self._call("PUT", "/_config", changes)


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
        except (OSError, ValueError) as exc:
            last = exc
        time.sleep(0.05)
    raise ServerStartError(f"flags_server at {server.base_url} did not answer /_health: {last}")


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace_s`, and always reap."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextlib.contextmanager
def running(config: ServerConfig | None = None, *, startup_timeout: float = 30.0,
            python: str | None = None) -> Iterator[RunningServer]:
    """Run a flag server for the duration of the block (see the module docstring)."""
    config = config or ServerConfig()
    if not isinstance(config, ServerConfig):
        raise TypeError(f"running() needs a ServerConfig, not {type(config).__name__}")
    cmd = [python or sys.executable, "-m", "flags_server",
           "--config-json", json.dumps(config.to_dict()), "--parent-pid", str(os.getpid())]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=errors, start_new_session=True)
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
