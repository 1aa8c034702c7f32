"""The harness's child processes: started in their own process group, watched, always reaped.

A strategy can start threads and pool processes of its own, and a hung one must not leave any
behind, so the worker leads a new process group and the whole group is killed once the worker
has exited (a pool process can outlive it), on a watchdog timeout, and on Ctrl-C or SIGTERM.
The worker is started so that a Ctrl-C can never leave it running unknown
(``bench._subprocess.started``), and waited for without being reaped (a pidfd), so its
process group id stays its own until the group has been killed. The short-lived helpers (an
interpreter's probe, ``venv``, ``pip``) are held to the same rule: pip starts build processes
of its own.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench._exceptions import WORKER_WRITE_FAILED, WriteError
from bench._subprocess import started
from bench.define.dependencies import PROJECT_ROOT

#: How often a running worker's watch is called (the flag server's health, during a trial).
WATCH_EVERY_S = 1.0


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _exited(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to ``timeout`` for the worker to exit, leaving it unreaped; False on timeout."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfd (old kernel, not Linux): reap it instead
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            return bool(sel.select(timeout))
    finally:
        os.close(fd)


def _last_line(err_path: Path, verbose: bool) -> str:
    if verbose:
        return "see its output above"
    lines = err_path.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no output"


def _watched(
    proc: subprocess.Popen[bytes], watchdog: float, watch: Callable[[], None] | None
) -> bool:
    """Wait for the worker up to ``watchdog`` seconds, calling ``watch`` about every
    ``WATCH_EVERY_S`` meanwhile (it raises to stop the trial); False on the watchdog."""
    deadline = time.monotonic() + watchdog
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if _exited(proc, left if watch is None else min(left, WATCH_EVERY_S)):
            return True
        if watch is not None:
            watch()


def run_worker(
    cmd: list[str],
    watchdog: float,
    err_path: Path,
    verbose: bool,
    watch: Callable[[], None] | None = None,
) -> str:
    """Run the worker in its own process group; the failure in one line, "" on success.

    ``watch`` is called every second or so while the worker runs (the runner's watch on the
    flag server's health); what it raises stops the trial, its worker's group killed first.
    Raises WriteError when the worker could not write its result: the disk, not the trial,
    is at fault, and every later trial would fail the same way.
    """
    with (
        open(err_path, "wb") as err,
        started(  # on the way out, also on Ctrl-C or SIGTERM: the whole group killed
            cmd,
            env=worker_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if verbose else err,
        ) as proc,
    ):
        exited = _watched(proc, watchdog, watch)
    if not exited:
        return f"watchdog: no result after {watchdog:.0f} s; worker killed"
    rc = proc.returncode
    if rc == WORKER_WRITE_FAILED:
        raise WriteError(f"the worker could not write its result: {_last_line(err_path, verbose)}")
    if rc < 0:
        return f"worker killed by {signal.Signals(-rc).name}"
    if rc != 0:
        return f"worker exited with status {rc}: {_last_line(err_path, verbose)}"
    return ""
