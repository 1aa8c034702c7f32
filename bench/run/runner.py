"""The parent side of a run: server, trials in fresh worker processes, results folder.

Each trial goes: apply the workload's server settings through ``/_config`` -> reset ``/_stats``
-> start ``python -m bench.run.worker`` in its own process group -> wait, up to the watchdog ->
read ``/_stats`` once the server has settled -> save ``raw/trial-NNNNN.json``. The worker's
process group is killed as a whole, so a hung strategy cannot leave pool processes behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import strategies
from bench import system
from bench._exceptions import HarnessError, RunDirError, RunStopped, SpecError
from bench.define.plan import effective_concurrency, job_wait_s, strategy_class
from bench.define.pythons import resolve_python
from bench.define.spec import Suite, Trial
from bench.define.workload import Workload
from bench.results import accounting, collect, openloop, store
from bench.results.records import SCHEMA_VERSION, TrialResult, WorkerResult, WorkerTask
from bench.run import metadata
from bench.run.checks import (
    check_remote,
    check_schedulers,
    check_size,
    check_strategies,
    prepare_pythons,
    raise_open_files_limit,
    unavailable_strategies,
)
from bench.run.interpreters import TrialPython
from bench.run.process import run_worker
from bench.run.scratch import scratch_dir
from bench.run.server import (
    HealthWatch,
    apply_workload,
    check_alive,
    check_server,
    serving,
    trial_counts,
    zero_counts,
)
from bench.run.signals import Terminated, stop_signals_raise
from bench.run.trial_ideal import draws_for, io_ideal, with_blocking_ideal
from flags_server import AdminClient, AdminError

REMOTE_CONCURRENCY_CAP = 20


@dataclass
class RunOptions:
    results_root: Path = Path("results")
    server_url: str | None = None  # an external flag server instead of the embedded one
    allow_remote: bool = False
    remote_cap: int = REMOTE_CONCURRENCY_CAP
    verbose: bool = False  # per-trial progress bars from the worker
    venv_dir: Path | None = None  # the interpreters' venvs (default: bench.run.venvs.cache_dir())
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    warn: Callable[[str], None] = lambda message: None
    note: Callable[[str], None] = lambda message: None  # what the harness is doing, if slow
    on_trial: Callable[[TrialResult], None] = lambda result: None
    on_start: Callable[[Path, int], None] = lambda run_dir, n_left: None


@dataclass
class RunOutcome:
    run_dir: Path
    n_trials: int
    n_failed: int


# ---------------------------------------------------------------- trials


def watchdog_for(w: Workload, concurrency: int, suite: Suite) -> float:
    """An upper bound that a working strategy cannot reach: every request timing out, retried."""
    if suite.watchdog_s is not None:
        return suite.watchdog_s
    per_job = (2 if w.metadata else 1) * (1 + w.retries) * (w.timeout_s + 1.0)
    rounds = math.ceil(w.jobs_count() / concurrency)
    cpu_s, save_s = w.blocking_steps_s()
    schedule_s = w.jobs_count() / w.rate + w.ramp.seconds if w.rate > 0 else 0.0
    return 30.0 + rounds * per_job + 4 * w.jobs_count() * (cpu_s + save_s) + schedule_s


def run_trial(
    trial: Trial,
    srv: AdminClient,
    suite: Suite,
    options: RunOptions,
    scratch: Path,
    python: str | None = None,
) -> TrialResult:
    """One trial, start to finish; always returns a result (a failed one says why).

    ``python`` is the executable to run the worker with (see ``prepare_pythons``); by default
    the workload's interpreter itself."""
    w = trial.workload
    codes = w.codes_list()
    concurrency = effective_concurrency(strategy_class(trial.strategy), w)
    apply_workload(srv, w)
    draws = draws_for(srv, w, codes)
    latency_s = job_wait_s(w)
    failed = TrialResult(
        trial,
        n_jobs=len(codes),
        concurrency_effective=concurrency,
        latency_mean_s=latency_s,
        ideal_s=openloop.paced_ideal_s(w, io_ideal(draws, concurrency), latency_s),
    )
    save_dir = None
    if w.save:
        save_dir = scratch / f"saved-{trial.trial_id}"
        save_dir.mkdir()
    task = WorkerTask(
        trial.strategy,
        w,
        codes,
        srv.flags_url,
        save_dir=str(save_dir) if save_dir else None,
        progress=options.verbose,
        strategy_ref=strategies.ref(trial.strategy),
    )
    task_path = scratch / f"trial-{trial.trial_id}.json"
    result_path = scratch / f"result-{trial.trial_id}.json"
    task_path.write_text(json.dumps(task.to_dict()), encoding="utf-8")
    cmd = [
        python or resolve_python(w.python),
        "-m",
        "bench.run.worker",
        str(task_path),
        str(result_path),
    ]

    counts_error = zero_counts(srv)
    failure = run_worker(
        cmd,
        watchdog_for(w, concurrency, suite),
        scratch / f"stderr-{trial.trial_id}.txt",
        options.verbose,
        watch=HealthWatch(srv, trial),
    )
    if failure:
        check_alive(srv, trial)
        return dataclasses.replace(failed, failure=failure)
    result = WorkerResult.from_dict(json.loads(result_path.read_text(encoding="utf-8")))
    server, counts_error = (None, counts_error) if counts_error else trial_counts(srv)
    if server is None:
        check_alive(srv, trial)
    done = dataclasses.replace(
        with_blocking_ideal(failed, draws, result),
        status="ok",
        result=result,
        server=server,
        server_error=counts_error,  # the collector marks counts_match False
        server_cpu_s=server.get("cpu_s") if server else None,  # since the reset
        saved_files=len(os.listdir(save_dir)) if save_dir else 0,
    )
    reason = accounting.failure_of(done)
    return dataclasses.replace(done, status="failed", failure=reason) if reason else done


