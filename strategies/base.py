"""The contract between the harness and a download strategy.

A strategy is anything with a ``name``, a one-line ``description`` and a ``run`` method.
It is deliberately a protocol, not a base class: a strategy written in another
package needs nothing from here but these dataclasses.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Outcome = Literal["ok", "not_found", "error"]
Resource = Literal["flag", "metadata"]
CpuKind = Literal["python", "hashlib"]
ExecutorKind = Literal["thread", "process"]
EXECUTORS: tuple[ExecutorKind, ...] = ("thread", "process")
ARRIVALS = ("constant", "poisson")  # open loop's arrival processes (strategies.arrivals)
OVERFLOWS = ("queue", "drop")  # what an open-loop arrival at the cap of C does
SAVE_WAITS = ("block", "await")  # how a slow write's delay is waited out (Settings.save_wait)

OUTCOMES: tuple[Outcome, ...] = ("ok", "not_found", "error")
ProbeKind = Literal["loop_lag", "heartbeat", "spinner_thread", "spinner_loop"]


@dataclass(frozen=True, slots=True)
class Job:
    """One flag to fetch. URLs are built once, outside the timed region."""

    cc: str  # upper case, e.g. "BR"
    flag_url: str  # e.g. http://127.0.0.1:8001/flags/br/br.gif
    metadata_url: str  # e.g. http://127.0.0.1:8001/flags/br/metadata.json


def make_jobs(flags_url: str, codes: Sequence[str]) -> list[Job]:
    """Jobs in the book's URL layout: ``{flags_url}/{cc}/{cc}.gif`` with ``cc`` in lower case."""
    base = flags_url.rstrip("/")
    jobs = []
    for code in codes:
        cc = code.lower()
        jobs.append(Job(code.upper(), f"{base}/{cc}/{cc}.gif", f"{base}/{cc}/metadata.json"))
    return jobs


def _is_int(value: object) -> bool:
    """An int that is not a bool: True would otherwise pass as 1."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class CpuWork:
    """CPU-bound work done per flag after it is downloaded.

    ``kind='python'`` runs a pure-Python loop that holds the GIL; ``kind='hashlib'`` hashes a
    large buffer, which releases the GIL. ``loops`` is an exact amount of work (the harness
    calibrates it from milliseconds once, before timing), so every strategy does the same work.
    """

    kind: CpuKind = "python"
    loops: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("python", "hashlib"):
            raise ValueError(
                f"cpu work kind {self.kind!r} is not allowed; choose python or hashlib"
            )
        if not _is_int(self.loops) or self.loops < 0:
            raise ValueError(f"cpu work loops must be an integer >= 0, got {self.loops!r}")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a strategy needs besides the jobs. Picklable, so it crosses process boundaries."""

    concurrency: int = 1
    timeout_s: float = 10.0  # per request, connect + read
    retries: int = 0  # extra attempts after a failed one (errors only; 404 is final)
    backoff_s: float = 0.1  # base of the exponential backoff; full jitter
    save_dir: str | None = None  # save each flag as {cc}.gif (or {country}.gif with metadata)
    save_delay_s: float = 0.0  # a slow disk: each write blocks this long (time.sleep)
    # how the asyncio strategies wait out save_delay_s: "block" (time.sleep in the write) or
    # "await" (await asyncio.sleep on the loop first: the book's spinner lesson)
    save_wait: str = "block"
    cpu_work: CpuWork | None = None
    metadata: bool = False  # also fetch metadata.json first, as the book's flags3 does
    # process pools; None means forkserver where it exists (see default_start_method)
    start_method: str | None = None
    executor: ExecutorKind = "thread"  # asyncio_executor: where the blocking steps run
    lag_probe: bool = True  # asyncio strategies: run a loop-lag heartbeat task
    probe_interval_s: float = 0.01
    client: str | None = (
        None  # HTTP client library; None: the strategy's first (strategies.clients)
    )
    loop: str | None = (
        None  # event loop of the asyncio strategies: asyncio or uvloop; None: asyncio
    )
    processes: int | None = None  # multiprocess_asyncio's P; None: one per CPU
    scheduler: str | None = (
        None  # dask: an existing cluster's tcp://HOST:PORT; None: a LocalCluster
    )
    dask_workers: int | None = None  # dask LocalCluster workers; None: one per CPU
    dask_threads: int | None = None  # threads per LocalCluster worker; None: 2
    # open loop (strategies.arrivals): 0 is closed loop; R > 0 offers R arrivals per second,
    # C then caps the requests in flight and an arrival at the cap is queued or dropped
    rate: float = 0.0
    arrivals: str = "constant"  # or "poisson"
    ramp_s: float = 0.0  # the rate climbs linearly from 0 to R over this long
    overflow: str = "queue"  # or "drop"
    # how the caller consumes results (strategies.consume): None is the strategy's own way
    consume: str | None = None
    # the asyncio strategies: a spinner coroutine ticking this often on the loop (0: none)
    spinner_s: float = 0.0

    def __post_init__(self) -> None:
        if not _is_int(self.concurrency) or self.concurrency < 1:
            raise ValueError(f"concurrency must be an integer >= 1, got {self.concurrency!r}")
        if not (self.timeout_s > 0 and math.isfinite(self.timeout_s)):
            raise ValueError(f"timeout_s must be a positive number, got {self.timeout_s}")
        if not _is_int(self.retries) or self.retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {self.retries!r}")
        if not (self.backoff_s >= 0 and math.isfinite(self.backoff_s)):
            raise ValueError(f"backoff_s must be a number >= 0, got {self.backoff_s}")
        if not (self.save_delay_s >= 0 and math.isfinite(self.save_delay_s)):
            raise ValueError(f"save_delay_s must be a number >= 0, got {self.save_delay_s}")
        if self.save_wait not in SAVE_WAITS:
            raise ValueError(f"save_wait {self.save_wait!r} is not allowed; choose block or await")
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor {self.executor!r} is not allowed; choose thread or process")
        if not (self.probe_interval_s > 0 and math.isfinite(self.probe_interval_s)):
            raise ValueError(
                f"probe_interval_s must be a positive number, got {self.probe_interval_s}"
            )
        for name in ("processes", "dask_workers", "dask_threads"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not (self.rate >= 0 and math.isfinite(self.rate)):
            raise ValueError(f"rate must be a number >= 0, got {self.rate}")
        if self.arrivals not in ARRIVALS or self.overflow not in OVERFLOWS:
            raise ValueError(
                f"arrivals {self.arrivals!r} / overflow {self.overflow!r}: allowed "
                f"{' or '.join(ARRIVALS)} / {' or '.join(OVERFLOWS)}"
            )
        if not (self.ramp_s >= 0 and math.isfinite(self.ramp_s)):
            raise ValueError(f"ramp_s must be a number >= 0, got {self.ramp_s}")
        if not (self.spinner_s >= 0 and math.isfinite(self.spinner_s)):
            raise ValueError(f"spinner_s must be a number >= 0, got {self.spinner_s}")
        if self.start_method is not None:
            allowed = multiprocessing.get_all_start_methods()
            if self.start_method not in allowed:
                raise ValueError(
                    f"start_method {self.start_method!r} is not available here; "
                    f"allowed: {', '.join(allowed)}"
                )

    @property
    def blocking(self) -> bool:
        """Whether a job has blocking steps after its download (CPU work or saving)."""
        return self.save_dir is not None or (self.cpu_work is not None and self.cpu_work.loops > 0)


@dataclass(slots=True)
class RequestRecord:
    """One HTTP attempt. Times are ``time.perf_counter()`` seconds (CLOCK_MONOTONIC on Linux,
    so records from threads, tasks and processes share one clock)."""

    cc: str
    resource: Resource
    # 1 for the first try of this resource, 2 for the first retry, ...; 0 marks a bookkeeping
    # record for a job that ended without a deciding request (error_kind "cancelled" on
    # Ctrl-C, "worker_lost", "internal_error"): it keeps one final record per job.
    attempt: int
    t_queued: float  # the job was ready to go
    t_start: float  # the request actually began (t_start - t_queued is pool/semaphore wait)
    t_end: float
    status: int | None  # HTTP status, None when no response arrived
    outcome: Outcome
    error_kind: str | None  # None when ok; "not_found", "http_503", "timeout", ...
    nbytes: int  # body bytes received
    worker: str  # "pid/thread-name" or "pid/task-N" (dask: "tcp://HOST:PORT/pid/task-N")
    final: bool = True  # this record decides the job's outcome (exactly one per job)
    client: str = ""  # the HTTP client library that sent it; "" for a bookkeeping record
    # open loop: the job's scheduled arrival (every attempt of the job carries it); None in
    # closed loop, where a job is due whenever a slot frees
    t_intended: float | None = None
    # when the job's result was handed to the code that asked for it (the caller's loop over
    # map, as_completed, gather...; strategies.consume): the same on every record of the job,
    # None for a job whose result never reached the caller (cancelled)
    t_delivered: float | None = None


@dataclass(frozen=True, slots=True)
class ProbeSample:
    """How late a heartbeat woke up: event-loop lag or thread wake-up delay (GIL contention).
    The spinners (``spinner_thread``, ``spinner_loop``) tick at a slower, human pace; each of
    their samples is one tick, ``lag_s`` how much longer than its interval it took."""

    kind: ProbeKind
    t: float  # perf_counter when the late wake-up was seen
    lag_s: float


Progress = Callable[[RequestRecord], None]


@runtime_checkable
class Strategy(Protocol):
    """``name``, ``description`` and ``run``. A strategy that never has more than a fixed number
    of requests in flight, whatever ``Settings.concurrency`` says, may also declare it as a
    class attribute ``max_concurrency`` (``sequential`` has 1): the harness then uses it for
    the ideal time and the watchdog. It may also say how far its blocking steps (CPU work,
    saving) spread over the machine, with a method ``spread(settings, cores, gil=True) ->
    strategies.spread.Spread``; without it the harness assumes ``min(C, cores)`` cores. Both
    are optional, so they are not part of the protocol check. So is ``rank``, which only
    flagbench's own strategies use: their place in listings and comparisons, lowest first
    (``sequential`` is 0); other packages' strategies follow by name. A strategy that honours
    ``Settings.rate`` (open loop: each job started when due, see ``strategies.arrivals``)
    says so with ``open_loop = True``; the harness refuses open loop to the others.

    Also optional: ``clients`` and ``loops``, the client libraries and event loops the strategy
    can use, its default first (``strategies.clients`` refuses any other before a run);
    ``check(settings)``, which raises ``StrategyError`` for settings that cannot run here (a
    missing optional library); and ``start(jobs, settings) -> dict`` with ``close()``, which
    the harness calls outside the timed region to set up what the model needs before its first
    request (processes, a cluster) and reports as start-up. ``run`` works without them. A
    strategy that uses CPU in processes the harness cannot count (a cluster's workers) says
    how much with ``cpu_elsewhere() -> (user_s, system_s)``, for its last ``run``.
    """

    name: str
    description: str

    def run(
        self,
        jobs: Sequence[Job],
        settings: Settings,
        progress: Progress | None = None,
        probes: list[ProbeSample] | None = None,
    ) -> list[RequestRecord]:
        """Download every job; never raise for a failed download.

        Returns one record per attempt; exactly one record per job has ``final=True``.
        ``progress`` is called once per finished job with its final record. Probe samples
        (loop lag, heartbeat delay) are appended to ``probes`` when it is given.
        """
        ...


def count_outcomes(records: Sequence[RequestRecord]) -> dict[str, int]:
    """Final outcome counts; ok + not_found + error equals the number of jobs."""
    counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    for rec in records:
        if rec.final:
            counts[rec.outcome] += 1
    return counts
