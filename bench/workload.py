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
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flags_server.fault_kinds import FAULT_KINDS, RATE_FIELDS
from strategies.clients import ALL_CLIENTS, LOOPS

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
    example: Any = None  # a valid value other than the default, for docs and tests

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
            raise SpecError(f"{said} must be {_kind_name(kinds)}")
        value = self.coerce(value)
        if self.check is not None:
            try:
                self.check(value)
            except ValueError as exc:
                raise SpecError(f"{said}: {exc}") from None
        return value


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    if kinds == _NUMBER:
        return "a number"
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def between(lo: float, hi: float, unit: str = "") -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo:g} and {hi:g}{unit}")

    return check


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
    Field("codes", str, "all", "which flags: pop20, all, every, or codes and one-letter "
          "prefixes such as 'BR CN U'", "jobs", _check_codes, cli=False, example="BR CN"),
    Field("n_jobs", int, None, "N downloads, cycling through the codes (default: as many as "
          "the codes give)", "jobs", between(1, 1_000_000), flags=("-n", "--jobs"),
          metavar="N", size=True, example=3),
    Field("concurrency", int, 10, "requests in flight (C); a comma list is a sweep",
          "worker", between(1, 10_000), flags=("-m", "--max-req"), cli_list=True,
          metavar="C[,C...]", size=True, example=2),
    Field("latency", str, "0", "server latency: 0.5, 100ms, uniform:0.5..5, "
          "lognormal:median=100ms,sigma=0.5, ...", "server", _check_latency, metavar="SPEC", example="5ms"),
    Field("metadata_latency", str, None, "latency of metadata.json (default: as latency)",
          "server", _check_latency, metavar="SPEC", example="1ms"),
    *(Field(k.rate_field, _NUMBER, 0.0, f"fraction of requests that get a {k.name} fault: "
            f"the server {k.does} (0..1)", "server", between(0, 1), metavar="R", example=0.01)
      for k in FAULT_KINDS),
    Field("cpu_work", str, "", "CPU work per flag: python:2ms (holds the GIL) or hashlib:2ms "
          "(releases it)", "worker", _check_cpu_work, metavar="KIND:Nms", example="hashlib:0.1ms"),
    Field("save", bool, False, "save each flag to a file", "worker", example=True),
    Field("metadata", bool, False, "fetch metadata.json first, as the book's flags3", "worker", example=True),
    Field("retries", int, 0, "retries per request after an error", "worker", between(0, 10),
          metavar="N", example=1),
    Field("timeout_s", _NUMBER, 10.0, "per-request timeout (connect + read)", "worker",
          between(0.01, 600, " seconds"), unit="s", flags=("--timeout",), metavar="S", example=5.0),
    Field("client", str, "", "HTTP client library: requests, httpx or urllib3 for the sync "
          "strategies, aiohttp or httpx for the asyncio ones (default: each strategy's first); "
          "a comma list is a sweep", "worker", one_of(*ALL_CLIENTS), cli_list=True,
          metavar="NAME[,NAME...]", column="client_requested", example="httpx"),
    Field("loop", str, "", "event loop of the asyncio strategies: asyncio or uvloop (default "
          "asyncio); a comma list is a sweep", "worker", one_of(*LOOPS), cli_list=True,
          metavar="NAME[,NAME...]", column="loop_requested", example="uvloop"),
    Field("processes", int, None, "multiprocess_asyncio: P processes sharing C (default: one "
          "per CPU)", "worker", between(1, 256), metavar="P", example=2),
    Field("scheduler", str, None, "dask: the scheduler of an existing cluster (default: a "
          "LocalCluster per trial)", "worker", _check_scheduler, flags=("--dask-scheduler",),
          metavar="tcp://HOST:PORT", axis=False, example="tcp://127.0.0.1:8786"),
    Field("dask_workers", int, None, "dask: LocalCluster worker processes (default: one per "
          "CPU)", "worker", between(1, 64), metavar="W", example=2),
    Field("dask_threads", int, None, "dask: threads per LocalCluster worker, the batches each "
          "runs at once (default 2)", "worker", between(1, 64), metavar="T", example=1),
    Field("python", str, "", "interpreter for the trials, a version such as 3.12 or a path "
          "(default: this one)", "interpreter", _check_python, metavar="VERSION|PATH",
          column="python_requested", example=sys.executable),
)  # fmt: skip
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
    def from_mapping(cls, data: Mapping[str, Any], where: str = "workload",
                     cli: bool = False) -> Workload:  # fmt: skip
        """Validate every key and value (naming the key and what is allowed), then across
        fields; unknown keys are refused with the list of known ones."""
        for key in data:
            if key not in BY_NAME:
                raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(BY_NAME)}")
        values = {k: BY_NAME[k].validate(where, v, cli) for k, v in data.items()}
        workload = cls(**values)
        total = sum(getattr(workload, k) for k in RATE_FIELDS)
        if total > 1.0 + 1e-9:
            raise SpecError(f"{where}: the fault rates ({', '.join(RATE_FIELDS)}) add up to "
                            f"{total:g}; allowed: a sum of at most 1")  # fmt: skip
        return workload


def _cell(f: Field, value: Any) -> Any:
    if value is not None:
        return value
    return "" if f.kind is str else math.nan


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