# ---------------------------------------------------------------- the run


def refuse_imported(run_dir: Path, meta: dict[str, Any], doing: str) -> None:
    """A folder imported from another tool's files has no raw trials to rebuild or resume."""
    source = meta.get("imported_from")
    if source:
        raise RunDirError(
            f"{run_dir}: imported from {source.get('format', 'other')} files, so "
            f"there are no raw trial files to {doing}; import the files again"
        )


def write_tables(run_dir: Path, meta: dict[str, Any]) -> tuple[int, int]:
    """Rebuild every table from ``raw/``; returns (trials, failed trials) measured."""
    refuse_imported(run_dir, meta, "collect")
    tables, summary = collect.collect(
        meta["run_id"],
        store.load_raw(run_dir),
        meta["spec"]["baseline"],
        Suite.from_dict(meta["spec"]),
    )
    store.save_tables(run_dir, tables, summary)
    trials = tables["trials"]
    return len(trials), int((trials["status"] != "ok").sum()) if len(trials) else 0


def finish_run(
    run_dir: Path,
    meta: dict[str, Any],
    complete: bool,
    stopped: str = "",
    cpu_start: system.CpuSample | None = None,
) -> tuple[int, int]:
    """Tables from every finished trial, and the run's end in ``meta.json`` (with why it
    stopped early, if it did, and who kept the CPUs busy while it ran)."""
    n_trials, n_failed = write_tables(run_dir, meta)
    use = system.cpu_use(cpu_start) if cpu_start is not None else None
    if use is not None:  # over every part of the run: a resumed one's too
        meta["cpu_during_run"] = use.after(meta.get("cpu_during_run")).to_dict()
    meta.update(
        ended=metadata.now_iso(),
        complete=complete,
        stopped=stopped or None,
        n_trials=n_trials,
        n_failed=n_failed,
        loadavg_at_end=metadata.load_average(),
    )
    store.write_json_atomic(run_dir / "meta.json", meta)
    return n_trials, n_failed


