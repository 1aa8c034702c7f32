"""The one client of the admin API (/_health, /_stats, /_stats/reset, /_config).

``running()``'s handle, the harness (for a server it did not start) and the tests all use it,
so a refusal means the same everywhere: HTTP 400 is a ``ConfigError`` (a value the server will
not take, in the server's own words); anything else that is not the JSON object asked for, or
no answer within the timeout, is an ``AdminError`` naming the call, its URL and what came back.
Nothing is swallowed. Calls never go through a proxy from the environment: the server is a
local one, and an HTTP_PROXY meant for the internet must not stand between us and it.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import AdminError, ConfigError

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_PREFIX = "/flags"
_QUOTED = 120  # characters of an unexpected answer quoted in an error

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class AdminClient:
    """Admin calls to the flag server at ``base_url`` (scheme://host:port), each with a timeout.

    ``flags_url`` is where the site serves its flags (``base_url`` + the prefix), for callers
    that hand it to a download strategy.
    """

    def __init__(
        self, base_url: str, timeout: float = DEFAULT_TIMEOUT_S, *, flags_url: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.flags_url = flags_url or self.base_url + DEFAULT_PREFIX
        self.timeout = timeout

    @classmethod
    def for_site(cls, url: str, timeout: float = DEFAULT_TIMEOUT_S) -> AdminClient:
        """A client for the server whose flags are at ``url``; no path means the default /flags."""
        parts = urlsplit(url.strip().rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AdminError(f"{url!r} is not a flag server URL; give http://HOST:PORT[/PREFIX]")
        base = f"{parts.scheme}://{parts.netloc}"
        return cls(base, timeout, flags_url=base + (parts.path or DEFAULT_PREFIX))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, timeout={self.timeout:g})"

    def health(self) -> dict[str, Any]:
        """GET /_health."""
        return self._call("GET", "/_health")

    def stats(self) -> dict[str, Any]:
        """GET /_stats: the server's own counts since the last reset."""
        return self._call("GET", "/_stats")

    def reset_stats(self) -> None:
        """POST /_stats/reset (also restarts every path's attempt numbering)."""
        self._call("POST", "/_stats/reset")

    def config(self) -> dict[str, Any]:
        """GET /_config."""
        return self._call("GET", "/_config")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """PUT /_config with ``changes``; the new config. ConfigError if a value is refused."""
        if changes.get("error_codes") is not None:
            changes["error_codes"] = list(changes["error_codes"])
        return self._call("PUT", "/_config", changes)

    def wait_idle(self, timeout_s: float = 10.0, poll_s: float = 0.01) -> dict[str, Any]:
        """GET /_stats once no request is in flight or queued.

        The server finishes a request a moment after its client has moved on (a held
        timeout ends when it notices the closed connection), so stats read at once may
        still change. Polls every ``poll_s``; TimeoutError if still busy after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            stats = self.stats()
            try:
                inflight, waiting = stats["inflight"], stats["waiting"]
            except KeyError as exc:
                raise AdminError(
                    f"GET {self.base_url}/_stats: the answer lacks {exc}; is this a flags_server?"
                ) from None
            if inflight == 0 and waiting == 0:
                return stats
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"flags_server still busy after {timeout_s:g} s: "
                    f"inflight={inflight}, waiting={waiting}"
                )
            time.sleep(poll_s)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = self.base_url + path
        call = f"{method} {url}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            message = _error_text(exc)
            if exc.code == 400:
                raise ConfigError(message) from None
            raise AdminError(
                f"{call}: HTTP {exc.code}: {message or exc.reason}", status=exc.code
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise AdminError(
                f"{call}: {_no_answer(exc, self.timeout)}",
                timed_out=isinstance(reason, TimeoutError),
            ) from None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise AdminError(
                f"{call}: not a flags_server admin answer (a JSON object): {_quote(raw)}"
            )
        return answer


def _error_text(exc: urllib.error.HTTPError) -> str:
    """The server's ``{"error": ...}`` message, or the start of whatever body came back."""
    try:
        raw = exc.read()
    except (OSError, http.client.HTTPException):
        return ""
    try:
        return str(json.loads(raw)["error"])
    except (ValueError, KeyError, TypeError):
        return _quote(raw) if raw.strip() else ""


def _no_answer(exc: BaseException, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    return f"no answer: {reason}"


def _quote(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    return (
        repr(text[:_QUOTED] + ("..." if len(text) > _QUOTED else "")) if text else "an empty body"
    )
