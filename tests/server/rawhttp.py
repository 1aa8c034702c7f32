"""A tiny raw-socket HTTP/1.1 client, to see exactly what went over the wire.

Library clients hide the difference between a reset, an early close and a
short body; these helpers do not.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawResult:
    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str | None  # "reset" or None; EOF before Content-Length shows as a short body


def raw_get(url: str, timeout: float = 5.0) -> RawResult:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        error = None
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            error = "reset"
    head, _, body = data.partition(b"\r\n\r\n")
    if not head:
        return RawResult(None, {}, b"", error)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return RawResult(status, headers, body, error)
