"""How each injected fault reaches the client, as real network failures do.

Each function takes over the request's transport: the client must see the
same symptom it would see from a misbehaving real server (no response, an
RST, a body shorter than its Content-Length, a trickle of bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from aiohttp import web


def abort_with_rst(request: web.BaseRequest) -> None:
    """Drop the connection with a TCP RST (SO_LINGER 0), sending no response."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def send_truncated(
    request: web.BaseRequest, body: bytes, content_type: str, keep_fraction: float
) -> int:
    """Announce the full Content-Length, send part of the body, then close; returns bytes sent."""
    keep = max(0, min(len(body) - 1, int(len(body) * keep_fraction)))
    resp = web.StreamResponse(status=200, headers={"Content-Type": content_type})
    resp.content_length = len(body)
    await resp.prepare(request)
    await resp.write(body[:keep])
    if request.transport is not None:
        request.transport.close()
    return keep


async def send_slow(
    request: web.BaseRequest, body: bytes, content_type: str, bandwidth_bps: int
) -> web.StreamResponse:
    """Send the whole body at about `bandwidth_bps`, in chunks on an absolute schedule."""
    loop = asyncio.get_running_loop()
    resp = web.StreamResponse(status=200, headers={"Content-Type": content_type})
    resp.content_length = len(body)
    await resp.prepare(request)
    chunk = max(1, bandwidth_bps // 20)
    start = loop.time()
    sent = 0
    while sent < len(body):
        part = body[sent : sent + chunk]
        sent += len(part)
        # each chunk leaves when the cap allows its last byte: byte i at i / bandwidth
        delay = start + sent / bandwidth_bps - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await resp.write(part)
    await resp.write_eof()
    return resp
