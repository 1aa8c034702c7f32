"""The harness's errors. The CLI turns each into one line on stderr and exit status 2."""

from __future__ import annotations


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
