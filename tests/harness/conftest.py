"""Run the real ``flagbench`` CLI in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


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


@pytest.fixture(scope="session")
def run_cli():
    return flagbench


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
