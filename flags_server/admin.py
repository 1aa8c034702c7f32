"""The admin API under /_: health, stats, reset and run-time configuration.

Answered to loopback peers only: it can change what every client of the
server experiences, so it must not be reachable from the network even when
the site itself is (--allow-remote).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Protocol

from aiohttp import web

from . import jsonbody
from ._exceptions import ConfigError
from .access import is_loopback_peer
from .config import ServerConfig
from .content import Content
from .stats import Stats

JSON = "application/json"


class Site(Protocol):
    """What the admin API reads and changes of the running site (``app.FlagSite``)."""

    config: ServerConfig
    content: Content
    stats: Stats
    port: int
    loop_name: str
    max_connections: int | None

    def apply(self, new: ServerConfig) -> None: ...

    def reset(self) -> None: ...


MAX_ADMIN_BODY = 64 * 1024
ROUTES = "/_health, /_stats, /_stats/reset, /_config"


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(data).encode(), content_type=JSON)


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message, "status": status}, status)


async def handle_admin(site: Site, request: web.BaseRequest, path: str) -> web.StreamResponse:
    """Answer one /_ request (403 for a peer that is not loopback)."""
    if not is_loopback_peer(request.remote):
        return _error(403, "the admin API (/_...) answers loopback clients only")
    method = request.method
    if path == "/_health":
        if method not in ("GET", "HEAD"):
            return _error(405, "use GET /_health")
        return _json(
            {
                "status": "ok",
                "pid": os.getpid(),
                "port": site.port,
                "loop": site.loop_name,
                "content": site.content.source,
                "flags": len(site.content.images),
                "max_connections": site.max_connections,
                "header_timeout_s": site.config.header_timeout_s,
            }
        )
    if path == "/_stats":
        if method != "GET":
            return _error(405, "use GET /_stats (POST /_stats/reset to reset)")
        return _json(site.stats.snapshot())
    if path == "/_stats/reset":
        if method != "POST":
            return _error(405, "use POST /_stats/reset")
        site.reset()
        return _json({"reset": True, "generation": site.stats.generation})
    if path == "/_config":
        if method == "GET":
            return _json(site.config.to_dict())
        if method == "PUT":
            return await _put_config(site, request)
        return _error(405, "use GET or PUT /_config")
    return _error(404, f"no admin route {path}; routes: {ROUTES}")


async def _put_config(site: Site, request: web.BaseRequest) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_ADMIN_BODY:
        return _error(400, f"configuration body larger than {MAX_ADMIN_BODY} bytes")
    try:  # a body that trickles in must not hold the handler for ever
        raw = await asyncio.wait_for(
            _read_body(request, MAX_ADMIN_BODY + 1), site.config.header_timeout_s
        )
    except asyncio.TimeoutError:
        return _error(
            408, f"the configuration body did not arrive within {site.config.header_timeout_s:g} s"
        )
    if len(raw) > MAX_ADMIN_BODY:
        return _error(400, f"configuration body larger than {MAX_ADMIN_BODY} bytes")
    try:
        data = jsonbody.loads(raw or b"null")
    except ValueError as exc:
        return _error(400, f"the configuration body is not valid JSON: {exc}")
    try:
        site.apply(site.config.runtime_update(data))
    except ConfigError as exc:
        return _error(400, str(exc))
    return _json(site.config.to_dict())


async def _read_body(request: web.BaseRequest, limit: int) -> bytes:
    """Up to ``limit`` bytes of the body: ``read(n)`` returns what has arrived, not n bytes."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await request.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
