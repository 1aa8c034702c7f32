"""What a test session builds once, however many pytest-xdist workers it is split between.

A session-scoped fixture runs once per worker: with four workers, the report tests' small run
and its report would be made four times. ``built_once`` builds into a folder beside the
workers' own temporary folders, under a lock: the first worker to ask builds it, the others
wait and read what it built. Only for what the tests read and never change.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's temporary folder, the one every worker's folder is in."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """The folder ``name``, built by ``build(folder)`` once per session.

    A build that fails leaves no mark of completion: the next worker to ask tries again and
    fails with its own message, so every test that needed it reports why."""
    root = shared_root(tmp_path_factory)
    folder, done = root / name, root / f"{name}.built"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held only while one worker builds
        try:
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)  # a failed build's leftovers
                folder.mkdir()
                build(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder
