"""The workload's fields, each declared once: the table a new axis is added to.

``WorkloadFields`` holds every field of ``bench.define.workload.Workload`` with its declaration
(``declare``): type, default, unit, validation, help text, whether a suite may sweep it, what
it configures (the server, the worker, the job list, the interpreter, or nothing: ``arm``) and
the strategy setting it sets. Everything else about a workload (its id, label, columns, parsing)
is in ``bench.define.workload``, which derives ``FIELDS`` from these. The order here is the
order of the suite keys, the CLI options and the trials table's columns. The fault rates follow
the server's fault table (``flags_server.fault_kinds``): a new fault kind needs its ``*_rate``
field here, which ``bench.define.workload`` checks at import.
"""

from __future__ import annotations

import multiprocessing
import sys
from dataclasses import dataclass
from typing import Any

from bench.define.fields import (
    NUMBER,
    a_or_an,
    between,
    declare,
    duration_between,
    label,
    one_of,
)
from bench.define.pythons import resolve_python
from bench.define.values import Codes, CpuWork, Duration, Latency
from flags_server.fault_kinds import FAULT_KINDS
from strategies import StrategyError
from strategies.arrivals import ARRIVALS, OVERFLOWS
from strategies.base import EXECUTORS, SAVE_WAITS, ExecutorKind
from strategies.clients import ALL_CLIENTS, LOOPS
from strategies.consume import CONSUMES
from strategies.dask_distributed import check_address


def _check_scheduler(address: str) -> None:

    try:
        check_address(address)
    except StrategyError as exc:
        raise ValueError(str(exc).partition(": ")[2]) from None


def _check_python(spec: str) -> None:
    if spec:
        resolve_python(spec)


def _rate(rate_field: str) -> Any:
    """The declaration of a fault kind's rate, in the words of the server's fault table."""
    (k,) = [k for k in FAULT_KINDS if k.rate_field == rate_field]
    return declare(
        0.0,
        NUMBER,
        f"fraction of requests that get {a_or_an(k.name)} fault: the server {k.does} (0..1)",
        "server",
        between(0, 1),
        metavar="R",
        example=0.01,
    )


