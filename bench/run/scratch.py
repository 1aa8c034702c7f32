"""The run's scratch folder (worker task and result files), and the clean-up of dead runs' ones.

A run's scratch folder is removed when the run ends, however it ends, except when the runner
itself is killed (SIGKILL, the OOM killer): nothing of it runs then. So each folder holds an
exclusive ``flock`` on its ``.lock`` file for as long as its run lives; the kernel drops the
lock when the process dies, whatever killed it. Each run, new or resumed, first removes the
``flagbench-*`` folders whose lock it can take: those of dead runs, never a live run's (its
lock is held) nor a folder without a lock file (not made this way: left alone). A folder is
locked before it gets its ``flagbench-`` name, so no run ever sees it unlocked.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

PREFIX = "flagbench-"
LOCK = ".lock"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def remove_stale(root: Path | None = None) -> list[Path]:
    """Remove the scratch folders of dead runs under ``root`` (the temporary folder); return
    what was removed."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            fd = os.open(folder / LOCK, os.O_RDONLY)  # not inherited by children (PEP 446)
        except OSError:  # no lock file: not a scratch folder of this kind; or not ours to open
            continue
        try:
            if _try_lock(fd):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        finally:
            os.close(fd)
    return removed


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A new scratch folder, locked for the life of this process, removed on the way out;
    dead runs' folders are removed first."""
    remove_stale()
    fresh = Path(tempfile.mkdtemp(prefix=f".{PREFIX}new-"))
    fd = os.open(fresh / LOCK, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: nobody else holds it
        folder = fresh.with_name(f"{PREFIX}{fresh.name.removeprefix(f'.{PREFIX}new-')}")
        fresh.rename(folder)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(fd)
        with suppress(FileNotFoundError):
            shutil.rmtree(fresh)  # only if the rename failed
