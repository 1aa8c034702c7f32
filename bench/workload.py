"""The workload: everything about a trial except the strategy, each field declared once.

A field's declaration says its type, default, unit, validation, help text, whether a suite
may sweep it, and what it configures (the flag server, the worker, the job list or the
interpreter). The suite TOML keys, the ``flagbench run`` options, the workload label, the
sweep expansion, ``/_config``'s changes and the trials-table columns all derive from
``FIELDS``: adding an axis is one entry here, plus the code that uses it. The fault rates
come from the server's own fault table, so a new fault kind needs no entry here at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import multiprocessing
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flags_server.fault_kinds import FAULT_KINDS, RATE_FIELDS
from strategies.arrivals import ARRIVALS, OVERFLOWS
from strategies.base import EXECUTORS, SAVE_WAITS
from strategies.clients import ALL_CLIENTS, LOOPS
from strategies.consume import CONSUMES

from ._exceptions import SpecError
from .codes import resolve_codes

Configures = Literal["server", "worker", "jobs", "interpreter"]
_NUMBER = (int, float)


@dataclass(frozen=True)
class Field:
    """One workload field. ``check`` raises ValueError with what is allowed."""

    name: str
    kind: type | tuple[type, ...]  # the TOML/JSON types accepted
    default: Any
    help: str
    configures: Configures
    check: Callable[[Any], None] | None = None
    unit: str = ""
    flags: tuple[str, ...] = ()  # the `flagbench run` option; () means --name-with-dashes
    cli: bool = True  # offered as a `flagbench run` option (codes are positional there)
    cli_list: bool = False  # the option takes comma-separated values: a sweep
    metavar: str = "VALUE"
    axis: bool = True  # a list value in a suite sweeps it
    size: bool = False  # N or C: what a sweep chart puts on its x axis
    column: str = ""  # its trials-table column; "" means its name
    canon: Callable[[Any], Any] | None = None  # one spelling per value ("0.005s" -> "5ms")
    example: Any = None  # a valid value other than the default, for docs and tests
    # The strategy attribute that caps this field (``max_concurrency``): to a strategy that
    # declares it, values above the cap are one and the same configuration.
    capped_by: str = ""

    @property
    def option(self) -> str:
        return self.flags[-1] if self.flags else "--" + self.name.replace("_", "-")

    @property
    def column_name(self) -> str:
        return self.column or self.name

    def coerce(self, value: Any) -> Any:
        """TOML gives ``1`` for a rate of 1.0: store the declared type."""
        if self.kind == _NUMBER and value is not None:
            return float(value)
        return value

    def validate(self, where: str, value: Any, cli: bool = False) -> Any:
        """The value, checked and coerced; a SpecError names the key (or the command-line
        option) and what is allowed."""
        if value is None and self.default is None:
            return None
        said = f"{self.option} {value}" if cli else f"{where}: {self.name} = {value!r}"
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        # bool is an int in Python; `concurrency = true` is a mistake, not 1
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise SpecError(f"{said} must be {kind_name(kinds)}")
        value = self.coerce(value)
        if self.check is not None:
            try:
                self.check(value)
            except ValueError as exc:
                raise SpecError(f"{said}: {exc}") from None
        return self.canon(value) if self.canon is not None else value


def kind_name(kind: type | tuple[type, ...]) -> str:
    """How an error names the type a value must have ("an integer", "a number", ...)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if kinds == _NUMBER:
        return "a number"
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        list: "a list",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def between(lo: float, hi: float, unit: str = "") -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo:g} and {hi:g}{unit}")

    return check


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _check_codes(spec: str) -> None:
    resolve_codes(spec)


def _check_latency(spec: str) -> None:
    from flags_server import ConfigError, parse_latency

    try:
        parse_latency(spec)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def parse_cpu_work(spec: str) -> tuple[str, float]:
    """``"python:2ms"`` -> ("python", 2.0). Kinds: python (holds the GIL), hashlib (releases it)."""
    kind, sep, amount = spec.partition(":")
    if not sep or kind not in ("python", "hashlib") or not amount.endswith("ms"):
        raise ValueError("expected KIND:Nms with KIND python or hashlib, e.g. python:2ms")
    try:
        ms = float(amount[:-2])
    except ValueError:
        raise ValueError("expected KIND:Nms with a number N, e.g. python:2ms") from None
    if not 0 < ms <= 10_000:
        raise ValueError("the amount must be more than 0 and at most 10000 ms")
    return kind, ms


