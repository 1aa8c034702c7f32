"""Checks made before anything runs, so a run never fails half-way for a reason known up front."""

from __future__ import annotations

import dataclasses
import resource
import subprocess
from collections.abc import Callable
from urllib.parse import urlsplit

from flags_server.config import is_loopback_host

from ._exceptions import RemoteRefused, SpecError
from ._process import PROJECT_ROOT, worker_env
from .pythons import resolve_python
from .spec import Suite

FDS_PER_CONNECTION = 2  # the socket, plus slack for pipes, files and the event loop
FDS_BASE = 256


def check_remote(suite: Suite, server_url: str | None, allow_remote: bool, cap: int,
                 warn: Callable[[str], None]) -> Suite:  # fmt: skip
    """Refuse non-loopback targets unless allowed; then cap concurrency (it is someone's site).

    A dask scheduler elsewhere counts too: its workers send the requests from other machines.
    ``cap`` is 20 unless the user raised it on purpose (``--remote-concurrency-cap``).
    """
    for w in suite.workloads:
        if w.scheduler and not allow_remote and not _is_loopback(w.scheduler):
            raise RemoteRefused(
                f"--dask-scheduler {w.scheduler}: not a loopback address; flagbench only uses "
                "clusters on this machine unless you pass --allow-remote (and then "
                f"concurrency is capped at {cap})"
            )
    remote = any(w.scheduler and not _is_loopback(w.scheduler) for w in suite.workloads)
    if not remote and (server_url is None or _is_loopback(server_url)):
        return suite
    if not allow_remote:
        raise RemoteRefused(
            f"--server {server_url}: not a loopback address; flagbench only benchmarks servers "
            "on this machine unless you pass --allow-remote (and then concurrency is capped at "
            f"{cap})"
        )
    capped = []
    for w in suite.workloads:
        if w.concurrency > cap:
            warn(f"remote server: concurrency {w.concurrency} capped at {cap}")
            w = dataclasses.replace(w, concurrency=cap)
        capped.append(w)
    return dataclasses.replace(suite, workloads=tuple(capped))


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def raise_open_files_limit(suite: Suite, warn: Callable[[str], None]) -> None:
    """Lift the soft open-files limit to the hard one; say so when C still would not fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    need = FDS_BASE + FDS_PER_CONNECTION * max(w.concurrency for w in suite.workloads)
    if soft != resource.RLIM_INFINITY and need > soft:
        warn(f"open-files limit is {soft}, concurrency may need about {need}: "
             "requests may fail with 'Too many open files' (raise it with ulimit -n)")  # fmt: skip


_CAN_RUN = ("import sys, aiohttp, requests, bench.worker, strategies\n"
            "for name in sys.argv[1:]: strategies.get(name)")


def check_pythons(suite: Suite) -> None:
    """Every interpreter the suite names must import the worker and find the suite's strategies
    (registered in that interpreter's installed metadata), asked up front."""
    for spec in sorted({w.python for w in suite.workloads if w.python}):
        exe = resolve_python(spec)
        proc = subprocess.run([exe, "-c", _CAN_RUN, *suite.strategies], env=worker_env(),
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise SpecError(
                f"python = {spec!r} ({exe}) cannot run flagbench's worker: {last}; "
                f"install it there with: {exe} -m pip install -e {PROJECT_ROOT}"
            )


def check_strategies(suite: Suite) -> None:
    """Every strategy the suite names can be built and can honour each of its workloads (its
    client library, event loop, optional libraries), asked before anything is written: a
    broken plugin or a client a strategy cannot use is one line (StrategyError), not a run of
    failed trials."""
    import strategies
    from strategies.clients import check

    from .worker import settings_for

    built = {name: strategies.get(name) for name in suite.strategies}
    for name, w in suite.configs():
        check(built.get(name) or strategies.get(name),
              settings_for(w, None, 0.01, calibrate=False))  # fmt: skip
