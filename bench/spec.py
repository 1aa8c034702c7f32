"""Suites: what to run, validated before anything runs, expanded into an interleaved trial list.

A suite is a TOML file (or a built-in one, see ``bench/suites/``)::

    [suite]
    name = "mine"
    strategies = ["sequential", "asyncio"]
    repeats = 3          # measured trials per configuration
    warmup = 1           # unrecorded rounds of every configuration first
    seed = 42            # server faults/latencies and the trial order

    [server]             # run-level server options (see flags_server.ServerConfig)
    payload_size = 12000

    [defaults]           # workload values shared by every [[workloads]] table
    latency = "100ms"

    [[workloads]]        # a list value is a sweep axis; the matrix is the product
    concurrency = [1, 10, 100]
    n_jobs = [100, 1000]

Trials run in a seeded random order, one shuffled round per repeat, so slow drift of the machine
hits every strategy alike instead of biasing whichever ran last.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import random
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from flags_server import ConfigError

from ._exceptions import SpecError
from .codes import resolve_codes
from .pythons import resolve_python

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RATE_KEYS = ("error_rate", "timeout_rate", "reset_rate", "truncate_rate", "slow_rate")
SERVER_KEYS = (
    "payload_size", "flags_zip", "loop", "max_inflight", "overflow", "error_codes",
    "timeout_hold_s", "bandwidth_bps", "prefix",
)  # fmt: skip


@dataclass(frozen=True)
class Workload:
    """Everything about a trial except the strategy: the same workload means identical conditions."""

    codes: str = "all"  # "pop20" | "all" | "every" | explicit codes or prefixes, e.g. "BR CN U"
    n_jobs: int | None = None  # None: as many as the codes give; more cycles through them
    concurrency: int = 10
    latency: str = "0"
    metadata_latency: str | None = None
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    slow_rate: float = 0.0
    cpu_work: str = ""  # "" or "python:2ms" / "hashlib:1ms"
    save: bool = False
    metadata: bool = False
    retries: int = 0
    timeout_s: float = 10.0
    python: str = ""  # "" is the interpreter running flagbench

    @property
    def workload_id(self) -> str:
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.blake2b(blob.encode(), digest_size=4).hexdigest()

    @property
    def label(self) -> str:
        """A short human label: N, C and latency, plus whatever differs from the defaults."""
        parts = [f"N={self.jobs_count()}", f"C={self.concurrency}", f"latency={self.latency}"]
        default = Workload()
        for f in dataclasses.fields(self):
            if f.name in ("n_jobs", "concurrency", "latency"):
                continue
            value = getattr(self, f.name)
            if value != getattr(default, f.name):
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
        changes: dict[str, Any] = {k: getattr(self, k) for k in RATE_KEYS}
        changes["latency"] = self.latency
        changes["metadata_latency"] = self.metadata_latency
        return changes


@dataclass(frozen=True)
class Trial:
    trial_id: int
    strategy: str
    workload: Workload
    repeat: int  # 0-based; warm-up trials have repeat -1
    warmup: bool = False

    @property
    def config_id(self) -> str:
        return f"{self.strategy}-{self.workload.workload_id}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Suite:
    name: str
    strategies: tuple[str, ...]
    workloads: tuple[Workload, ...]
    description: str = ""
    repeats: int = 3
    warmup: int = 1
    seed: int = 0
    server: Mapping[str, Any] = field(default_factory=dict)
    watchdog_s: float | None = None  # None: derived per trial from its workload
    source: str = "<command line>"
    # Per workload, the strategies it runs (empty: all of ``strategies``); a process pool of
    # 1,000 processes, say, has no place in a concurrency sweep.
    strategy_sets: tuple[tuple[str, ...], ...] = ()
    baseline: str = "sequential"  # speed-ups are its wall time over each strategy's

    def configs(self) -> list[tuple[str, Workload]]:
        sets = self.strategy_sets or ((),) * len(self.workloads)
        pairs = zip(self.workloads, sets, strict=True)
        return [(s, w) for w, only in pairs for s in (only or self.strategies)]

    def trials(self) -> list[Trial]:
        """Warm-up rounds first, then one shuffled round of every configuration per repeat."""
        rng = random.Random(self.seed)
        configs = self.configs()
        rounds = [(-1, True)] * self.warmup + [(r, False) for r in range(self.repeats)]
        trials: list[Trial] = []
        for repeat, warmup in rounds:
            order = configs[:]
            rng.shuffle(order)
            for strategy, workload in order:
                trials.append(Trial(len(trials), strategy, workload, repeat, warmup))
        return trials

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["server"] = dict(self.server)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suite:
        data = dict(data)
        data["strategies"] = tuple(data["strategies"])
        data["workloads"] = tuple(Workload(**w) for w in data["workloads"])
        data["strategy_sets"] = tuple(tuple(s) for s in data.get("strategy_sets", ()))
        return cls(**data)


# ---------------------------------------------------------------- validation


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


def _check_type(where: str, key: str, value: Any, kind: type | tuple[type, ...]) -> None:
    # bool is an int in Python; a suite that says `concurrency = true` is a mistake.
    if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
        raise SpecError(f"{where}: {key} = {value!r} must be {_kind_name(kind)}")
    if not isinstance(value, kind):
        raise SpecError(f"{where}: {key} = {value!r} must be {_kind_name(kind)}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def validate_workload(where: str, w: Workload) -> Workload:
    """Check every value, naming the key and what is allowed; returns the workload unchanged."""
    from flags_server.latency import parse_latency

    if w.concurrency < 1 or w.concurrency > 10_000:
        raise SpecError(f"{where}: concurrency = {w.concurrency} must be between 1 and 10000")
    if w.n_jobs is not None and not 1 <= w.n_jobs <= 1_000_000:
        raise SpecError(f"{where}: n_jobs = {w.n_jobs} must be between 1 and 1000000")
    try:
        resolve_codes(w.codes)
    except ValueError as exc:
        raise SpecError(f"{where}: codes = {w.codes!r}: {exc}") from None
    for key in ("latency", "metadata_latency"):
        spec = getattr(w, key)
        if spec is None:
            continue
        try:
            parse_latency(spec)
        except (ValueError, ConfigError) as exc:
            raise SpecError(f"{where}: {key} = {spec!r}: {exc}") from None
    for key in RATE_KEYS:
        rate = getattr(w, key)
        if not 0.0 <= rate <= 1.0:
            raise SpecError(f"{where}: {key} = {rate} must be between 0 and 1")
    if sum(getattr(w, k) for k in RATE_KEYS) > 1.0:
        raise SpecError(f"{where}: the fault rates ({', '.join(RATE_KEYS)}) add up to more than 1")
    if w.cpu_work:
        try:
            parse_cpu_work(w.cpu_work)
        except ValueError as exc:
            raise SpecError(f"{where}: cpu_work = {w.cpu_work!r}: {exc}") from None
    if not 0 <= w.retries <= 10:
        raise SpecError(f"{where}: retries = {w.retries} must be between 0 and 10")
    if not 0.01 <= w.timeout_s <= 600:
        raise SpecError(f"{where}: timeout_s = {w.timeout_s} must be between 0.01 and 600 seconds")
    if w.python:
        try:
            resolve_python(w.python)
        except ValueError as exc:
            raise SpecError(f"{where}: python = {w.python!r}: {exc}") from None
    return w


_NUMBER = (int, float)
_WORKLOAD_TYPES: dict[str, type | tuple[type, ...]] = {
    "codes": str, "n_jobs": int, "concurrency": int, "latency": str, "metadata_latency": str,
    "error_rate": _NUMBER, "timeout_rate": _NUMBER, "reset_rate": _NUMBER,
    "truncate_rate": _NUMBER, "slow_rate": _NUMBER, "cpu_work": str, "save": bool,
    "metadata": bool, "retries": int, "timeout_s": _NUMBER, "python": str,
}  # fmt: skip


def expand_workloads(where: str, table: Mapping[str, Any]) -> list[Workload]:
    """A workload table whose list values are sweep axes, expanded into their product."""
    for key in table:
        if key not in _WORKLOAD_TYPES:
            allowed = ", ".join(_WORKLOAD_TYPES)
            raise SpecError(f"{where}: unknown key {key!r}; allowed: {allowed}")
    axes: list[list[tuple[str, Any]]] = []
    for key, value in table.items():
        values = value if isinstance(value, list) else [value]
        if not values:
            raise SpecError(f"{where}: {key} is an empty list; give at least one value")
        for v in values:
            _check_type(where, key, v, _WORKLOAD_TYPES[key])
        axes.append([(key, float(v) if key in (*RATE_KEYS, "timeout_s") else v) for v in values])
    return [
        validate_workload(where, Workload(**dict(combo)))
        for combo in itertools.product(*axes)
    ]


def _check_keys(where: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}")


def _check_strategies(where: str, names: Any) -> None:
    import strategies

    allowed = ", ".join(strategies.names())
    _check_type(where, "strategies", names, list)
    if not names:
        raise SpecError(f"{where}: strategies is empty; allowed: {allowed}")
    for name in names:
        if name not in strategies.names():
            raise SpecError(f"{where}: strategies: unknown strategy {name!r}; allowed: {allowed}")


def suite_from_mapping(data: Mapping[str, Any], source: str) -> Suite:
    """Validate a parsed suite file. Every error names the file and the key."""
    import strategies

    _check_keys(source, data, ("suite", "server", "defaults", "workloads"))
    head = data.get("suite", {})
    _check_keys(f"{source} [suite]", head, (
        "name", "description", "strategies", "repeats", "warmup", "seed", "watchdog_s",
        "baseline",
    ))  # fmt: skip
    where = f"{source} [suite]"
    names = head.get("strategies", strategies.names())
    _check_strategies(where, names)
    for key, lo, hi in (("repeats", 1, 1000), ("warmup", 0, 100), ("seed", 0, 2**32 - 1)):
        if key in head:
            _check_type(where, key, head[key], int)
            if not lo <= head[key] <= hi:
                raise SpecError(f"{where}: {key} = {head[key]} must be between {lo} and {hi}")
    if "watchdog_s" in head:
        _check_type(where, "watchdog_s", head["watchdog_s"], (int, float))
        if head["watchdog_s"] <= 0:
            raise SpecError(f"{where}: watchdog_s = {head['watchdog_s']} must be positive")

    server = dict(data.get("server", {}))
    _check_keys(f"{source} [server]", server, SERVER_KEYS)
    try:
        from flags_server import ServerConfig

        ServerConfig(**server)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{source} [server]: {exc}") from None

    defaults = data.get("defaults", {})
    tables = data.get("workloads", [{}])
    if not isinstance(tables, list) or not tables:
        raise SpecError(f"{source}: workloads must be a non-empty array of tables ([[workloads]])")
    workloads: list[Workload] = []
    sets: list[tuple[str, ...]] = []
    for i, table in enumerate(tables, 1):
        where = f"{source} [[workloads]] #{i}"
        merged = {**defaults, **table}
        only = merged.pop("strategies", [])
        if only:
            _check_strategies(where, only)
        expanded = expand_workloads(where, merged)
        workloads.extend(expanded)
        sets.extend([tuple(only)] * len(expanded))
    name = head.get("name", Path(source).stem)
    _check_type(where, "name", name, str)
    baseline = head.get("baseline", "sequential")
    _check_type(where, "baseline", baseline, str)
    if "baseline" in head and baseline not in names:
        raise SpecError(f"{where}: baseline = {baseline!r} is not one of the suite's strategies "
                        f"({', '.join(names)})")
    return Suite(
        name=name,
        description=head.get("description", ""),
        strategies=tuple(names),
        workloads=tuple(workloads),
        repeats=head.get("repeats", 3),
        warmup=head.get("warmup", 1),
        seed=head.get("seed", 0),
        server=server,
        watchdog_s=head.get("watchdog_s"),
        source=source,
        strategy_sets=tuple(sets) if any(sets) else (),
        baseline=baseline,
    )


# ---------------------------------------------------------------- loading


def builtin_suites() -> dict[str, str]:
    """Name -> first line of the description, for ``flagbench list``."""
    out = {}
    for entry in sorted(resources.files("bench.suites").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            out[entry.name[:-5]] = data.get("suite", {}).get("description", "")
    return out


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name, or a TOML file by path."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.exists():
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{source}: cannot read suite file ({exc.strerror})") from None
    else:
        suites = builtin_suites()
        if name_or_path not in suites:
            raise SpecError(
                f"unknown suite {name_or_path!r}; built-in suites: {', '.join(suites)} "
                "(or give the path of a .toml file)"
            )
        source = f"built-in suite {name_or_path!r}"
        text = (resources.files("bench.suites") / f"{name_or_path}.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML: {exc}") from None
    return suite_from_mapping(data, source)