def interpreters_meta(meta: dict[str, Any], pythons: dict[str, TrialPython]) -> list[dict]:
    """``meta.json``'s list of the interpreters the run used; a resumed run adds any new one."""
    listed = list(meta.get("interpreters", []))
    for p in pythons.values():
        entry = p.meta()
        if not any(
            (e["requested"], e["executable"], e["version"])
            == (entry["requested"], entry["executable"], entry["version"])
            for e in listed
        ):
            listed.append(entry)
    return listed


def start_run(suite: Suite, options: RunOptions) -> tuple[Path, dict[str, Any]]:
    """A new run folder with its ``meta.json``; nothing is left behind when it cannot be made."""
    root = options.results_root
    try:
        run_dir = store.new_run_dir(root, suite.name)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            why = "it, or a folder above it, is a file"
        raise RunDirError(f"cannot make a run folder in {root}: {why}") from None
    meta = {
        "run_id": run_dir.name,
        "suite": suite.name,
        "source": suite.source,
        "command": options.command,
        "spec": suite.to_dict(),
        "seed": suite.seed,
        # external: the user's --server, which a resumed run must keep (see resume_options)
        "server": {
            "seed": suite.seed,
            **suite.server,
            "url": options.server_url,
            "external": bool(options.server_url),
        },
        "remote": {
            "allowed": options.allow_remote,
            "concurrency_cap": options.remote_cap,
            "cap_raised": options.remote_cap != REMOTE_CONCURRENCY_CAP,
        },
        **metadata.machine(),
        "packages": metadata.package_versions(),
        "git_commit": metadata.git_commit(),
        "started": metadata.now_iso(),
        "schema": SCHEMA_VERSION,
        "ended": None,
        "complete": False,
        "stopped": None,
    }
    try:
        store.write_json_atomic(run_dir / "meta.json", meta)
    except OSError as exc:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise RunDirError(f"cannot write {run_dir / 'meta.json'}: {exc.strerror or exc}") from None
    return run_dir, meta


def suite_of(run_dir: Path) -> Suite:
    """The suite a stored run was started with, to resume it exactly."""
    meta = store.read_meta(run_dir)
    refuse_imported(run_dir, meta, "resume")
    return Suite.from_dict(meta["spec"])


