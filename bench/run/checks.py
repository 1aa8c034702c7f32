"""Checks made before anything runs, so a run never fails half-way for a reason known up front."""

from __future__ import annotations

import dataclasses
import math
import resource
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import Requirement

import strategies
from bench._exceptions import RemoteRefused, SpecError, VenvError
from bench.define import dependencies
from bench.define.plan import effective_concurrency, job_wait_s, strategy_class
from bench.define.pythons import resolve_python
from bench.define.spec import Suite, Trial
from bench.run import venvs
from bench.run.interpreters import TrialPython, WorkerCheck, check_worker, probe
from bench.run.worker import settings_for
from flags_server.config import is_loopback_host
from strategies.clients import check

FDS_PER_CONNECTION = 2  # the socket, plus slack for pipes, files and the event loop
FDS_BASE = 256
#: A run this long (trials, or seconds at least) gets a warning with its estimate before it starts.
LARGE_RUN_TRIALS = 1000
LARGE_RUN_S = 3600.0
#: The harness's own cost per trial (worker start, server reconfiguration, records), as
#: scripts/bench_harness.py measures it; a lower bound of the run's time adds it per trial.
TRIAL_OVERHEAD_S = 0.2


#: How long the one connection to a ``--dask-scheduler`` before the run may take.
SCHEDULER_CONNECT_S = 5.0


def check_remote(
    suite: Suite, server_url: str | None, allow_remote: bool, cap: int, warn: Callable[[str], None]
) -> Suite:
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


def check_schedulers(suite: Suite, timeout_s: float = SCHEDULER_CONNECT_S) -> None:
    """Connect once to each ``--dask-scheduler`` before anything is written: a dead one is one
    line now, not a failure of every trial after its connect timeout."""
    for address in sorted({w.scheduler for w in suite.workloads if w.scheduler}):
        parts = urlsplit(address)
        try:
            with socket.create_connection((parts.hostname or "", parts.port or 0), timeout_s):
                pass
        except OSError as exc:
            why = (
                f"no answer within {timeout_s:g} s"
                if isinstance(exc, TimeoutError)
                else exc.strerror or str(exc)
            )
            raise SpecError(
                f"--dask-scheduler {address}: cannot connect ({why}); start the scheduler "
                "first (dask scheduler), or leave the option out for a LocalCluster per trial"
            ) from None


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
        warn(
            f"open-files limit is {soft}, concurrency may need about {need}: "
            "requests may fail with 'Too many open files' (raise it with ulimit -n)"
        )


def check_strategies(suite: Suite) -> None:
    """Every strategy the suite names can be built and can honour each of its workloads (its
    client library, event loop, optional libraries), asked before anything is written: a
    broken plugin or a client a strategy cannot use is one line (StrategyError), not a run of
    failed trials."""

    built = {name: strategies.get(name) for name in suite.strategies}
    for name, w in suite.configs():
        strategy = built.get(name) or strategies.get(name)
        check(strategy, settings_for(w, None, 0.01, calibrate=False), load=False)
    check_open_loop(suite)


def check_open_loop(suite: Suite) -> None:
    """Open loop needs a strategy that starts each request when it is due (``open_loop = True``
    on its class, see strategies.arrivals); the others are refused before the run."""

    rates = sorted({w.rate for w in suite.workloads if w.rate > 0})
    if not rates:
        return
    able = [n for n in strategies.builtin_names() if getattr(strategies.get(n), "open_loop", False)]
    for name in suite.strategies:
        if not getattr(strategies.get(name), "open_loop", False):
            raise SpecError(
                f"strategy {name!r} cannot run open loop (rate = {rates[0]:g}): it "
                f"starts a request only when one finishes; allowed: {', '.join(able)}"
            )


def prepare_pythons(
    suite: Suite, note: Callable[[str], None], venv_root: Path | None = None
) -> dict[str, TrialPython]:
    """Per ``python`` value of the suite, what its trials run, ready before the run starts.

    The running interpreter, and any interpreter that is itself a virtual environment (the
    user's own, with their packages), are used as they are; any other gets flagbench's cached
    venv with the worker's packages (``bench.run.venvs``), made now if missing. Each must be a
    Python flagbench supports and import the worker, or the run does not start. ``note``
    hears about a venv being made (it takes a while).
    """

    root = venv_root or venvs.cache_dir()
    prepared = {}
    for spec in sorted({w.python for w in suite.workloads}):
        where = f"python = {spec!r}" if spec else "this interpreter"
        try:
            exe = resolve_python(spec)
        except ValueError as exc:
            raise SpecError(f"{where}: {exc}") from None
        base = probe(exe, where)
        if not dependencies.supports(base.version):
            raise SpecError(
                f"{where} ({exe}) is Python {base.version}; flagbench needs Python "
                f"{dependencies.needed_python()}"
            )
        requirements = dependencies.worker_requirements(base.markers)
        names = [Requirement(r).name for r in requirements]
        if not spec or base.is_venv or base.prefix == sys.prefix:
            check = check_worker(exe, names, suite.strategies) if spec else WorkerCheck("")
            if check.error:
                raise SpecError(
                    f"{where} ({exe}) is a virtual environment, which flagbench uses as it is, "
                    f"and cannot run the worker: {check.error}; install the worker's packages "
                    f"there ({exe} -m pip install {' '.join(map(repr, requirements))}) or give "
                    f"its base interpreter, which gets a venv of flagbench's own"
                )
            prepared[spec] = TrialPython(spec, exe, base, None, check)
            continue
        venv = venvs.ensure_venv(base, requirements, root, note, where)
        check = check_worker(venv.python, names, suite.strategies)
        if check.error:
            raise VenvError(
                f"{where}: its venv {venv.path} cannot run the worker: {check.error}; "
                f"delete that folder and it is made again"
            )
        prepared[spec] = TrialPython(
            spec, venv.python, base, str(venv.path), check, venv.built_from_source
        )
    return prepared


def unavailable_strategies(
    suite: Suite, pythons: dict[str, TrialPython]
) -> dict[tuple[str, str], str]:
    """(python, strategy) pairs that cannot run, with why: a strategy that needs what an
    interpreter lacks (``interpreterpool`` before 3.13) says so with ``unavailable()``, asked
    in that interpreter by its worker check, or here for the running one."""
    out = {}
    for spec, python in pythons.items():
        if spec:
            reasons = python.check.unavailable
        else:
            reasons = {}
            for name in suite.strategies:
                why = getattr(strategies.get(name), "unavailable", lambda: "")()
                if why:
                    reasons[name] = why
        for name, why in reasons.items():
            if name in suite.strategies:
                out[(spec, name)] = why
    return out


def least_trial_s(trial: Trial) -> float:
    """A lower bound of one trial's time: its rounds of C requests at the mean latency."""
    w = trial.workload
    concurrency = effective_concurrency(strategy_class(trial.strategy), w)
    return TRIAL_OVERHEAD_S + math.ceil(w.jobs_count() / concurrency) * job_wait_s(w)


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def check_size(trials: Sequence[Trial], warn: Callable[[str], None]) -> None:
    """Say before a very large run starts how large it is: a sweep of sweeps multiplies
    quickly, and 40,000 trials should not begin without a word."""
    seconds = sum(least_trial_s(t) for t in trials)
    if len(trials) >= LARGE_RUN_TRIALS or seconds >= LARGE_RUN_S:
        warn(
            f"{len(trials):,} trials to run, taking at least {_duration(seconds)}; Ctrl-C "
            "stops the run and keeps every finished trial, and --resume goes on from there"
        )
