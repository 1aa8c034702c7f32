"""Children in their own process group, never left behind: started so that a Ctrl-C cannot
lose them, killed with everything they started when the caller is done with them (used by
every stage: a trial's worker, a build, a venv, an interpreter's probe)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

#: What stops a run: Ctrl-C, and the signals ``bench.run.signals`` turns into an exception
#: (the one list of them).
STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Handler = Callable[[int, Any], Any] | int | None


def _hold_stops(pending: list[int]) -> dict[int, Handler]:
    """Note stop signals in ``pending`` instead of acting on them; the handlers to restore.
    Main thread only: Python runs handlers there alone, so nothing elsewhere is interrupted.
    Ignored signals stay ignored; a handler set outside Python cannot be put back, so stays."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {
        sig: signal.signal(sig, lambda signum, frame: pending.append(signum))
        for sig in STOPS
        if signal.getsignal(sig) not in (signal.SIG_IGN, None)
    }


def _restore(previous: dict[int, Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _end(proc: subprocess.Popen[Any]) -> None:
    """Kill the group of a child not yet reaped (its id is still its own), and reap it."""
    if proc.returncode is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    proc.wait()


@contextmanager
def started(cmd: list[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """``Popen(cmd, **popen)`` leading a new process group; when the block ends, however it
    ends, a child not yet reaped is killed with its whole group, and reaped.

    A Ctrl-C that lands inside ``Popen`` raises there after the child is forked but before
    the caller holds it: nothing would ever kill that child, and it would go on writing where
    the run has already cleaned up. So stops wait while the child starts, and one that came
    meanwhile is raised once the child is in hand (and killed on the way out)."""
    pending: list[int] = []
    previous = _hold_stops(pending)
    try:
        proc = subprocess.Popen(cmd, start_new_session=True, **popen)
    except BaseException:
        _restore(previous)
        raise
    try:
        _restore(previous)
        if pending:
            _end(proc)  # first: the caller's handler may end this process outright
            signal.raise_signal(pending[0])
        yield proc
    finally:
        _end(proc)


def run_captured(
    cmd: list[str], timeout: float, env: dict[str, str] | None = None, cwd: str | Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to the end and capture its text output; on a timeout (TimeoutError) or
    Ctrl-C its whole process group is killed first."""
    with started(
        cmd,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{cmd[0]}: no answer after {timeout:.0f} s") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
