"""Running the site in the current process until SIGINT or SIGTERM.

Chooses the event loop (uvloop when available: the server must not be the
bottleneck) and shuts down cleanly on Ctrl-C, so `flags-server` and the
child started by `running()` behave the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

from ._exceptions import ConfigError
from .config import ServerConfig
from .guard import raise_open_files_limit
from .listener import SiteRunner


def loop_factory(choice: str) -> tuple[Callable[[], asyncio.AbstractEventLoop], str]:
    """The loop constructor and its name for --loop auto|asyncio|uvloop."""
    if choice in ("auto", "uvloop"):
        try:
            # deferred: an optional event loop, loaded only when chosen
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise ConfigError(
                    "loop='uvloop' but uvloop is not installed; "
                    "pip install uvloop, or use --loop asyncio"
                ) from None
        else:
            return uvloop.new_event_loop, "uvloop"
    return asyncio.new_event_loop, "asyncio"


PARENT_CHECK_S = 0.5


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    """Stop when the process that started us is gone (it cannot reap us then)."""
    while not stop.is_set():
        if os.getppid() != parent_pid:
            stop.set()
            return
        await asyncio.sleep(PARENT_CHECK_S)


async def _serve(
    config: ServerConfig,
    loop_name: str,
    on_ready: Callable[[SiteRunner], None],
    parent_pid: int | None,
) -> None:
    runner = SiteRunner(config, loop_name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    watcher = None
    if parent_pid is not None:
        watcher = asyncio.ensure_future(_watch_parent(parent_pid, stop))
    try:
        await runner.start()
        on_ready(runner)
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await runner.stop()


def serve_forever(
    config: ServerConfig, on_ready: Callable[[SiteRunner], None], parent_pid: int | None = None
) -> None:
    """Serve until a signal arrives; `on_ready` is called once the port is bound.

    With `parent_pid`, also stop when that parent process dies, so a server
    started by running() never outlives a parent killed with SIGKILL.
    Raises ConfigError for bad settings and OSError when the address is taken.
    """
    raise_open_files_limit()  # the connection cap follows the soft limit
    factory, loop_name = loop_factory(config.loop)
    loop = factory()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(_serve(config, loop_name, on_ready, parent_pid))
    except KeyboardInterrupt:
        pass
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
