"""The parent side of a run: server, trials in fresh worker processes, results folder.

Each trial goes: apply the workload's server settings through ``/_config`` -> reset ``/_stats``
-> start ``python -m bench.worker`` in its own process group -> wait, up to the watchdog ->
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
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flags_server import (
    AdminClient,
    AdminError,
    ConfigError,
    ServerConfig,
    ServerStartError,
    running,
)
from flags_server.latency import parse_latency

from . import collect, ideal, metadata, store
from ._exceptions import HarnessError, SpecError
from ._process import run_worker
from .checks import check_pythons, check_remote, check_strategies, raise_open_files_limit
from .pythons import resolve_python
from .records import SCHEMA_VERSION, TrialResult, WorkerResult, WorkerTask
from .spec import Suite, Trial
from .workload import Workload, parse_cpu_work

REMOTE_CONCURRENCY_CAP = 20


@dataclass
class RunOptions:
    results_root: Path = Path("results")
    server_url: str | None = None  # an external flag server instead of the embedded one
    allow_remote: bool = False
    remote_cap: int = REMOTE_CONCURRENCY_CAP
    verbose: bool = False  # per-trial progress bars from the worker
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    warn: Callable[[str], None] = lambda message: None
    on_trial: Callable[[TrialResult], None] = lambda result: None
    on_start: Callable[[Path, int], None] = lambda run_dir, n_left: None


@dataclass
class RunOutcome:
    run_dir: Path
    n_trials: int
    n_failed: int


# ---------------------------------------------------------------- server


def external_server(options: RunOptions) -> AdminClient | None:
    """The client of the ``--server`` the user named, or None for the embedded one."""
    if not options.server_url:
        return None
    try:
        return AdminClient.for_site(options.server_url)
    except AdminError as exc:
        raise SpecError(f"--server: {exc}") from None


def apply_workload(srv: AdminClient, w: Workload) -> None:
    """Put the workload's server settings in place, or stop the run.

    A trial is labelled with its workload's latency and faults, so it must never run on a
    server that did not take them.
    """
    try:
        srv.configure(**w.server_changes())
    except (AdminError, ConfigError) as exc:
        raise HarnessError(
            f"the workload's latency and faults cannot be applied ({w.label}): {exc}"
        ) from None


def check_server(suite: Suite, options: RunOptions) -> None:
    """Before anything is written: an external server takes every workload's settings, and
    says whether its counts can be checked (a refused ``/_stats`` is a warning, not a stop)."""
    srv = external_server(options)
    if srv is None:
        return
    for w in suite.workloads:
        apply_workload(srv, w)
    try:
        srv.reset_stats()
        srv.stats()
    except AdminError as exc:
        options.warn(f"{exc}; trials will run, but their counts cannot be checked against "
                     "the server's (counts_match is False)")  # fmt: skip


@contextmanager
def _server(suite: Suite, options: RunOptions) -> Iterator[AdminClient]:
    external = external_server(options)
    if external is not None:
        yield external
        return
    config = ServerConfig(seed=suite.seed, **suite.server)
    with ExitStack() as stack:
        try:
            srv = stack.enter_context(running(config))
        except ServerStartError as exc:
            raise HarnessError(f"the flag server did not start: {exc}") from None
        yield srv


# ---------------------------------------------------------------- trials


def expected_job_latency(w: Workload) -> float:
    """Expected network wait of one job: the image, plus its metadata when fetched."""
    image = parse_latency(w.latency).mean_s
    if not w.metadata:
        return image
    return image + parse_latency(w.metadata_latency or w.latency).mean_s


def effective_concurrency(trial: Trial) -> int:
    """The workload's C, or less for a strategy that declares ``max_concurrency`` (sequential)."""
    import strategies

    cap = getattr(strategies.get(trial.strategy), "max_concurrency", None)
    return min(cap or trial.workload.concurrency, trial.workload.concurrency)


def ideal_time(srv: AdminClient, w: Workload, codes: list[str], concurrency: int) -> float | None:
    """The exact ideal on this server's own draws (see ``bench.ideal``); None if unknown."""
    try:
        config = srv.config()
    except AdminError:
        return None
    waits = ideal.request_waits(ServerConfig.from_dict(config), codes, w.metadata, w.timeout_s)
    return ideal.scheduled_ideal(waits, concurrency)


def watchdog_for(w: Workload, concurrency: int, suite: Suite) -> float:
    """An upper bound that a working strategy cannot reach: every request timing out, retried."""
    if suite.watchdog_s is not None:
        return suite.watchdog_s
    per_job = (2 if w.metadata else 1) * (1 + w.retries) * (w.timeout_s + 1.0)
    rounds = math.ceil(w.jobs_count() / concurrency)
    cpu = 0.0
    if w.cpu_work:
        cpu = 4 * w.jobs_count() * parse_cpu_work(w.cpu_work)[1] / 1000
    return 30.0 + rounds * per_job + cpu


def _settle(srv: AdminClient) -> dict[str, Any]:
    """The server's stats once it has finished with requests whose clients already left
    (a held timeout ends when the server notices the closed connection)."""
    try:
        return srv.wait_idle()
    except TimeoutError:
        return srv.stats()


def _zero_counts(srv: AdminClient) -> str:
    """Zero the server's counters for the next trial: '', or why its counts cannot be had."""
    try:
        _settle(srv)  # requests the last trial left behind must not count in this one
        srv.reset_stats()
    except AdminError as exc:
        return str(exc)
    return ""


def _trial_counts(srv: AdminClient) -> tuple[dict[str, Any] | None, str]:
    """The server's counts for the trial just run, or None and why not."""
    try:
        return _settle(srv), ""
    except AdminError as exc:
        return None, str(exc)


