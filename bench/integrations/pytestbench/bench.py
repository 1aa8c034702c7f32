"""``flagbench_bench``: a strategy timed by pytest-benchmark's pedantic mode, every round checked.

Each round, outside the measured region: the server settles and its counters are reset (so
every round meets the same latencies and faults, and has counts of its own), and the client's
CPU clock is read. Then the target runs, the only measured part. Then, again outside it, its
records are checked against the server's counts, warm-up rounds included: a round that loses
a job or disagrees with the server fails the test. The rows of the measured rounds go to
``extra_info``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from bench._exceptions import SpecError
from bench.define.plan import job_wait_s
from bench.define.spec import Trial
from bench.define.workload import FIELDS, Workload
from bench.integrations.pytestbench.result import EXTRA_INFO_KEY, BenchResult, Round, extra_info
from bench.integrations.pytestbench.rounds import (
    RoundData,
    RoundFailed,
    as_records,
    check,
    trial_row,
)
from bench.integrations.pytestbench.targets import (
    LoopFactory,
    Target,
    TargetError,
    event_loop,
    resolve,
)
from bench.run.probes import cpu_times
from bench.run.trial_ideal import draws_for, io_ideal
from bench.run.worker import settings_for
from flags_server import ConfigError
from strategies.base import Settings, make_jobs

_SERVER_FIELDS = [f for f in FIELDS if f.configures == "server"]
_WHERE = "flagbench_bench()"


def settle(server: Any) -> dict[str, Any]:
    """The server's stats once requests its clients already left have ended."""
    try:
        return server.wait_idle()
    except TimeoutError:
        return server.stats()


def workload_for(server: Any, given: dict[str, Any]) -> Workload:
    """The workload of the keyword arguments; server fields not given are the server's own
    (from the marker or ``configure``), so the recorded workload is the one that ran. Those
    given are applied to the server."""
    if "python" in given:
        raise TargetError(
            "python: tests run in pytest's interpreter; compare interpreters "
            "with flagbench run --python"
        )
    config = server.config()
    current = {}
    for f in _SERVER_FIELDS:
        value = config.get(f.name, f.default)
        current[f.name] = str(value) if f.kind is str and value is not None else value
    workload = Workload.from_mapping({**current, **given}, _WHERE)
    changes = {f.name: getattr(workload, f.name) for f in _SERVER_FIELDS if f.name in given}
    if changes:
        server.configure(**changes)
    return workload


def _where(index: int, rounds: int, warmup_rounds: int, timed: bool) -> str:
    if not timed:
        return "the untimed run (--benchmark-disable)"
    if index < warmup_rounds:
        return f"warm-up round {index + 1} of {warmup_rounds}"
    return f"round {index - warmup_rounds + 1} of {rounds}"


