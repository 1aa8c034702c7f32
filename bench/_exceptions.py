"""The harness's errors. The CLI turns each into one line on stderr and exit status 2."""

from __future__ import annotations

import os

#: The worker's exit status when it could not write its result (a full disk): the run stops
#: rather than fail every trial that follows for the same reason.
WORKER_WRITE_FAILED = os.EX_IOERR


class BenchError(Exception):
    """Base class: something the user can fix, explained in one line."""


class SpecError(BenchError):
    """A suite file or a command-line workload has a bad key or value."""


class RunDirError(BenchError):
    """A results folder is missing, unreadable or not a flagbench run."""


class RemoteRefused(BenchError):
    """A benchmark would send traffic to a host that is not loopback without ``--allow-remote``."""


class HarnessError(BenchError):
    """The harness could not do its part (the flag server did not start, say)."""


class VenvError(BenchError):
    """The venv of an interpreter of the ``python`` axis could not be made or cannot be used."""


class ImportFileError(BenchError):
    """A file given to ``flagbench import-pytest-benchmark`` is unreadable or not one it reads."""


class CompareError(BenchError):
    """Runs that cannot be compared as asked (nothing matches, an ambiguous ``--ignore``)."""


class ServerLost(HarnessError):
    """The flag server died or stopped answering during a trial: the run cannot go on."""


class WriteError(HarnessError):
    """Results could not be written (a full disk, a read-only folder): the run cannot go on."""


class RunStopped(HarnessError):
    """A started run stopped before its end; what finished is saved and ``--resume`` finishes it.

    The trial that was running when it stopped is not saved: it did not run to its end under
    the conditions it is labelled with, and the resumed run runs it again.
    """

    def __init__(self, reason: str, run_dir: object, n_saved: int, n_planned: int) -> None:
        super().__init__(f"{reason}; {n_saved} of {n_planned} trials saved in {run_dir}")
        self.reason = reason
        self.run_dir = run_dir
        self.n_saved = n_saved
        self.n_planned = n_planned