@dataclass(frozen=True)
class WorkloadFields:
    """The fields of ``Workload``, in order; a workload is always a ``Workload``."""

    codes: Codes = declare(
        Codes("all"),
        str,
        "which flags: pop20, all, every, or codes and one-letter prefixes such as 'BR CN U'",
        "jobs",
        canon=Codes,
        cli=False,
        example="BR CN",
    )
    n_jobs: int | None = declare(
        None,
        int,
        "N downloads, cycling through the codes (default: as many as the codes give)",
        "jobs",
        between(1, 1_000_000),
        flags=("-n", "--jobs"),
        metavar="N",
        size=True,
        example=3,
    )
    concurrency: int = declare(
        10,
        int,
        "requests in flight (C); a comma list is a sweep",
        "worker",
        between(1, 10_000),
        flags=("-m", "--max-req"),
        cli_list=True,
        metavar="C[,C...]",
        size=True,
        example=2,
        capped_by="max_concurrency",
        setting="concurrency",
    )
    latency: Latency = declare(
        Latency("0"),
        str,
        "server latency: 0.5, 100ms, uniform:0.5..5, lognormal:median=100ms,sigma=0.5, ...",
        "server",
        canon=Latency,
        metavar="SPEC",
        example="5ms",
    )
    metadata_latency: Latency | None = declare(
        None,
        str,
        "latency of metadata.json (default: as latency)",
        "server",
        canon=Latency,
        metavar="SPEC",
        example="1ms",
    )
    error_rate: float = _rate("error_rate")
    timeout_rate: float = _rate("timeout_rate")
    reset_rate: float = _rate("reset_rate")
    truncate_rate: float = _rate("truncate_rate")
    slow_rate: float = _rate("slow_rate")
    cpu_work: CpuWork = declare(
        CpuWork(""),
        str,
        "CPU work per flag: python:2ms (holds the GIL) or hashlib:2ms (releases it)",
        "worker",
        canon=CpuWork,
        metavar="KIND:Nms",
        example="hashlib:0.1ms",
    )
    save: bool = declare(False, bool, "save each flag to a file", "worker", example=True)
    save_delay: Duration = declare(
        Duration("0ms"),
        str,
        "a slow disk: each file write blocks this long "
        "(time.sleep in the save step), e.g. 5ms; needs save; a comma list is a sweep",
        "worker",
        duration_between(0, 10),
        cli_list=True,
        metavar="DURATION[,...]",
        canon=Duration,
        example="5ms",
        setting="save_delay_s",
    )
    save_wait: str = declare(
        "block",
        str,
        "how the save step waits out save_delay: block (time.sleep in the write) or await "
        "(await asyncio.sleep on the event loop first; the asyncio strategies); a comma list "
        "is a sweep",
        "worker",
        one_of(*SAVE_WAITS),
        cli_list=True,
        metavar="block|await",
        example="await",
        setting="save_wait",
    )
    background_threads: int = declare(
        0,
        int,
        "K CPU-bound pure-Python threads running beside the "
        "downloads for the whole timed region; a comma list is a sweep",
        "worker",
        between(0, 64),
        cli_list=True,
        metavar="K[,K...]",
        example=1,
    )
    switch_interval: Duration = declare(
        Duration(""),
        str,
        "the interpreter's thread switch interval "
        "(sys.setswitchinterval), e.g. 0.5ms..50ms (default: Python's own, 5ms); a comma "
        "list is a sweep",
        "worker",
        duration_between(0, 1, above=True),
        cli_list=True,
        metavar="DURATION[,...]",
        canon=Duration,
        example="0.5ms",
    )
    executor: ExecutorKind = declare(
        "thread",
        str,
        "where asyncio_executor runs CPU work and saving: thread "
        "(ThreadPoolExecutor(C)) or process (ProcessPoolExecutor(min(C, cores))); a comma "
        "list is a sweep",
        "worker",
        one_of(*EXECUTORS),
        cli_list=True,
        metavar="thread|process",
        example="process",
        setting="executor",
    )
    start_method: str = declare(
        "",
        str,
        "how process pools start their processes: fork, forkserver "
        "or spawn (default: forkserver where it exists); a comma list is a sweep",
        "worker",
        one_of(*multiprocessing.get_all_start_methods()),
        cli_list=True,
        metavar="METHOD[,...]",
        column="start_method_requested",
        example="spawn",
        setting="start_method",
    )
    rate: float = declare(
        0.0,
        NUMBER,
        "open loop: R arrivals per second, each started when due "
        "and C a cap on requests in flight (0: closed loop, C at a time); a comma list is "
        "a sweep",
        "worker",
        between(0, 100_000),
        unit="/s",
        cli_list=True,
        metavar="R[,R...]",
        example=20.0,
        setting="rate",
    )
    arrivals: str = declare(
        "constant",
        str,
        "open loop: arrivals evenly spaced (constant) or a Poisson process (poisson); needs rate",
        "worker",
        one_of(*ARRIVALS),
        metavar="constant|poisson",
        example="poisson",
        setting="arrivals",
    )
    ramp: Duration = declare(
        Duration("0ms"),
        str,
        "open loop: the rate climbs linearly from 0 to R over this long, e.g. 2s; needs rate",
        "worker",
        duration_between(0, 3600),
        metavar="DURATION",
        canon=Duration,
        example="500ms",
        setting="ramp_s",
    )
    overflow: str = declare(
        "queue",
        str,
        "open loop: an arrival that finds C requests in flight "
        "waits for a slot (queue) or is not sent (drop, error kind 'dropped'); needs rate",
        "worker",
        one_of(*OVERFLOWS),
        metavar="queue|drop",
        example="drop",
        setting="overflow",
    )
    consume: str = declare(
        "",
        str,
        "how the caller takes the results: as_completed or map (pools, asyncio), gather or "
        "taskgroup (asyncio; cancels the rest on an error); default: each strategy's own way",
        "worker",
        one_of(*CONSUMES),
        cli_list=True,
        metavar="MODE[,MODE...]",
        example="map",
        setting="consume",
    )
    spinner: Duration = declare(
        Duration(""),
        str,
        "a spinner ticking this often beside the downloads, e.g. 100ms: a thread, and "
        "a coroutine on the loop of the asyncio strategies; each tick's delay is recorded",
        "worker",
        duration_between(0.001, 10),
        metavar="DURATION",
        canon=Duration,
        example="100ms",
        setting="spinner_s",
    )
    metadata: bool = declare(
        False,
        bool,
        "fetch metadata.json first, as the book's flags3",
        "worker",
        example=True,
        setting="metadata",
    )
    retries: int = declare(
        0,
        int,
        "retries per request after an error",
        "worker",
        between(0, 10),
        metavar="N",
        example=1,
        setting="retries",
    )
    timeout_s: float = declare(
        10.0,
        NUMBER,
        "per-request timeout (connect + read)",
        "worker",
        between(0.01, 600, " seconds"),
        unit="s",
        flags=("--timeout",),
        metavar="S",
        example=5.0,
        setting="timeout_s",
    )
    client: str = declare(
        "",
        str,
        "HTTP client library: requests, httpx or urllib3 for the sync "
        "strategies, aiohttp or httpx for the asyncio ones (default: each strategy's first); "
        "a comma list is a sweep",
        "worker",
        one_of(*ALL_CLIENTS),
        cli_list=True,
        metavar="NAME[,NAME...]",
        column="client_requested",
        example="httpx",
        setting="client",
    )
    loop: str = declare(
        "",
        str,
        "event loop of the asyncio strategies: asyncio or uvloop (default "
        "asyncio); a comma list is a sweep",
        "worker",
        one_of(*LOOPS),
        cli_list=True,
        metavar="NAME[,NAME...]",
        column="loop_requested",
        example="uvloop",
        setting="loop",
    )
    processes: int | None = declare(
        None,
        int,
        "multiprocess_asyncio: P processes sharing C (default: one per CPU)",
        "worker",
        between(1, 256),
        metavar="P",
        example=2,
        setting="processes",
    )
    scheduler: str | None = declare(
        None,
        str,
        "dask: the scheduler of an existing cluster (default: a LocalCluster per trial)",
        "worker",
        _check_scheduler,
        flags=("--dask-scheduler",),
        metavar="tcp://HOST:PORT",
        axis=False,
        example="tcp://127.0.0.1:8786",
        setting="scheduler",
    )
    dask_workers: int | None = declare(
        None,
        int,
        "dask: LocalCluster worker processes (default: one per CPU)",
        "worker",
        between(1, 64),
        metavar="W",
        example=2,
        setting="dask_workers",
    )
    dask_threads: int | None = declare(
        None,
        int,
        "dask: threads per LocalCluster worker, the batches each runs at once (default 2)",
        "worker",
        between(1, 64),
        metavar="T",
        example=1,
        setting="dask_threads",
    )
    arm: str = declare(
        "",
        str,
        "a label that changes nothing in the work: arms of one run, interleaved in every "
        "repeat, that `flagbench compare RUN --split arm` compares free of drift",
        "nothing",
        label(32),
        cli_list=True,
        metavar="LABEL[,LABEL...]",
        example="A",
    )
    python: str = declare(
        "",
        str,
        "interpreter for the trials, a version such as 3.12 or a path (default: this one)",
        "interpreter",
        _check_python,
        metavar="VERSION|PATH",
        column="python_requested",
        example=sys.executable,
    )