def run_trial(trial: Trial, srv: AdminClient, suite: Suite, options: RunOptions,
              scratch: Path) -> TrialResult:  # fmt: skip
    """One trial, start to finish; always returns a result (a failed one says why)."""
    w = trial.workload
    codes = w.codes_list()
    concurrency = effective_concurrency(trial)
    apply_workload(srv, w)
    failed = TrialResult(trial, n_jobs=len(codes), concurrency_effective=concurrency,
                         latency_mean_s=expected_job_latency(w),
                         ideal_s=ideal_time(srv, w, codes, concurrency))  # fmt: skip
    save_dir = None
    if w.save:
        save_dir = scratch / f"saved-{trial.trial_id}"
        save_dir.mkdir()
    task = WorkerTask(trial.strategy, w, codes, srv.flags_url,
                      save_dir=str(save_dir) if save_dir else None, progress=options.verbose)  # fmt: skip
    task_path = scratch / f"trial-{trial.trial_id}.json"
    result_path = scratch / f"result-{trial.trial_id}.json"
    task_path.write_text(json.dumps(task.to_dict()), encoding="utf-8")
    cmd = [resolve_python(w.python), "-m", "bench.worker", str(task_path), str(result_path)]

    counts_error = _zero_counts(srv)
    failure = run_worker(cmd, watchdog_for(w, concurrency, suite),
                         scratch / f"stderr-{trial.trial_id}.txt", options.verbose)  # fmt: skip
    if failure:
        return dataclasses.replace(failed, failure=failure)
    result = WorkerResult.from_dict(json.loads(result_path.read_text(encoding="utf-8")))
    server, counts_error = (None, counts_error) if counts_error else _trial_counts(srv)
    return dataclasses.replace(
        failed, status="ok", result=result, server=server,
        server_error=counts_error,  # the collector marks counts_match False
        server_cpu_s=server.get("cpu_s") if server else None,  # since the reset
        saved_files=len(os.listdir(save_dir)) if save_dir else 0,
    )  # fmt: skip


# ---------------------------------------------------------------- the run


def write_tables(run_dir: Path, meta: dict[str, Any]) -> tuple[int, int]:
    """Rebuild every table from ``raw/``; returns (trials, failed trials) measured."""
    tables, summary = collect.collect(meta["run_id"], store.load_raw(run_dir),
                                      meta["spec"]["baseline"])  # fmt: skip
    store.save_tables(run_dir, tables, summary)
    trials = tables["trials"]
    return len(trials), int((trials["status"] != "ok").sum()) if len(trials) else 0


def finish_run(run_dir: Path, meta: dict[str, Any], complete: bool) -> tuple[int, int]:
    """Tables from every finished trial, and the run's end in ``meta.json``."""
    n_trials, n_failed = write_tables(run_dir, meta)
    meta.update(ended=metadata.now_iso(), complete=complete, n_trials=n_trials, n_failed=n_failed)
    store.write_json_atomic(run_dir / "meta.json", meta)
    return n_trials, n_failed


def start_run(suite: Suite, options: RunOptions) -> tuple[Path, dict[str, Any]]:
    run_dir = store.new_run_dir(options.results_root, suite.name)
    meta = {
        "run_id": run_dir.name,
        "suite": suite.name,
        "source": suite.source,
        "command": options.command,
        "spec": suite.to_dict(),
        "seed": suite.seed,
        "server": {"seed": suite.seed, **suite.server, "url": options.server_url},
        "remote": {"allowed": options.allow_remote, "concurrency_cap": options.remote_cap,
                   "cap_raised": options.remote_cap != REMOTE_CONCURRENCY_CAP},
        **metadata.machine(),
        "packages": metadata.package_versions(),
        "git_commit": metadata.git_commit(),
        "started": metadata.now_iso(),
        "schema": SCHEMA_VERSION,
        "ended": None,
        "complete": False,
    }
    store.write_json_atomic(run_dir / "meta.json", meta)
    return run_dir, meta


def suite_of(run_dir: Path) -> Suite:
    """The suite a stored run was started with, to resume it exactly."""
    return Suite.from_dict(store.read_meta(run_dir)["spec"])


def run_suite(suite: Suite, options: RunOptions, resume: Path | None = None) -> RunOutcome:
    """Run every trial not yet done (all, or what ``resume`` still lacks).

    On Ctrl-C the finished trials are saved, the run is marked incomplete, and the
    KeyboardInterrupt goes on to the caller.
    """
    suite = check_remote(suite, options.server_url, options.allow_remote, options.remote_cap,
                         options.warn)
    check_strategies(suite)
    check_pythons(suite)
    check_server(suite, options)
    raise_open_files_limit(suite, options.warn)
    if resume is not None:
        run_dir, meta = resume, store.read_meta(resume)
    else:
        run_dir, meta = start_run(suite, options)
    done = {r.trial.trial_id for r in store.load_raw(run_dir)}
    todo = [t for t in suite.trials() if t.trial_id not in done]
    options.on_start(run_dir, len(todo))
    finished = False
    counts = (0, 0)
    try:
        with tempfile.TemporaryDirectory(prefix="flagbench-") as tmp, _server(suite, options) as srv:
            meta["server"]["url"] = srv.base_url
            for trial in todo:
                result = run_trial(trial, srv, suite, options, Path(tmp))
                store.save_raw(run_dir, result)
                options.on_trial(result)
        finished = True
    finally:
        if resume is None and not (run_dir / "raw").exists():
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing finished: no empty run left
        else:
            counts = finish_run(run_dir, meta, complete=finished)
    return RunOutcome(run_dir, *counts)

