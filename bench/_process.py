"""The harness's child processes: started in their own process group, watched, always reaped.

A strategy can start threads and pool processes of its own, and a hung one must not leave any
behind, so the worker leads a new process group and the whole group is killed on a watchdog
timeout or Ctrl-C. The short-lived helpers (an interpreter's probe, ``venv``, ``pip``) are held
to the same rule: pip starts build processes of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import suppress
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_captured(cmd: list[str], timeout: float, env: dict[str, str] | None = None,
                 cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run ``cmd`` to the end and capture its text output; on a timeout (TimeoutError) or
    Ctrl-C its whole process group is killed first."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
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


def run_worker(cmd: list[str], watchdog: float, err_path: Path, verbose: bool) -> str:
    """Run the worker in its own process group; the failure in one line, "" on success."""
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, env=worker_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=None if verbose else err,
                                start_new_session=True)  # fmt: skip
        try:
            rc = proc.wait(timeout=watchdog)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            return f"watchdog: no result after {watchdog:.0f} s; worker killed"
        except BaseException:  # Ctrl-C: take the whole group down before going on
            kill_group(proc)
            raise
    if rc != 0:
        lines = err_path.read_text(errors="replace").strip().splitlines()
        last = "see its output above" if verbose else lines[-1] if lines else "no output"
        return f"worker exited with status {rc}: {last}"
    return ""
