"""A real dask cluster for the tests: ``dask scheduler`` and two ``dask worker`` processes,
started with dask's own command-line tools on loopback, each in its own process group so
that stopping it reaps the workers' nanny children too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT_S = 90.0


def _dask() -> str:
    return str(Path(sys.executable).with_name("dask"))


class CliCluster:
    """``start`` it, use ``address``, ``stop`` it (always: it kills what is left)."""

    def __init__(self, folder: Path, n_workers: int = 2, threads: int = 2) -> None:
        self.folder = folder
        self.n_workers = n_workers
        self.threads = threads
        self.procs: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def _spawn(self, *args: str, log: str) -> None:
        with open(self.folder / log, "wb") as out:
            self.procs.append(
                subprocess.Popen(
                    [_dask(), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.folder,
                    start_new_session=True,
                )
            )

    def start(self) -> CliCluster:
        info = self.folder / "scheduler.json"
        self._spawn(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(info),
            log="scheduler.log",
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not info.exists() or not info.read_text().strip():
            if time.monotonic() > deadline or self.procs[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start: {self._log('scheduler')}")
            time.sleep(0.05)
        self.address = json.loads(info.read_text())["address"]
        for k in range(self.n_workers):
            self._spawn(
                "worker",
                "--scheduler-file",
                str(info),
                "--host",
                "127.0.0.1",
                "--nthreads",
                str(self.threads),
                "--no-dashboard",
                "--dashboard-address",
                "127.0.0.1:0",
                "--local-directory",
                str(self.folder),
                log=f"worker-{k}.log",
            )
        import distributed

        with distributed.Client(self.address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(self.n_workers, timeout=START_TIMEOUT_S)
        return self

    def _log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-500:] if path.exists() else "(no log)"

    def stop(self) -> None:
        for proc in reversed(self.procs):  # workers first, then the scheduler
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []
