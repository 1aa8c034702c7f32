"""SIGTERM and SIGHUP stop a run the way Ctrl-C does, instead of killing it where it stands.

Python's default for SIGTERM ends the process at once: no ``finally`` runs, so the worker's
process group, the flag server and the scratch folder would outlive the run and its folder
would hold no tables. Raising an exception instead unwinds the same cleanup path as
KeyboardInterrupt. It derives from BaseException, like KeyboardInterrupt, so no
``except Exception`` on the way can swallow it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from bench._subprocess import STOPS

STOP_SIGNALS = tuple(s for s in STOPS if s != signal.SIGINT)  # Ctrl-C raises already


class Terminated(BaseException):
    """The run was asked to stop by a signal; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum  # what a shell reports for a process killed by it


def _raise(signum: int, frame: FrameType | None) -> None:
    for sig in STOP_SIGNALS:  # one stop is enough: let the cleanup run to its end
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Terminated (main thread only: elsewhere
    Python cannot set handlers, and the caller's own handling stays as it was)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
