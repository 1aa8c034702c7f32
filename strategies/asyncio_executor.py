"""``asyncio_executor``: as ``asyncio``, but blocking steps go through ``loop.run_in_executor``.

The book's flags3_asyncio hands ``save_flag`` to the default executor without awaiting it,
which can report success before the file exists; here the call is awaited, in a
``ThreadPoolExecutor(max_workers=C)`` of its own (the default executor's
``min(32, cpus + 4)`` threads would be a hidden cap). The loop keeps serving the network
while files are written and CPU work runs; pure-Python CPU work still needs the GIL.

Everything else is the ``asyncio`` strategy's, so a difference between the two measures
where the blocking steps run and nothing else.
"""

from __future__ import annotations

from .asyncio_sem import AsyncioStrategy


class AsyncioExecutorStrategy(AsyncioStrategy):
    name = "asyncio_executor"
    description = "as asyncio, with CPU work and saving awaited through loop.run_in_executor"
    rank = 4  # fifth in listings: see strategies.names()
    offload = True
