"""One round of ``flagbench_bench``: its records checked, then described as a trials-table row.

A round must account for every job (exactly one final record each) and agree with the
server, which counts every request it receives: the rule the harness applies to a trial, so
a lost or invented request fails the test instead of making it faster. The row is built by
``bench.results.collect`` itself, so a benchmark's ``extra_info`` (and a run imported from it) has
the columns of a harness run.
"""

from __future__ import annotations

import math
import os
import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bench.define.spec import Trial
from bench.results import collect
from bench.results.records import RECORD_FIELDS, TrialResult, WorkerResult, record_row
from bench.run.worker import gil_enabled
from strategies.base import Job, ProbeSample, RequestRecord
from strategies.classify import CONNECTION_REFUSED, classify

_SHOWN = 5  # country codes named in a failure message


class RoundFailed(AssertionError):
    """A round whose counts do not add up; the test fails with this message."""


@dataclass
class RoundData:
    """What one round left behind, gathered outside the measured region."""

    index: int  # 0-based over warm-up and measured rounds
    warmup: bool
    t0: float = math.nan  # perf_counter around the call, for rebasing the records
    t1: float = math.nan
    output: Any = None  # what the target returned
    records: list[RequestRecord] = field(default_factory=list)
    probes: list[ProbeSample] = field(default_factory=list)
    cpu_user_s: float = math.nan
    cpu_sys_s: float = math.nan
    server: dict[str, Any] = field(default_factory=dict)  # /_stats after the round
    saved_files: int = 0


def _records_from_statuses(statuses: Sequence[Any], jobs: Sequence[Job]) -> list[RequestRecord]:
    """One final record per job for a client that only reports statuses (times unknown)."""
    worker = f"{os.getpid()}/unknown"
    out = []
    for job, status in zip(jobs, statuses, strict=True):
        outcome, kind = classify(status)
        out.append(
            RequestRecord(
                job.cc, "flag", 1, math.nan, math.nan, math.nan, status, outcome, kind, 0, worker
            )
        )
    return out


def as_records(output: Any, jobs: Sequence[Job], name: str, where: str) -> list[RequestRecord]:
    """The round's records: what a strategy returns, or built from one HTTP status per job."""
    if isinstance(output, (list, tuple)):
        if all(isinstance(r, RequestRecord) for r in output):
            return list(output)
        is_status = [s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in output]
        if all(is_status):
            if len(output) != len(jobs):
                raise RoundFailed(
                    f"{where}: {name} returned {len(output)} statuses for "
                    f"{len(jobs)} jobs; every job must be accounted for"
                )
            return _records_from_statuses(output, jobs)
        bad = next(o for o, ok in zip(output, is_status, strict=True) if not ok)
        got = f"a list holding {type(bad).__name__} {bad!r:.60}"
    else:
        got = "None" if output is None else f"a {type(output).__name__}"
    raise RoundFailed(
        f"{where}: {name} returned {got}; return its RequestRecords (one per "
        "attempt) or one HTTP status per job (None when no response came)"
    )


def _codes(counter: Counter[str]) -> str:
    codes = sorted(counter.elements())
    more = f" and {len(codes) - _SHOWN} more" if len(codes) > _SHOWN else ""
    return ", ".join(codes[:_SHOWN]) + more


def sent_requests(records: Sequence[RequestRecord]) -> int:
    """Attempts that can have reached the server (attempt 0 is bookkeeping, a refused
    connection never arrived)."""
    return sum(1 for r in records if r.attempt > 0 and r.error_kind != CONNECTION_REFUSED)


def check(
    records: Sequence[RequestRecord], jobs: Sequence[Job], server: dict[str, Any], where: str
) -> None:
    """RoundFailed unless every job has exactly one final record and the server received
    exactly the requests the client says it sent."""
    finals = Counter(r.cc for r in records if r.final)
    wanted = Counter(j.cc for j in jobs)
    lost, extra = wanted - finals, finals - wanted
    if lost or extra:
        parts = []
        if lost:
            parts.append(f"{lost.total()} job(s) without a final record ({_codes(lost)})")
        if extra:
            parts.append(f"{extra.total()} final record(s) too many ({_codes(extra)})")
        raise RoundFailed(
            f"{where}: {len(jobs)} jobs, {finals.total()} final records: " + "; ".join(parts)
        )
    sent, seen = sent_requests(records), server.get("requests")
    if seen != sent:
        raise RoundFailed(
            f"{where}: the client reports {sent} requests, the server received {seen}"
        )


def trial_row(
    trial: Trial,
    data: RoundData,
    wall_s: float,
    n_jobs: int,
    concurrency_effective: int,
    latency_mean_s: float,
    ideal_s: float | None,
) -> dict[str, Any]:
    """The round as one row of the trials table (JSON-ready), built by the collector."""
    rows = [record_row(rec, data.t0) for rec in data.records]
    result = WorkerResult(
        wall_s=wall_s,
        cpu_user_s=data.cpu_user_s,
        cpu_sys_s=data.cpu_sys_s,
        rss_peak_mib=math.nan,
        n_jobs=n_jobs,
        record_fields=RECORD_FIELDS,
        records=rows,
        probes=[[p.kind, p.t - data.t0, p.lag_s] for p in data.probes if p.t >= data.t0],
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        gil_enabled=gil_enabled(),
        pid=os.getpid(),
    )
    done = TrialResult(
        trial,
        n_jobs=n_jobs,
        concurrency_effective=concurrency_effective,
        latency_mean_s=latency_mean_s,
        ideal_s=ideal_s,
        status="ok",
        result=result,
        server=data.server,
        server_cpu_s=data.server.get("cpu_s"),
        saved_files=data.saved_files,
    )
    requests = collect.requests_frame("", [done])
    probes = collect.probes_frame("", [done])
    frame = collect.trials_frame("", [done], requests, probes).drop(columns="run_id")
    return {k: _plain(v) for k, v in frame.iloc[0].to_dict().items()}


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python ones, missing values as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value
