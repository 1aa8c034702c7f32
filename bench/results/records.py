"""What crosses a process boundary during a run, as small typed, versioned dataclasses.

``WorkerTask`` goes from the runner to the worker, ``WorkerResult`` comes back, and
``TrialResult`` is one finished trial as saved in ``raw/trial-NNNNN.json``: the collector builds
every table from those files alone. Each raw file and ``meta.json`` carry ``schema``; files
written by an older flagbench are brought up to date by ``bench.results.upgrade``, in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bench.define.spec import Trial
from bench.define.workload import Workload
from strategies.base import RequestRecord

#: 1: the first results folders (no "schema" key); 2: typed records, ids from non-default
#: workload values, the baseline named in the summary; 3: the tables' columns of the GIL,
#: client, event-loop, interpreter and load-model axes and of failed accounting (the raw
#: files read as they are, every new field having a default: their tables are rebuilt);
#: 4: when each result reached the caller (``t_delivered``), the consume, spinner and
#: save_wait columns and the delivery moments (read as they are, tables rebuilt); 5: the
#: ``arm`` column, a label for the arms of one run (read as they are, tables rebuilt).
SCHEMA_VERSION = 5
#: The columns of ``WorkerResult.records``: one per RequestRecord field.
RECORD_FIELDS = [f.name for f in dataclasses.fields(RequestRecord)]
#: Record fields that have a default, for records written before the field existed.
RECORD_DEFAULTS = {
    f.name: f.default
    for f in dataclasses.fields(RequestRecord)
    if f.default is not dataclasses.MISSING
}


_TIMES = [i for i, name in enumerate(RECORD_FIELDS) if name.startswith("t_")]


def record_row(rec: RequestRecord, t0: float) -> list[Any]:
    """One record as a row in ``RECORD_FIELDS`` order, its times made seconds since ``t0``
    (a time that is None, as ``t_intended`` in closed loop, stays None)."""
    row = [getattr(rec, name) for name in RECORD_FIELDS]
    for i in _TIMES:
        if row[i] is not None:
            row[i] -= t0
    return row


@dataclass(frozen=True)
class WorkerTask:
    """Everything the worker needs for one trial (``python -m bench.run.worker TASK RESULT``)."""

    strategy: str
    workload: Workload
    codes: list[str]
    flags_url: str
    save_dir: str | None = None
    progress: bool = False
    probe_interval_s: float = 0.01
    strategy_ref: str = ""  # "module:attribute": the worker needs no installed metadata
    schema: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerTask:
        return cls(**{**data, "workload": Workload(**data["workload"])})


@dataclass(frozen=True)
class WorkerResult:
    """What the worker measured. Record times are seconds since the timed region began."""

    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    rss_peak_mib: float
    n_jobs: int
    record_fields: list[str]
    records: list[list[Any]]  # one row per RequestRecord, in record_fields order
    probes: list[list[Any]]  # [kind, t_s, lag_s]
    python: str  # "3.12.4"
    implementation: str = "CPython"
    gil_enabled: bool | None = None  # False on a free-threaded build running without it
    gil_enabled_by: list[str] = dataclasses.field(default_factory=list)  # the modules that
    # turned it back on at import (their RuntimeWarning names them): see bench.gilwatch
    pid: int = 0
    free_threaded: bool | None = None  # built with Py_GIL_DISABLED (a "3.13t")
    # the multiprocessing start method a process-based strategy used; None for strategies
    # that start no processes
    start_method: str | None = None
    switch_interval_s: float | None = None  # in force during the timed region
    background_threads: int = 0  # CPU-bound threads that ran beside the strategy
    background_cpu_s: float = 0.0  # the CPU time they got
    # what the ideal needs (strategies.spread): the cores this process may use, and how far
    # the strategy's blocking steps spread over them; None in files from before they existed
    cores: int | None = None
    cpu_cores: int | None = None
    blocking_workers: int | None = None
    cpu_limit: str = ""  # gil, loop, workers or cores
    blocking_in_slot: bool = False
    client: str = ""  # the HTTP client library that ran ("" if the strategy does not say)
    loop: str = ""  # the event loop ("" for a strategy without one)
    startup_s: float | None = None  # the strategy's set-up before the timed region, if any
    startup: dict[str, Any] = dataclasses.field(default_factory=dict)  # what it set up

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerResult:
        return cls(**data)


@dataclass(frozen=True)
class TrialResult:
    """One trial as the runner saw it; ``status`` is "ok" or "failed" (with ``failure``)."""

    trial: Trial
    n_jobs: int
    concurrency_effective: int  # the C the strategy can use (1 for sequential)
    latency_mean_s: float  # expected network wait of one job
    ideal_s: float | None = None  # the I/O ideal on this server's own draws; None if unknown
    # with the blocking steps (bench.results.ideal.BlockingIdeal); zeros when there are none
    ideal_slots_s: float | None = None  # slots held for the request and the steps in series
    cpu_floor_s: float = 0.0
    blocking_floor_s: float = 0.0
    status: str = "failed"
    failure: str = ""
    result: WorkerResult | None = None
    server: dict[str, Any] | None = None  # the server's /_stats after the trial
    server_error: str = ""  # why ``server`` is missing: its counts could not be read
    server_cpu_s: float | None = None
    saved_files: int = 0
    schema: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialResult:
        """From a current raw file (older ones go through ``bench.results.upgrade`` first)."""
        result = data.get("result")
        return cls(
            **{
                **data,
                "trial": Trial.from_dict(data["trial"]),
                "result": WorkerResult.from_dict(result) if result else None,
            }
        )
