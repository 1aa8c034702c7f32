"""Run the real ``flagbench`` CLI, as a user would: in a subprocess.

The commands that only read run folders and print (``compare``, ``report``, ``list``,
``collect``) run through ``run_cli`` in the test's own process instead, through the same
``bench.cli.main(argv)`` that ``python -m bench`` calls, with their output captured and the
warnings a fresh interpreter would print: the tests call them about fifty times, and each
subprocess would start Python and load pandas again (about 0.8 s of CPU)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

from bench.cli import main

READ_ONLY_COMMANDS = frozenset({"compare", "report", "list", "collect"})


def flagbench(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


def in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m bench ARGS`` run by ``main`` here: its exit status and what it printed,
    warnings included (shown as a fresh interpreter shows them, each once per place)."""
    out, err = io.StringIO(), io.StringIO()

    def show(message, category, filename, lineno, file=None, line=None):
        err.write(warnings.formatwarning(message, category, filename, lineno, line))

    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        warnings.resetwarnings()
        for quiet in (
            DeprecationWarning,
            PendingDeprecationWarning,
            ImportWarning,
            ResourceWarning,
        ):
            warnings.simplefilter("ignore", quiet)  # Python's own defaults
        warnings.showwarning = show
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's refusals
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "bench", *args], code, out.getvalue(), err.getvalue()
    )


def run_flagbench(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``flagbench``, with the read-only commands in this process when nothing about the
    process (its environment, its folder) is asked for."""
    if args and args[0] in READ_ONLY_COMMANDS and env is None and cwd is None:
        return in_process(*args)
    return flagbench(*args, env=env, timeout=timeout, cwd=cwd)


@pytest.fixture(scope="session")
def run_cli():
    return run_flagbench


@pytest.fixture
def isolated_env(tmp_path):
    """Scratch files of the run (worker task files) land in a folder of the test's own, where
    we can see them: ``tmp_path / "scratch"``. It links to a short path in the system's
    temporary folder, because a process pool's socket lives under it and a Unix socket's path
    is limited to 107 bytes (pytest-xdist's worker folders make tmp_path too long for one).
    Processes name the real path: ``(tmp_path / "scratch").resolve()``."""
    env = dict(os.environ)
    scratch = Path(tempfile.mkdtemp(prefix="fb-"))
    (tmp_path / "scratch").symlink_to(scratch, target_is_directory=True)
    env["TMPDIR"] = str(scratch)
    yield env
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def fake_python():
    """Make an executable that answers the interpreter probe as a Python of a given version."""

    def make(folder: Path, version: str, **facts: object) -> str:
        answer = {
            "executable": str(folder / "python"),
            "real_executable": str(folder / "python"),
            "version": version,
            "implementation": "CPython",
            "free_threaded": False,
            "gil_enabled": True,
            "is_venv": False,
            "prefix": str(folder),
            "default_start_method": "fork",
            "markers": {},
            **facts,
        }
        folder.mkdir(parents=True, exist_ok=True)
        exe = folder / "python"
        exe.write_text(f"#!/bin/sh\necho '{json.dumps(answer)}'\n")
        exe.chmod(0o755)
        return str(exe)

    return make