class FlagbenchBench:
    """The ``flagbench_bench`` fixture's value: call it once per test."""

    def __init__(self, benchmark: Any, server: Any, scratch: Path) -> None:
        self.benchmark = benchmark
        self.server = server
        self.scratch = scratch

    def __call__(
        self,
        target: Any,
        *,
        rounds: int = 5,
        warmup_rounds: int = 1,
        loop_factory: LoopFactory | None = None,
        **workload: Any,
    ) -> BenchResult:
        """Benchmark ``target`` (a strategy name, a strategy object or class, a function
        ``f(jobs, settings)`` or an ``async def`` one) on the workload given by keyword
        (the suite keys: ``n_jobs``, ``concurrency``, ``latency``, ``error_rate``, ...).
        A bad argument or a round that does not add up fails the test with one line."""
        __tracebackhide__ = True
        try:
            return self._checked_call(target, rounds, warmup_rounds, loop_factory, workload)
        except (TargetError, SpecError, ConfigError, RoundFailed) as exc:
            message = f"flagbench_bench: {exc}"
        pytest.fail(message, pytrace=False)  # outside the except: no chained traceback

    def _checked_call(
        self,
        target: Any,
        rounds: int,
        warmup_rounds: int,
        loop_factory: LoopFactory | None,
        workload: dict[str, Any],
    ) -> BenchResult:
        for name, value, low in (("rounds", rounds, 1), ("warmup_rounds", warmup_rounds, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise TargetError(f"{name} = {value!r}: give an integer >= {low}")
        resolved = resolve(target)
        if loop_factory is not None and not resolved.is_async:
            raise TargetError(
                f"loop_factory is for async code; {resolved.name} is a "
                f"{resolved.kind}, which runs no event loop of ours"
            )
        w = workload_for(self.server, workload)
        if self.benchmark.group is None:
            self.benchmark.group = w.label
        loop = event_loop(loop_factory) if resolved.is_async else nullcontext()
        with loop as running:
            return self._run(resolved, w, rounds, warmup_rounds, running)

    def _run(
        self, target: Target, w: Workload, rounds: int, warmup_rounds: int, loop: Any
    ) -> BenchResult:
        server, timed = self.server, not self.benchmark.disabled
        codes = w.codes_list()
        jobs = make_jobs(server.flags_url, codes)
        base = settings_for(w, None, Settings().probe_interval_s)  # calibrates CPU work once
        concurrency = min(w.concurrency, target.max_concurrency or w.concurrency)
        ideal = io_ideal(draws_for(server, w, codes), concurrency)
        call = target.bound(loop)
        started: list[tuple[RoundData, Settings]] = []

        def setup() -> tuple[tuple[RoundData, Settings], dict[str, Any]]:
            index = len(started)
            data = RoundData(index, warmup=timed and index < warmup_rounds)
            settings = base
            if w.save:
                settings = dataclasses.replace(base, save_dir=str(self.scratch / f"round-{index}"))
            started.append((data, settings))
            settle(server)
            server.reset_stats()
            data.cpu_user_s, data.cpu_sys_s = cpu_times()
            return (data, settings), {}

        def one_round(data: RoundData, settings: Settings) -> None:
            data.t0 = time.perf_counter()
            data.output = call(jobs, settings, data.probes)
            data.t1 = time.perf_counter()

        def teardown(data: RoundData, settings: Settings) -> None:
            user, system = cpu_times()
            data.cpu_user_s, data.cpu_sys_s = user - data.cpu_user_s, system - data.cpu_sys_s
            data.server = settle(server)
            if settings.save_dir is not None and os.path.isdir(settings.save_dir):
                data.saved_files = len(os.listdir(settings.save_dir))
            where = _where(data.index, rounds, warmup_rounds, timed)
            data.records = as_records(data.output, jobs, target.name, where)
            data.output = None
            check(data.records, jobs, data.server, where)

        self.benchmark.pedantic(
            one_round,
            setup=setup,
            teardown=teardown,
            rounds=rounds,
            warmup_rounds=warmup_rounds,
            iterations=1,
        )
        if not timed:  # pytest-benchmark ran the body once and skipped the teardown
            teardown(*started[-1])
        measured = [data for data, _ in started if not data.warmup]
        walls = [d.t1 - d.t0 for d in measured]
        stats = getattr(self.benchmark, "stats", None)
        if timed and stats is not None and len(stats.stats.data) == len(measured):
            walls = list(stats.stats.data)
        latency_mean = job_wait_s(w)
        done = []
        for repeat, (data, wall) in enumerate(zip(measured, walls, strict=True)):
            trial = Trial(repeat, target.name, w, repeat)
            row = trial_row(trial, data, wall, len(jobs), concurrency, latency_mean, ideal)
            done.append(
                Round(wall, data.records, data.server, data.cpu_user_s + data.cpu_sys_s, row)
            )
        result = BenchResult(target.name, target.kind, w, concurrency, ideal, tuple(done), timed)
        self.benchmark.extra_info[EXTRA_INFO_KEY] = extra_info(
            result, server.config(), warmup_rounds
        )
        return result
