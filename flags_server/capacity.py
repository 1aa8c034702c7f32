"""A resizable admission gate for `max_inflight`, emulating a small server.

asyncio.Semaphore cannot change its size, but PUT /_config may change
max_inflight at run time, so the gate keeps its own count and FIFO of waiters.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Gate:
    """At most `limit` holders (None = unlimited); others wait in arrival order."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def has_room(self) -> bool:
        return self.limit is None or self.active < self.limit

    def try_enter(self) -> bool:
        if self._waiters or not self.has_room():
            return False
        self.active += 1
        return True

    async def enter(self) -> None:
        if self.try_enter():
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.leave()
            elif fut in self._waiters:
                self._waiters.remove(fut)
            raise

    def leave(self) -> None:
        self.active -= 1
        self._wake()

    def resize(self, limit: int | None) -> None:
        self.limit = limit
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.has_room():
            fut = self._waiters.popleft()
            if not fut.done():
                self.active += 1
                fut.set_result(None)