def _stop_reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot write the results: {exc.strerror or exc}{where}"
    if isinstance(exc, (Terminated, HarnessError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _finish_stopped(
    run_dir: Path, meta: dict[str, Any], reason: str, cpu_start: system.CpuSample | None = None
) -> str:
    """Tables of what finished, in a run that stopped early; the reason, completed."""
    try:
        finish_run(run_dir, meta, complete=False, stopped=reason, cpu_start=cpu_start)
    except OSError as exc:  # the disk that stopped the run may refuse the tables too
        return f"{reason} (the tables were not written either: {exc.strerror or exc})"
    return reason


def _external_url(meta: dict[str, Any]) -> str | None:
    """The ``--server`` a stored run ran on; None for the embedded server. (Runs from before
    ``server.external`` was written are told apart by their command line.)"""
    server = meta.get("server") or {}
    external = server.get("external")
    if external is None:
        external = any(
            a == "--server" or a.startswith("--server=") for a in meta.get("command", [])
        )
    return str(server.get("url")) if external and server.get("url") else None


def _same_site(a: str, b: str) -> bool:
    try:
        return AdminClient.for_site(a).base_url == AdminClient.for_site(b).base_url
    except AdminError:
        return a == b


def resume_options(run_dir: Path, meta: dict[str, Any], options: RunOptions) -> RunOptions:
    """A resumed run goes on with the server it started on: its ``--server`` (given again or
    not), or the embedded one; another server is refused in one line, since trials of one
    run measured on two servers are not one run."""
    url = _external_url(meta)
    given = options.server_url
    if url is None and given:
        raise SpecError(
            f"--resume {run_dir}: that run used the embedded flag server; resume it without "
            f"--server (not on {given})"
        )
    if url is not None and given and not _same_site(url, given):
        raise SpecError(
            f"--resume {run_dir}: that run used the flag server {url}; resume it on that "
            f"server (--server {url}, or no --server), not on {given}"
        )
    if url is None:
        return options
    remote = meta.get("remote") or {}
    return dataclasses.replace(
        options,
        server_url=url,
        allow_remote=options.allow_remote or bool(remote.get("allowed")),
        remote_cap=int(remote.get("concurrency_cap", options.remote_cap)),
    )


def run_suite(suite: Suite, options: RunOptions, resume: Path | None = None) -> RunOutcome:
    """Run every trial not yet done (all, or what ``resume`` still lacks).

    Every check is made, and the flag server started, before the run folder is made: a bad
    setting leaves nothing behind. Once it exists, any stop (Ctrl-C, SIGTERM or SIGHUP, the
    server dying, a write failing) writes the tables of the finished trials and says why in
    ``meta.json`` (``stopped``); the running trial is not saved, and ``--resume`` runs it
    again. KeyboardInterrupt and ``Terminated`` go on to the caller, any other stop becomes
    ``RunStopped``.
    """
    run_dir, meta = resume, store.read_meta(resume) if resume is not None else {}
    if resume is not None:
        options = resume_options(resume, meta, options)
    suite = check_remote(
        suite, options.server_url, options.allow_remote, options.remote_cap, options.warn
    )
    check_strategies(suite)
    check_schedulers(suite)
    pythons = prepare_pythons(suite, options.note, options.venv_dir)
    skipped = unavailable_strategies(suite, pythons)
    planned = [t for t in suite.trials() if (t.workload.python, t.strategy) not in skipped]
    if not planned:
        raise SpecError("nothing can run: " + "; ".join(sorted(set(skipped.values()))))
    for (spec, name), why in skipped.items():
        options.warn(f"{name} skipped on python = {spec or 'this interpreter'!r}: {why}")
    check_server(suite, options.server_url, options.warn)
    raise_open_files_limit(suite, options.warn)
    done = {r.trial.trial_id for r in store.load_raw(run_dir)} if run_dir else set()
    todo = [t for t in planned if t.trial_id not in done]
    check_size(todo, options.warn)
    cpu_start = system.cpu_sample()  # who keeps the CPUs busy from here on (bench.system)
    try:
        with (
            stop_signals_raise(),
            scratch_dir() as tmp,
            serving(suite, options.server_url) as srv,
        ):
            if run_dir is None:
                run_dir, meta = start_run(suite, options)
            meta["spec"] = suite.to_dict()  # a resumed run may have rounds added (--resolve)
            meta["interpreters"] = interpreters_meta(meta, pythons)
            meta["skipped"] = [
                {"python": spec, "strategy": name, "reason": why}
                for (spec, name), why in sorted(skipped.items())
            ]
            meta["server"]["url"] = srv.base_url
            store.write_json_atomic(run_dir / "meta.json", meta)
            options.on_start(run_dir, len(todo))
            for trial in todo:
                result = run_trial(
                    trial, srv, suite, options, Path(tmp), pythons[trial.workload.python].executable
                )
                store.save_raw(run_dir, result)
                done.add(trial.trial_id)
                options.on_trial(result)
        counts = finish_run(run_dir, meta, complete=True, cpu_start=cpu_start)
    except BaseException as exc:
        if run_dir is None:  # stopped before the run folder was made: nothing to keep
            raise
        reason = _finish_stopped(run_dir, meta, _stop_reason(exc), cpu_start)
        if isinstance(exc, (HarnessError, OSError)):
            raise RunStopped(reason, run_dir, len(done), len(planned)) from None
        raise
    return RunOutcome(run_dir, *counts)
