"""Faults survived: a run stopped or hurt in the middle of a trial by a real signal or a full
disk, then checked (and, when it stopped, finished with ``--resume``) from the folder it left."""

from __future__ import annotations

import os
import re
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.results import store
from bench.soak import procs
from bench.soak.runs import Sandbox, finish, last_line, lost_requests, sandbox
from bench.soak.table import Row


@dataclass(frozen=True)
class Stop:
    """A fault, where to strike, and what the run must then do."""

    name: str
    what: str  # the faults column
    strike: Callable[[int, int], None] | None  # (cli pid, worker pid) -> None
    exit_status: int  # what the run must exit with
    says: str  # what its last line must contain
    resume: bool  # a stop: --resume must then finish the run
    strategies: tuple[str, ...] = ("asyncio", "threadpool")
    fsize: int | None = None  # RLIMIT_FSIZE of the run, for a full disk
    timeout_s: float = 1.0  # each request's timeout in the run
    within_s: float | None = None  # the run must have stopped this soon after the strike


def _kill_server(sig: signal.Signals) -> Callable[[int, int], None]:
    def strike(cli: int, worker: int) -> None:
        os.kill(procs.wait_for(procs.find_below(cli, "flags_server"), 10, "flag server"), sig)

    return strike


def _kill_worker(cli: int, worker: int) -> None:
    os.kill(worker, signal.SIGKILL)


def _kill_pool_process(cli: int, worker: int) -> None:
    child = procs.wait_for(lambda: procs.busy_pool_process(worker), 30, "pool process")
    os.kill(child, signal.SIGKILL)


def _signal_runner(sig: signal.Signals) -> Callable[[int, int], None]:
    def strike(cli: int, worker: int) -> None:
        os.kill(cli, sig)

    return strike


STOPS = (
    Stop(
        "server killed",
        "flag server SIGKILL mid-trial",
        _kill_server(signal.SIGKILL),
        2,
        "the flag server died during trial",
        resume=True,
    ),
    Stop(
        "server frozen",
        "flag server SIGSTOP mid-trial",
        _kill_server(signal.SIGSTOP),
        2,
        "the flag server stopped answering during trial",
        resume=True,
        # requests that wait 30 s: the run must stop on the health watch, long before
        timeout_s=30.0,
        within_s=15.0,
    ),
    Stop(
        "worker killed",
        "worker SIGKILL mid-trial",
        _kill_worker,
        1,
        "trials failed: worker killed by SIGKILL",
        resume=False,
    ),
    Stop(
        "child killed",
        "pool process SIGKILL mid-trial",
        _kill_pool_process,
        1,
        "jobs lost with a dead pool process (worker_lost)",
        resume=False,
        strategies=("processpool", "threadpool"),
    ),
    Stop(
        "SIGTERM",
        "SIGTERM to the runner mid-trial",
        _signal_runner(signal.SIGTERM),
        143,
        "flagbench suite --resume",
        resume=True,
    ),
    Stop(
        "Ctrl-C",
        "SIGINT to the runner mid-trial",
        _signal_runner(signal.SIGINT),
        130,
        "flagbench suite --resume",
        resume=True,
    ),
    Stop(
        "disk full",
        "RLIMIT_FSIZE 256 KiB: the larger trials' files do not fit",
        None,
        2,
        "File too large",
        resume=True,
        fsize=256 * 1024,
    ),
)

STRIKE_TRIAL = 3  # a fault strikes while this trial runs: three are saved already


