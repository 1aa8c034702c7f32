"""What a suite runs: each configuration a strategy can tell apart once, warm-ups kept short.

A strategy that caps an axis (sequential declares ``max_concurrency = 1``) cannot observe that
axis above its cap, so in a sweep over C it would repeat identical trials once per C value. It
runs once per distinct configuration it observes (``bench.define.workload.observed``); the summary
then gives that measurement a row for every workload it stands for, naming the workload that
was measured in ``measured_on``. Warm-up rounds exist to warm the OS caches and the server, not
to measure, so each warm-up trial is cut to about ``WARMUP_BUDGET_S`` of expected waiting (never
less than one round of C requests).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import strategies
from bench.define.sweeps import observed
from bench.define.workload import Workload

WARMUP_BUDGET_S = 2.0
_MIN_JOB_S = 0.001  # a job's floor when the server adds no latency: the harness's own cost


@functools.cache
def strategy_class(name: str) -> object:
    """The strategy, for its declared caps; a strategy that cannot be loaded (a plugin gone since
    the run) declares none."""

    try:
        return strategies.get(name)
    except strategies.StrategyError:
        return object()


def job_wait_s(w: Workload) -> float:
    """Expected network wait of one job: the image, plus its metadata when fetched."""
    wait = w.latency.model.mean_s
    if w.metadata:
        wait += (w.metadata_latency or w.latency).model.mean_s
    return wait


def job_seconds(w: Workload) -> float:
    """Expected seconds one job keeps a slot busy: its requests' mean latency plus CPU work."""
    cpu = w.cpu_work.seconds
    return max(job_wait_s(w) + cpu, _MIN_JOB_S)


def effective_concurrency(strategy: object, w: Workload) -> int:
    """The workload's C as the strategy sees it: less for one that declares
    ``max_concurrency`` (sequential)."""
    return observed(w, strategy).concurrency


def measured_configs(configs: Sequence[tuple[str, Workload]]) -> list[tuple[str, Workload]]:
    """The configurations to run: the first of each group a strategy cannot tell apart."""
    seen: set[tuple[str, Workload]] = set()
    out = []
    for name, w in configs:
        key = (name, observed(w, strategy_class(name)))
        if key not in seen:
            seen.add(key)
            out.append((name, w))
    return out


def stands_for(configs: Sequence[tuple[str, Workload]]) -> dict[tuple[str, str], str]:
    """(strategy, workload_id) -> the workload_id actually measured for it."""
    first: dict[tuple[str, Workload], str] = {}
    out = {}
    for name, w in configs:
        key = (name, observed(w, strategy_class(name)))
        out[(name, w.workload_id)] = first.setdefault(key, w.workload_id)
    return out


def warmup_workload(name: str, w: Workload) -> Workload:
    """``w`` cut to about ``WARMUP_BUDGET_S`` of waiting, and at least one round of C jobs."""
    c = effective_concurrency(strategy_class(name), w)
    rounds = max(1, math.floor(WARMUP_BUDGET_S / job_seconds(w)))
    n = min(w.jobs_count(), rounds * c)
    return w if n >= w.jobs_count() else dataclasses.replace(w, n_jobs=n)
