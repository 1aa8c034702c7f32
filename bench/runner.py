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
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flags_server import ServerConfig, ServerStartError, running
from flags_server.latency import parse_latency

from . import collect, ideal, metadata, store
from ._exceptions import HarnessError
from ._process import run_worker
from .checks import check_pythons, check_remote, raise_open_files_limit
from .pythons import resolve_python
from .records import SCHEMA_VERSION, TrialResult, WorkerResult, WorkerTask
from .spec import Suite, Trial
from .workload import Workload

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


class ExternalServer:
    """A flag server we did not start: same calls as ``running()``'s handle, best effort."""

    def __init__(self, url: str) -> None:
        self.base_url = url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.flags_url = self.base_url if parts.path else self.base_url + "/flags"
        self.base_url = f"{parts.scheme}://{parts.netloc}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import requests

        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment between us and the server
            resp = session.request(method, self.base_url + path, json=body, timeout=5)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def stats(self) -> dict[str, Any] | None:
        try:
            return self._call("GET", "/_stats")
        except Exception:  # not a flags_server, or its admin API refuses us
            return None

    def wait_idle(self) -> dict[str, Any] | None:
        return self.stats()  # another's server: read as it is, never wait on it

    def reset_stats(self) -> None:
        with suppress(Exception):
            self._call("POST", "/_stats/reset")

    def configure(self, **changes: Any) -> None:
        with suppress(Exception):
            self._call("PUT", "/_config", changes)

    def config(self) -> dict[str, Any] | None:
        try:
            return self._call("GET", "/_config")
        except Exception:
            return None


@contextmanager
def _server(suite: Suite, options: RunOptions) -> Iterator[Any]:
    if options.server_url:
        yield ExternalServer(options.server_url)
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


def draws_for(srv: Any, w: Workload, codes: list[str]) -> list[ideal.JobDraw] | None:
    """The jobs as this server's draws decide them (see ``bench.ideal``); None if unknown."""
    config = srv.config()
    if not config:
        return None
    return ideal.job_draws(ServerConfig.from_dict(config), codes, w.metadata, w.timeout_s)


def with_blocking_ideal(failed: TrialResult, draws: list[ideal.JobDraw] | None,
                        result: WorkerResult) -> TrialResult:  # fmt: skip
    """The trial's ideal with its blocking steps, spread as the worker says the strategy
    spreads them on the cores it found (older workers say nothing: C workers on C cores)."""
    cpu_s, save_s = failed.trial.workload.blocking_steps_s()
    if draws is None or cpu_s + save_s <= 0:
        return failed
    c = failed.concurrency_effective
    parts = ideal.blocking_ideal(draws, c, cpu_s, save_s, result.cpu_cores or c,
                                 result.blocking_workers or c, result.blocking_in_slot)  # fmt: skip
    return dataclasses.replace(failed, ideal_slots_s=parts.slots_s,
                               cpu_floor_s=parts.cpu_floor_s,
                               blocking_floor_s=parts.blocking_floor_s)  # fmt: skip


def watchdog_for(w: Workload, concurrency: int, suite: Suite) -> float:
    """An upper bound that a working strategy cannot reach: every request timing out, retried."""
    if suite.watchdog_s is not None:
        return suite.watchdog_s
    per_job = (2 if w.metadata else 1) * (1 + w.retries) * (w.timeout_s + 1.0)
    rounds = math.ceil(w.jobs_count() / concurrency)
    cpu_s, save_s = w.blocking_steps_s()
    return 30.0 + rounds * per_job + 4 * w.jobs_count() * (cpu_s + save_s)


def _settle(srv: Any) -> dict[str, Any] | None:
    """The server's stats once it has finished with requests whose clients already left
    (a held timeout ends when the server notices the closed connection)."""
    try:
        return srv.wait_idle()
    except TimeoutError:
        return srv.stats()


def run_trial(trial: Trial, srv: Any, suite: Suite, options: RunOptions,
              scratch: Path) -> TrialResult:  # fmt: skip
    """One trial, start to finish; always returns a result (a failed one says why)."""
    w = trial.workload
    codes = w.codes_list()
    concurrency = effective_concurrency(trial)
    srv.configure(**w.server_changes())
    draws = draws_for(srv, w, codes)
    io_ideal = None if draws is None else ideal.scheduled_ideal([d.wait_s for d in draws],
                                                                 concurrency)  # fmt: skip
    failed = TrialResult(trial, n_jobs=len(codes), concurrency_effective=concurrency,
                         latency_mean_s=expected_job_latency(w), ideal_s=io_ideal)  # fmt: skip
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

    _settle(srv)  # requests the last trial left behind must not count in this one
    srv.reset_stats()
    failure = run_worker(cmd, watchdog_for(w, concurrency, suite),
                         scratch / f"stderr-{trial.trial_id}.txt", options.verbose)  # fmt: skip
    if failure:
        return dataclasses.replace(failed, failure=failure)
    result = WorkerResult.from_dict(json.loads(result_path.read_text(encoding="utf-8")))
    server = _settle(srv)
    return dataclasses.replace(
        with_blocking_ideal(failed, draws, result), status="ok", result=result, server=server,
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
    check_pythons(suite)
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
            if hasattr(srv, "base_url"):
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

