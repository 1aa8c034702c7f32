"""Running ``flagbench`` as a user would, in a child process, and reading what it left."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.soak import procs

CLI_TIMEOUT_S = 1800.0


@dataclass
class Sandbox:
    """A scratch root for one check: results under ``out``, the run's TMPDIR under ``scratch``."""

    root: Path

    @property
    def out(self) -> Path:
        return self.root / "results"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    def env(self) -> dict[str, str]:
        return {**os.environ, "TMPDIR": str(self.scratch)}

    def start(self, *args: str, preexec: Callable[[], None] | None = None) -> subprocess.Popen[str]:
        """``python -m bench ARGS`` with this sandbox's results folder and scratch."""
        return subprocess.Popen(
            [sys.executable, "-m", "bench", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            preexec_fn=preexec,
        )

    def run(self, *args: str, preexec: Callable[[], None] | None = None) -> tuple[int, str]:
        """(exit status, stderr) of ``python -m bench ARGS``."""
        return finish(self.start(*args, preexec=preexec))

    def run_dir(self) -> Path:
        [run_dir] = self.out.iterdir()
        return run_dir

    def left_over(self, cli_pid: int) -> int:
        """Processes of the run still alive (workers, pools, its server), and scratch files."""
        alive = procs.matching(str(self.scratch)) + procs.matching(f"--parent-pid {cli_pid}")
        return len(alive) + len(list(self.scratch.iterdir()))


def finish(proc: subprocess.Popen[str], timeout: float = CLI_TIMEOUT_S) -> tuple[int, str]:
    """Wait for a run; it is killed (and reaped) if it outlives ``timeout``."""
    try:
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stderr


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    with TemporaryDirectory(prefix="flagbench-soak-") as tmp:
        box = Sandbox(Path(tmp))
        box.scratch.mkdir()
        yield box


def lost_requests(trials: Any) -> int:
    """Requests without a final outcome or counted by one side only, over a run's trials."""
    lost = (trials["n_jobs"] - trials["n_ok"] - trials["n_not_found"] - trials["n_error"]).abs()
    unmatched = (trials["server_requests"].astype("float") - trials["n_requests"]).abs()
    return int(lost.sum() + unmatched.fillna(0).sum())


def last_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else ""