def _check_cpu_work(spec: str) -> None:
    if spec:
        parse_cpu_work(spec)


_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_duration(spec: str) -> float:
    """``"5ms"`` -> 0.005 seconds. A unit is required: a bare ``5`` could be seconds or ms."""
    text = spec.strip()
    for unit in ("us", "ms", "s"):  # "ms" and "us" end in "s": try them first
        if text.endswith(unit):
            try:
                value = float(text[: -len(unit)])
            except ValueError:
                break
            if value != value or value in (float("inf"), float("-inf")):
                break
            return value * _DURATION_UNITS[unit]
    raise ValueError("expected a duration with its unit (us, ms or s), e.g. 5ms or 0.5ms")


def duration_ms(spec: str) -> str:
    """The one spelling of a duration: milliseconds, as short as exact (``"0.005s"`` -> 5ms)."""
    return f"{round(parse_duration(spec) * 1e3, 6) + 0.0:g}ms"  # + 0.0: never "-0ms"


def duration_between(lo_s: float, hi_s: float, *, above: bool = False) -> Callable[[Any], None]:
    """A duration check; ``above`` makes ``lo_s`` itself not allowed."""

    def check(spec: str) -> None:
        if spec == "":
            return
        seconds = parse_duration(spec)
        if seconds < lo_s or (above and seconds == lo_s) or seconds > hi_s:
            low = "more than" if above else "at least"
            raise ValueError(f"must be {low} {lo_s * 1e3:g}ms and at most {hi_s * 1e3:g}ms")

    return check


def _canon_duration(spec: str) -> str:
    return duration_ms(spec) if spec else spec


def one_of(*allowed: str) -> Callable[[Any], None]:
    """A name from ``allowed``, or "" for the default."""

    def check(value: Any) -> None:
        if value and value not in allowed:
            raise ValueError(f"allowed: {', '.join(allowed)} (or leave it out for the default)")

    return check


def _check_scheduler(address: str) -> None:
    from strategies import StrategyError
    from strategies.dask_distributed import check_address

    try:
        check_address(address)
    except StrategyError as exc:
        raise ValueError(str(exc).partition(": ")[2]) from None


def _check_python(spec: str) -> None:
    if spec:
        from .pythons import resolve_python

        resolve_python(spec)


