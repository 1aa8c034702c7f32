"""The workload: everything about a trial except the strategy, each field declared once.

``Workload`` is a frozen dataclass whose every field carries its declaration (``declare``):
type, default, unit, validation, help text, whether a suite may sweep it, and what it
configures (the server, the worker, the job list, the interpreter, or nothing: ``arm``). The
suite TOML keys, the ``flagbench run`` options, the workload label, the sweep expansion,
``/_config``'s changes and the trials-table columns all derive from ``FIELDS``: adding an axis
is one field here, plus the code that uses it. Values are parsed here, at the edge, into the
typed values of ``bench.define.values``; nothing downstream parses them again. The fault rates
follow the server's fault table (``flags_server.fault_kinds``): a new fault kind needs its
``*_rate`` field here, which the import-time check below asks for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import multiprocessing
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench._exceptions import SpecError
from bench.define import together
from bench.define.fields import (
    DECLARATION,
    NUMBER,
    Field,
    a_or_an,
    between,
    declare,
    duration_between,
    label,
    one_of,
    setting_value,
)
from bench.define.pythons import resolve_python
from bench.define.values import Codes, CpuWork, Duration, Latency
from flags_server.fault_kinds import FAULT_KINDS, RATE_FIELDS
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
class Workload:
    """Everything about a trial except the strategy: the same workload means identical
    conditions. Build one from a suite's or a command line's values with ``from_mapping``,
    which checks them; direct construction types the values but checks no ranges."""

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

    def __post_init__(self) -> None:
        """Values given directly (tests, JSON read back) become typed as from_mapping's."""
        for f in FIELDS:
            value = getattr(self, f.name)
            if f.canon is not None and value is not None and type(value) is str:
                object.__setattr__(self, f.name, f.canon(value))

    @property
    def workload_id(self) -> str:
        """Stable across flagbench versions: only values that differ from the defaults count,
        so a field added later does not change the id of a workload that leaves it alone."""
        changed = {k: v for k, v in dataclasses.asdict(self).items() if v != BY_NAME[k].default}
        blob = json.dumps(changed, sort_keys=True)
        return hashlib.blake2b(blob.encode(), digest_size=4).hexdigest()

    @property
    def label(self) -> str:
        """A short human label: N, C and latency, plus whatever differs from the defaults."""
        parts = [f"N={self.jobs_count()}", f"C={self.concurrency}", f"latency={self.latency}"]
        for f in FIELDS:
            value = getattr(self, f.name)
            if f.name not in ("n_jobs", "concurrency", "latency") and value != f.default:
                parts.append(f"{f.name}={value}")
        return " ".join(parts)

    def codes_list(self) -> list[str]:
        codes = self.codes.codes
        if self.n_jobs is None:
            return list(codes)
        return list(itertools.islice(itertools.cycle(codes), self.n_jobs))

    def jobs_count(self) -> int:
        return len(self.codes_list())

    def blocking_steps_s(self) -> tuple[float, float]:
        """Per job: seconds of calibrated CPU work and of slow write (an awaited one blocks none)."""
        blocks = self.save and self.save_wait == "block"
        return self.cpu_work.seconds, self.save_delay.seconds if blocks else 0.0

    def settings_values(self) -> dict[str, Any]:
        """The strategy settings this workload sets (``Field.setting``), in their types."""
        return {f.setting: setting_value(getattr(self, f.name)) for f in FIELDS if f.setting}

    def server_changes(self) -> dict[str, Any]:
        """The server settings this workload needs, applied through ``/_config`` before a trial."""
        return {f.name: getattr(self, f.name) for f in FIELDS if f.configures == "server"}

    def columns(self) -> dict[str, Any]:
        """The trials-table columns of this workload (N resolved; an unset text is "", an unset
        number NaN)."""
        out = {f.column_name: f.cell(getattr(self, f.name)) for f in FIELDS}
        out["n_jobs"] = self.jobs_count()
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], where: str = "workload", cli: bool = False
    ) -> Workload:
        """Validate every key and value (naming the key and what is allowed), then across
        fields; unknown keys are refused with the list of known ones."""
        for key in data:
            if key not in BY_NAME:
                raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(BY_NAME)}")
        values = {k: BY_NAME[k].validate(where, v, cli) for k, v in data.items()}
        workload = cls(**values)
        together.check(workload, BY_NAME, where, cli)
        return workload


FIELDS: tuple[Field, ...] = tuple(
    dataclasses.replace(f.metadata[DECLARATION], name=f.name) for f in dataclasses.fields(Workload)
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

_missing = [r for r in RATE_FIELDS if r not in BY_NAME]
if _missing:  # a fault kind added to the server's table without its workload field
    raise ImportError(
        f"bench.define.workload: declare the field(s) {', '.join(_missing)} (see _rate)"
    )
