"""Process pools as the strategies start them: the start method, preloading, stopping.

The default start method is ``forkserver`` where it exists (POSIX), not ``fork``: the
harness's worker runs a heartbeat thread, and forking a process that has threads can copy a
lock some thread held at that instant; Python 3.12+ warns about it. The fork server imports
the modules a pool's children need once, before it forks them, so children start without
importing requests or the strategy again.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from typing import Any

PREFERRED = "forkserver"


def default_start_method() -> str:
    """``forkserver`` where it exists, else the platform's default (``spawn`` on Windows)."""
    methods = multiprocessing.get_all_start_methods()
    return PREFERRED if PREFERRED in methods else methods[0]  # the first is the default


def resolved_start_method(requested: str | None) -> str:
    """The start method a pool of these settings uses."""
    return requested or default_start_method()


def ignore_sigint() -> None:
    """Pool children leave Ctrl-C to the parent, which stops the pool and keeps what finished."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def warm_fork_server(start_method: str | None, preload: Sequence[str]) -> dict[str, Any]:
    """Start the fork server, its modules imported, before the timed region (the harness calls
    a strategy's ``start`` there): it is machinery set up once per process, which ``fork``
    does not need, like the interpreter's own start. The pool's processes are still started
    inside the timed region, as in the book. Returns what it did, for the trial's record."""
    if resolved_start_method(start_method) != "forkserver":
        return {}
    multiprocessing.get_context("forkserver").set_forkserver_preload(["__main__", *preload])
    forkserver.ensure_running()
    return {"fork_server": "started before the timed region"}


def process_pool(
    workers: int,
    start_method: str | None,
    preload: Sequence[str],
    initializer: Callable[..., None] = ignore_sigint,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` on the resolved start method; with the fork
    server, the main module and the modules in ``preload`` are imported there once."""
    context = multiprocessing.get_context(resolved_start_method(start_method))
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["__main__", *preload])
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=initializer, initargs=initargs
    )


def stop_workers(executor: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes now rather than after their current task."""
    terminate = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