FIELDS: tuple[Field, ...] = (
    Field(
        "codes",
        str,
        "all",
        "which flags: pop20, all, every, or codes and one-letter prefixes such as 'BR CN U'",
        "jobs",
        _check_codes,
        cli=False,
        example="BR CN",
    ),
    Field(
        "n_jobs",
        int,
        None,
        "N downloads, cycling through the codes (default: as many as the codes give)",
        "jobs",
        between(1, 1_000_000),
        flags=("-n", "--jobs"),
        metavar="N",
        size=True,
        example=3,
    ),
    Field(
        "concurrency",
        int,
        10,
        "requests in flight (C); a comma list is a sweep",
        "worker",
        between(1, 10_000),
        flags=("-m", "--max-req"),
        cli_list=True,
        metavar="C[,C...]",
        size=True,
        example=2,
        capped_by="max_concurrency",
    ),
    Field(
        "latency",
        str,
        "0",
        "server latency: 0.5, 100ms, uniform:0.5..5, lognormal:median=100ms,sigma=0.5, ...",
        "server",
        _check_latency,
        metavar="SPEC",
        example="5ms",
    ),
    Field(
        "metadata_latency",
        str,
        None,
        "latency of metadata.json (default: as latency)",
        "server",
        _check_latency,
        metavar="SPEC",
        example="1ms",
    ),
    *(
        Field(
            k.rate_field,
            _NUMBER,
            0.0,
            f"fraction of requests that get {_a(k.name)} fault: the server {k.does} (0..1)",
            "server",
            between(0, 1),
            metavar="R",
            example=0.01,
        )
        for k in FAULT_KINDS
    ),
    Field(
        "cpu_work",
        str,
        "",
        "CPU work per flag: python:2ms (holds the GIL) or hashlib:2ms (releases it)",
        "worker",
        _check_cpu_work,
        metavar="KIND:Nms",
        example="hashlib:0.1ms",
    ),
    Field("save", bool, False, "save each flag to a file", "worker", example=True),
    Field(
        "save_delay",
        str,
        "0ms",
        "a slow disk: each file write blocks this long "
        "(time.sleep in the save step), e.g. 5ms; needs save; a comma list is a sweep",
        "worker",
        duration_between(0, 10),
        cli_list=True,
        metavar="DURATION[,...]",
        canon=_canon_duration,
        example="5ms",
    ),
    Field(
        "save_wait",
        str,
        "block",
        "how the save step waits out save_delay: block (time.sleep in the write) or await "
        "(await asyncio.sleep on the event loop first; the asyncio strategies); a comma list "
        "is a sweep",
        "worker",
        one_of(*SAVE_WAITS),
        cli_list=True,
        metavar="block|await",
        example="await",
    ),
    Field(
        "background_threads",
        int,
        0,
        "K CPU-bound pure-Python threads running beside the "
        "downloads for the whole timed region; a comma list is a sweep",
        "worker",
        between(0, 64),
        cli_list=True,
        metavar="K[,K...]",
        example=1,
    ),
    Field(
        "switch_interval",
        str,
        "",
        "the interpreter's thread switch interval "
        "(sys.setswitchinterval), e.g. 0.5ms..50ms (default: Python's own, 5ms); a comma "
        "list is a sweep",
        "worker",
        duration_between(0, 1, above=True),
        cli_list=True,
        metavar="DURATION[,...]",
        canon=_canon_duration,
        example="0.5ms",
    ),
    Field(
        "executor",
        str,
        "thread",
        "where asyncio_executor runs CPU work and saving: thread "
        "(ThreadPoolExecutor(C)) or process (ProcessPoolExecutor(min(C, cores))); a comma "
        "list is a sweep",
        "worker",
        one_of(*EXECUTORS),
        cli_list=True,
        metavar="thread|process",
        example="process",
    ),
    Field(
        "start_method",
        str,
        "",
        "how process pools start their processes: fork, forkserver "
        "or spawn (default: forkserver where it exists); a comma list is a sweep",
        "worker",
        one_of(*multiprocessing.get_all_start_methods()),
        cli_list=True,
        metavar="METHOD[,...]",
        column="start_method_requested",
        example="spawn",
    ),
    Field(
        "rate",
        _NUMBER,
        0.0,
        "open loop: R arrivals per second, each started when due "
        "and C a cap on requests in flight (0: closed loop, C at a time); a comma list is "
        "a sweep",
        "worker",
        between(0, 100_000),
        unit="/s",
        cli_list=True,
        metavar="R[,R...]",
        example=20.0,
    ),
    Field(
        "arrivals",
        str,
        "constant",
        "open loop: arrivals evenly spaced (constant) or a Poisson process (poisson); needs rate",
        "worker",
        one_of(*ARRIVALS),
        metavar="constant|poisson",
        example="poisson",
    ),
    Field(
        "ramp",
        str,
        "0ms",
        "open loop: the rate climbs linearly from 0 to R over this long, e.g. 2s; needs rate",
        "worker",
        duration_between(0, 3600),
        metavar="DURATION",
        canon=_canon_duration,
        example="500ms",
    ),
    Field(
        "overflow",
        str,
        "queue",
        "open loop: an arrival that finds C requests in flight "
        "waits for a slot (queue) or is not sent (drop, error kind 'dropped'); needs rate",
        "worker",
        one_of(*OVERFLOWS),
        metavar="queue|drop",
        example="drop",
    ),
    Field(
        "consume",
        str,
        "",
        "how the caller takes the results: as_completed or map (threadpool, "
        "processpool, asyncio strategies), gather or taskgroup (asyncio strategies; taskgroup "
        "cancels the rest on the first error) (default: each strategy's own way); a comma "
        "list is a sweep",
        "worker",
        one_of(*CONSUMES),
        cli_list=True,
        metavar="MODE[,MODE...]",
        example="map",
    ),
    Field(
        "spinner",
        str,
        "",
        "a spinner ticking this often beside the downloads, e.g. 100ms: a thread, and "
        "a coroutine on the loop of the asyncio strategies; each tick's delay is recorded",
        "worker",
        duration_between(0.001, 10),
        metavar="DURATION",
        canon=_canon_duration,
        example="100ms",
    ),
    Field(
        "metadata",
        bool,
        False,
        "fetch metadata.json first, as the book's flags3",
        "worker",
        example=True,
    ),
    Field(
        "retries",
        int,
        0,
        "retries per request after an error",
        "worker",
        between(0, 10),
        metavar="N",
        example=1,
    ),
    Field(
        "timeout_s",
        _NUMBER,
        10.0,
        "per-request timeout (connect + read)",
        "worker",
        between(0.01, 600, " seconds"),
        unit="s",
        flags=("--timeout",),
        metavar="S",
        example=5.0,
    ),
    Field(
        "client",
        str,
        "",
        "HTTP client library: requests, httpx or urllib3 for the sync "
        "strategies, aiohttp or httpx for the asyncio ones (default: each strategy's first); "
        "a comma list is a sweep",
        "worker",
        one_of(*ALL_CLIENTS),
        cli_list=True,
        metavar="NAME[,NAME...]",
        column="client_requested",
        example="httpx",
    ),
    Field(
        "loop",
        str,
        "",
        "event loop of the asyncio strategies: asyncio or uvloop (default "
        "asyncio); a comma list is a sweep",
        "worker",
        one_of(*LOOPS),
        cli_list=True,
        metavar="NAME[,NAME...]",
        column="loop_requested",
        example="uvloop",
    ),
    Field(
        "processes",
        int,
        None,
        "multiprocess_asyncio: P processes sharing C (default: one per CPU)",
        "worker",
        between(1, 256),
        metavar="P",
        example=2,
    ),
    Field(
        "scheduler",
        str,
        None,
        "dask: the scheduler of an existing cluster (default: a LocalCluster per trial)",
        "worker",
        _check_scheduler,
        flags=("--dask-scheduler",),
        metavar="tcp://HOST:PORT",
        axis=False,
        example="tcp://127.0.0.1:8786",
    ),
    Field(
        "dask_workers",
        int,
        None,
        "dask: LocalCluster worker processes (default: one per CPU)",
        "worker",
        between(1, 64),
        metavar="W",
        example=2,
    ),
    Field(
        "dask_threads",
        int,
        None,
        "dask: threads per LocalCluster worker, the batches each runs at once (default 2)",
        "worker",
        between(1, 64),
        metavar="T",
        example=1,
    ),
    Field(
        "python",
        str,
        "",
        "interpreter for the trials, a version such as 3.12 or a path (default: this one)",
        "interpreter",
        _check_python,
        metavar="VERSION|PATH",
        column="python_requested",
        example=sys.executable,
    ),
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


def _declare(cls: type) -> type:
    """Give ``cls`` one dataclass field per declaration, before ``@dataclass`` reads them."""
    cls.__annotations__ = {f.name: "Any" for f in FIELDS}
    for f in FIELDS:
        setattr(cls, f.name, f.default)
    return cls


@dataclass(frozen=True)
@_declare
class Workload:
    """Everything about a trial except the strategy: the same workload means identical
    conditions. Its fields are ``FIELDS``; build one from a mapping with ``from_mapping``."""

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
        codes = resolve_codes(self.codes)
        if self.n_jobs is None:
            return codes
        return list(itertools.islice(itertools.cycle(codes), self.n_jobs))

    def jobs_count(self) -> int:
        return len(self.codes_list())

    def blocking_steps_s(self) -> tuple[float, float]:
        """Per job whose flag comes back: seconds of calibrated CPU work and of slow write
        (none when the write's delay is awaited: it blocks nothing)."""
        cpu = parse_cpu_work(self.cpu_work)[1] / 1000 if self.cpu_work else 0.0
        blocks = self.save and self.save_wait == "block"
        return cpu, parse_duration(self.save_delay) if blocks else 0.0

    def server_changes(self) -> dict[str, Any]:
        """The server settings this workload needs, applied through ``/_config`` before a trial."""
        return {f.name: getattr(self, f.name) for f in FIELDS if f.configures == "server"}

    def columns(self) -> dict[str, Any]:
        """The trials-table columns of this workload (N resolved; an unset text is "", an unset
        number NaN)."""
        out = {f.column_name: _cell(f, getattr(self, f.name)) for f in FIELDS}
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
        total = sum(getattr(workload, k) for k in RATE_FIELDS)
        if total > 1.0 + 1e-9:
            raise SpecError(
                f"{where}: the fault rates ({', '.join(RATE_FIELDS)}) add up to "
                f"{total:g}; allowed: a sum of at most 1"
            )
        if parse_duration(workload.save_delay) > 0 and not workload.save:
            said = (
                f"--save-delay {workload.save_delay}"
                if cli
                else f"{where}: save_delay = {workload.save_delay!r}"
            )
            raise SpecError(
                f"{said} delays each file write, but files are not saved; "
                f"allowed with {'--save' if cli else 'save = true'} only"
            )
        if workload.save_wait != "block" and parse_duration(workload.save_delay) == 0:
            said = (
                f"--save-wait {workload.save_wait}"
                if cli
                else f"{where}: save_wait = {workload.save_wait!r}"
            )
            raise SpecError(
                f"{said} says how a slow write's delay is waited out, but there is none; "
                f"allowed with {'--save-delay' if cli else 'save_delay'} above 0ms only"
            )
        _check_open_loop(workload, where, cli)
        return workload


def _cell(f: Field, value: Any) -> Any:
    if value is not None:
        return value
    return "" if f.kind is str else math.nan


def _check_open_loop(w: Workload, where: str, cli: bool) -> None:
    """The open-loop settings mean nothing in closed loop: say so rather than ignore them."""
    if w.rate > 0:
        return
    for name in ("arrivals", "ramp", "overflow"):
        value = getattr(w, name)
        if value != BY_NAME[name].default:
            said = f"{BY_NAME[name].option} {value}" if cli else f"{where}: {name} = {value!r}"
            raise SpecError(
                f"{said} shapes open-loop arrivals, but the load is closed loop; "
                f"allowed with {'--rate R' if cli else 'rate = R'} (R > 0) only"
            )


def expand(where: str, table: Mapping[str, Any], cli: bool = False) -> list[Workload]:
    """A workload table whose list values are sweep axes, expanded into their product."""
    axes: list[list[tuple[str, Any]]] = []
    for key, value in table.items():
        field = BY_NAME.get(key)
        if field is None:
            raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(BY_NAME)}")
        if isinstance(value, list):
            if not field.axis:
                raise SpecError(f"{where}: {key} takes one value, not a list")
            if not value:
                raise SpecError(f"{where}: {key} is an empty list; give at least one value")
        values = value if isinstance(value, list) else [value]
        axes.append([(key, v) for v in values])
    return [Workload.from_mapping(dict(combo), where, cli) for combo in itertools.product(*axes)]


def sweep_params() -> tuple[str, ...]:
    """Trials columns that identify a workload besides N and C: two workloads that differ in
    N or C only belong to one sweep."""
    return tuple(f.column_name for f in FIELDS if not f.size)


def observed(w: Workload, strategy: type) -> Workload:
    """The workload as ``strategy`` sees it: each field that the strategy caps (sequential's
    ``max_concurrency = 1`` caps C) cut to the cap, so sweep points it cannot tell apart are
    one configuration, run once."""
    changes = {}
    for f in FIELDS:
        cap = getattr(strategy, f.capped_by, None) if f.capped_by else None
        if cap is not None and getattr(w, f.name) > cap:
            changes[f.name] = cap
    return dataclasses.replace(w, **changes) if changes else w