def _suite(stop: Stop, jobs: int, concurrency: int) -> str:
    """Trials of about a second (the larger ones of a full disk no longer: lower latency)."""
    sizes = f"[{jobs}, {jobs * 20}]" if stop.fsize else str(jobs)
    latency = "5ms" if stop.fsize else "100ms"
    names = ", ".join(f'"{s}"' for s in stop.strategies)
    return (
        f'[suite]\nname = "soak"\nstrategies = [{names}]\nrepeats = 3\nwarmup = 0\n'
        f'seed = 7\n[server]\ntimeout_hold_s = 2.0\n[[workloads]]\ncodes = "all"\n'
        f'n_jobs = {sizes}\nconcurrency = {concurrency}\nlatency = "{latency}"\n'
        f"timeout_s = {stop.timeout_s}\nerror_rate = 0.05\nreset_rate = 0.02\n"
    )


def _fsize_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def survive(stop: Stop, jobs: int = 200, concurrency: int = 20) -> Row:
    """Run a six-trial suite, strike, check the exit and the line, resume if it stopped."""
    started = time.monotonic()
    with sandbox() as box:
        suite = box.root / "soak.toml"
        suite.write_text(_suite(stop, jobs, concurrency))
        args = ("suite", str(suite), "--out", str(box.out), "--no-report")
        proc = box.start(*args, preexec=_fsize_limit(stop.fsize) if stop.fsize else None)
        if stop.strike is not None:
            worker = procs.wait_for(
                procs.find_below(proc.pid, f"trial-{STRIKE_TRIAL}.json"),
                300,
                f"trial {STRIKE_TRIAL}",
            )
            time.sleep(0.5)  # inside the trial: the worker has started its requests
            stop.strike(proc.pid, worker)
        struck = time.monotonic()
        code, stderr = finish(proc)
        took = time.monotonic() - struck
        left = box.left_over(proc.pid)
        first = f"exit {code}: {_why(stderr)}"
        sizes = f"{jobs} and {jobs * 20}" if stop.fsize else f"{jobs}"
        n_trials = len(stop.strategies) * 3 * (2 if stop.fsize else 1)
        row = Row(
            stop.name,
            f"{n_trials} trials of {sizes} requests, C = {concurrency}",
            stop.what,
            first,
            left_over=left,
        )
        row.passed = code == stop.exit_status and stop.says in stderr
        if stop.within_s is not None:
            row.result += (
                f"; stopped {took:.1f} s after the fault (requests wait {stop.timeout_s:g} s)"
            )
            row.passed = row.passed and took < stop.within_s
        if stop.resume:
            resumed = box.start("suite", "--resume", str(box.run_dir()), "--no-report")
            again, again_err = finish(resumed)
            row.left_over += box.left_over(resumed.pid)
            row.passed = row.passed and again == 0
            row.result += f"; --resume: exit {again}" + (f" ({_why(again_err)})" if again else "")
        _describe(row, box)
    row.seconds = time.monotonic() - started
    return row


def _describe(row: Row, box: Sandbox) -> None:
    """Add what the folder holds in the end: trials ok and failed, requests lost, peak RSS."""
    run = store.load(box.run_dir())
    t = run.trials
    ok = t[t["status"] == "ok"]
    row.lost = lost_requests(ok)
    row.rss_mib = float(t["rss_peak_mib"].max()) if t["rss_peak_mib"].notna().any() else None
    row.result += f"; in the end {len(ok)}/{len(t)} trials ok" + (
        "" if run.meta["complete"] else ", run incomplete"
    )
    row.passed = row.passed and row.lost == 0 and row.left_over == 0 and run.meta["complete"]


_WHY = re.compile(
    r"flagbench: (?:error: )?(?P<why>.*?)(?:; \d+ of \d+ trials saved in .*"
    r"| \(the trials table's failure column.*|; finished trials are saved.*)?$"
)


def _why(stderr: str) -> str:
    """The run's own account of its end, without the paths: the error, the failures, or the
    signal that stopped it."""
    for line in reversed(stderr.strip().splitlines()):
        match = _WHY.match(line.strip())
        if match and not line.strip().startswith("flagbench suite --resume"):
            return re.sub(r"(?<= )/\S*/", "", match["why"])  # file names without their folders
    return last_line(stderr)
