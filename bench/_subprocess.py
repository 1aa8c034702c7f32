"""Running a command to the end with its output captured, in its own process group, so that a
timeout or Ctrl-C kills and reaps everything it started (used by every stage: a build, a venv,
an interpreter's probe)."""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import suppress
from pathlib import Path


def run_captured(
    cmd: list[str], timeout: float, env: dict[str, str] | None = None, cwd: str | Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to the end and capture its text output; on a timeout (TimeoutError) or
    Ctrl-C its whole process group is killed first."""
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_text_group(proc)
        raise TimeoutError(f"{cmd[0]}: no answer after {timeout:.0f} s") from None
    except BaseException:
        _kill_text_group(proc)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_text_group(proc: subprocess.Popen[str]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
