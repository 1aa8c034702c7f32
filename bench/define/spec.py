"""Suites: what to run, validated before anything runs, expanded into an interleaved trial list.

A suite is a TOML file (or a built-in one, see ``bench/define/suites/``)::

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
import random
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import strategies
from bench._exceptions import SpecError
from bench.define.fields import kind_name
from bench.define.plan import measured_configs, warmup_workload
from bench.define.pythons import expand_all
from bench.define.sweeps import expand
from bench.define.workload import FIELDS, Workload
from bench.suggest import did_you_mean
from flags_server import ServerConfig
from flags_server.config import CONFIG_FIELDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The run-level [server] options: the server's settings that are not workload fields, less
# the ones the harness owns (where it listens, its seed, exposure).
_HARNESS_OWNED = ("host", "port", "seed", "allow_remote", "access_log")
#: A suite's name becomes part of its run folder's name: no path separators, no hidden files.
SUITE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


def server_keys() -> tuple[str, ...]:

    per_workload = {f.name for f in FIELDS if f.configures == "server"}
    return tuple(k for k in CONFIG_FIELDS if k not in per_workload and k not in _HARNESS_OWNED)


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trial:
        return cls(**{**data, "workload": Workload(**data["workload"])})


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
    # Rounds added after the repeats (``--resolve``), each naming the config_ids it runs: kept
    # in the spec so that the trial list, and a resume, stay exactly what ran.
    extra_rounds: tuple[tuple[str, ...], ...] = ()

    def configs(self) -> list[tuple[str, Workload]]:
        sets = self.strategy_sets or ((),) * len(self.workloads)
        pairs = zip(self.workloads, sets, strict=True)
        return [(s, w) for w, only in pairs for s in (only or self.strategies)]

    def trials(self) -> list[Trial]:
        """Warm-up rounds first (each trial cut short), then one shuffled round per repeat of
        every configuration a strategy can tell apart (``bench.define.plan``), then the extra
        rounds, each of its own configurations."""

        rng = random.Random(self.seed)
        configs = measured_configs(self.configs())
        rounds = [(-1, True)] * self.warmup + [(r, False) for r in range(self.repeats)]
        trials: list[Trial] = []
        for repeat, warmup in rounds:
            order = configs[:]
            rng.shuffle(order)
            for strategy, workload in order:
                w = warmup_workload(strategy, workload) if warmup else workload
                trials.append(Trial(len(trials), strategy, w, repeat, warmup))
        for i, ids in enumerate(self.extra_rounds):
            order = [(s, w) for s, w in configs if f"{s}-{w.workload_id}" in ids]
            rng.shuffle(order)
            for strategy, workload in order:
                trials.append(Trial(len(trials), strategy, workload, self.repeats + i))
        return trials

    def with_round(self, config_ids: Iterable[str]) -> Suite:
        """This suite with one more shuffled round of these configurations after the others."""
        return dataclasses.replace(
            self, extra_rounds=(*self.extra_rounds, tuple(sorted(config_ids)))
        )

    def rounds_of(self, config_id: str) -> int:
        """Measured repeats this suite gives a configuration: its repeats and extra rounds."""
        return self.repeats + sum(config_id in ids for ids in self.extra_rounds)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["server"] = dict(self.server)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suite:
        data = dict(data)
        data["strategies"] = tuple(data["strategies"])
        data["workloads"] = tuple(Workload(**w) for w in data["workloads"])  # upgraded by then
        data["strategy_sets"] = tuple(tuple(s) for s in data.get("strategy_sets", ()))
        data["extra_rounds"] = tuple(tuple(r) for r in data.get("extra_rounds", ()))
        return cls(**data)


# ---------------------------------------------------------------- validation


def _check_type(where: str, key: str, value: Any, kind: type | tuple[type, ...]) -> None:
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SpecError(f"{where}: {key} = {value!r} must be {kind_name(kind)}")


def _check_keys(where: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}")


def _check_strategies(where: str, names: Any) -> None:

    allowed = ", ".join(strategies.names())
    _check_type(where, "strategies", names, list)
    if not names:
        raise SpecError(f"{where}: strategies is empty; allowed: {allowed}")
    for name in names:
        if name not in strategies.names():
            raise SpecError(
                f"{where}: strategies: unknown strategy {name!r}"
                f"{did_you_mean(name, strategies.names())}; allowed: {allowed}"
            )


def suite_from_mapping(data: Mapping[str, Any], source: str) -> Suite:
    """Validate a parsed suite file. Every error names the file and the key."""

    if not data:
        raise SpecError(
            f"{source}: the suite file is empty; give at least a [suite] table with "
            "strategies, or a [[workloads]] table (see docs/harness.md)"
        )
    _check_keys(source, data, ("suite", "server", "defaults", "workloads"))
    head = data.get("suite", {})
    _check_keys(
        f"{source} [suite]",
        head,
        (
            "name",
            "description",
            "strategies",
            "repeats",
            "warmup",
            "seed",
            "watchdog_s",
            "baseline",
        ),
    )
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
    _check_keys(f"{source} [server]", server, server_keys())
    try:
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
        expanded = expand(where, expand_all(where, merged))
        workloads.extend(expanded)
        sets.extend([tuple(only)] * len(expanded))
    # a file's name may hold any character; the run folder's may not
    name = head.get("name", re.sub(r"[^A-Za-z0-9._-]+", "-", Path(source).stem).strip(".-")[:64])
    _check_type(where, "name", name, str)
    if not SUITE_NAME.fullmatch(name):
        raise SpecError(
            f"{where}: name = {name!r} is not allowed; it names the run folder: use "
            "1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
        )
    baseline = head.get("baseline", "sequential")
    _check_type(where, "baseline", baseline, str)
    if "baseline" in head and baseline not in names:
        raise SpecError(
            f"{where}: baseline = {baseline!r} is not one of the suite's strategies"
            f"{did_you_mean(baseline, names)} ({', '.join(names)})"
        )
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
    for entry in sorted(resources.files("bench.define.suites").iterdir(), key=lambda p: p.name):
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
        except UnicodeDecodeError as exc:
            raise SpecError(
                f"{source}: not a TOML file: byte {exc.start} is not UTF-8 text"
            ) from None
    else:
        suites = builtin_suites()
        if name_or_path not in suites:
            raise SpecError(
                f"unknown suite {name_or_path!r}{did_you_mean(name_or_path, suites)}; built-in "
                f"suites: {', '.join(suites)} (or give the path of a .toml file)"
            )
        source = f"built-in suite {name_or_path!r}"
        text = (resources.files("bench.define.suites") / f"{name_or_path}.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML: {exc}") from None
    return suite_from_mapping(data, source)
