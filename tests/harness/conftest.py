"""Run the real ``flagbench`` CLI, as a user would.

``run_cli`` runs a command in the test's own process, through the same ``bench.cli.main(argv)``
that ``python -m bench`` calls, with its output captured and the warnings a fresh interpreter
would print: the tests call it about a hundred times, and each subprocess would start Python
and load pandas again (about 0.7 s of CPU). A run's own processes (its trial workers, its
flag server) are started as they always are. A call that names an environment or a working
folder, or asks ``--verbose`` (whose worker output goes to the process's own stderr), runs in
a subprocess; so does every test that stops a run with a signal."""

from __future__ import annotations

import contextlib
import faulthandler
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

IN_PROCESS = frozenset({"run", "suite", "compare", "report", "list", "collect"})


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


def in_process(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``python -m bench ARGS`` run by ``main`` here: its exit status and what it printed,
    warnings included (shown as a fresh interpreter shows them, each once per place). A call
    still running after ``timeout`` ends this test process with every thread's traceback, as a
    subprocess's timeout would have ended the test, instead of hanging the session."""
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
        faulthandler.dump_traceback_later(timeout, exit=True, file=sys.__stderr__)
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's refusals
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            faulthandler.cancel_dump_traceback_later()
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "bench", *args], code, out.getvalue(), err.getvalue()
    )


def run_flagbench(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``flagbench``, in this process when nothing about the process (its environment, its
    folder, its own stderr) is asked for."""
    verbose = "--verbose" in args or "-v" in args
    if args and args[0] in IN_PROCESS and env is None and cwd is None and not verbose:
        return in_process(*args, timeout=timeout)
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
