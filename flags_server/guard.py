"""Protection against clients that hold connections open without using them.

Every accepted connection costs a file descriptor. When they run out, ``accept()`` fails and
the server can answer nobody, its own ``/_health`` included; so open connections are capped
below the open-files limit and a connection over the cap is closed at once. A client that
sends its request head a byte at a time (slowloris) would otherwise hold its connection for as
long as the keep-alive timeout allows; the sweeper closes every connection whose head (or
admin body) has been arriving for longer than ``header_timeout_s``. Idle keep-alive
connections between requests are left to aiohttp's keep-alive timeout: closing them early
would turn a client's pause into spurious connection errors in the measurements.
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Callable, Iterable
from typing import Protocol

#: Descriptors kept free beside the connections: the listening sockets, the event loop's
#: own, files the server opens; plus a twentieth of the limit.
FD_RESERVE = 64
#: The sweeper looks at most this often, and at least four times per timeout.
SWEEP_MAX_INTERVAL_S = 1.0


def fd_cap() -> int | None:
    """How many connections the open-files limit leaves room for (None: no limit)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(1, soft - FD_RESERVE - soft // 20)


def connection_cap(configured: int | None) -> int | None:
    """The cap in force: the configured one, never above what the descriptors allow."""
    caps = [c for c in (configured, fd_cap()) if c is not None]
    return min(caps) if caps else None


def raise_open_files_limit() -> None:
    """Lift the soft open-files limit to the hard one: the cap follows the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # an infinite hard limit some systems will not grant
            return


class Watched(Protocol):
    """A connection the sweeper can judge: when its unfinished head began (0: none)."""

    head_started: float

    def abort_slow(self) -> None: ...


async def sweep(
    connections: Callable[[], Iterable[Watched]],
    timeout_s: Callable[[], float],
    clock: Callable[[], float],
    on_close: Callable[[], None],
) -> None:
    """Close, for ever, each connection whose head has been arriving for over ``timeout_s()``."""
    while True:
        timeout = timeout_s()
        await asyncio.sleep(min(timeout / 4, SWEEP_MAX_INTERVAL_S))
        late = clock() - timeout
        for conn in list(connections()):
            if 0 < conn.head_started < late:
                conn.abort_slow()
                on_close()
