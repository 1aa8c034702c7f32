"""What runs on this machine took, kept for the next estimate.

The estimate of a trial starts from its ideal time (``bench.estimate``); on a real machine a
strategy takes longer than ideal (its own overhead: a process pool starting its processes, a
GIL-bound pool) and the harness adds its cost per trial (a fresh worker process, the server's
reconfiguration), more on a busy or slower machine than on the one that set the defaults. A
run also has costs outside its trials: the pre-run checks, the server's start, the tables,
charts and report. Every finished ``flagbench run`` / ``suite`` records, per strategy, the
median wall time over the ideal and the median harness cost per trial; per configuration
(strategy and workload), the median time a trial took; and per suite, the run's fixed cost;
in ``timing.json`` in flagbench's cache folder (``FLAGBENCH_TIMING`` names another file;
``off`` turns it off). The next estimate takes a configuration's own time where this machine
has run it, and the strategy's slowdown elsewhere: one slowdown per strategy cannot fit a
suite whose configurations differ in kind (an event loop blocked by 20 ms writes is ten times
its ideal, unblocked it is close to it), so dry runs and ETAs learn the machine per
configuration.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench._atomic import write_text_atomic
from bench.run.venvs import cache_dir

ENV_VAR = "FLAGBENCH_TIMING"
SCHEMA = 1
KEEP = 0.5  # weight of the newest run against what was known before
MAX_CONFIGS = 4000  # configurations remembered; the oldest go first


def timing_path() -> Path | None:
    chosen = os.environ.get(ENV_VAR, "")
    if chosen == "off":
        return None
    return Path(chosen).expanduser() if chosen else cache_dir().parent / "timing.json"


@dataclass(frozen=True)
class StrategyTiming:
    slowdown: float  # median wall time over the ideal
    overhead_s: float  # median time per trial outside the timed region (the harness's)


def config_key(strategy: str, workload_label: str) -> str:
    """A configuration's name in ``timing.json``: the strategy and the workload's label."""
    return f"{strategy} {workload_label}"


@dataclass(frozen=True)
class Calibration:
    strategies: dict[str, StrategyTiming] = field(default_factory=dict)
    fixed_s: float = 0.0  # per run, outside its trials: checks, server, tables, report
    configs: dict[str, float] = field(default_factory=dict)  # config_key: seconds a trial took
    suites: dict[str, float] = field(default_factory=dict)  # suite name: its fixed cost

    def fixed_for(self, suite: str) -> float:
        return self.suites.get(suite, self.fixed_s)

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "fixed_s": round(self.fixed_s, 3),
            "strategies": {
                k: {"slowdown": round(v.slowdown, 4), "overhead_s": round(v.overhead_s, 4)}
                for k, v in sorted(self.strategies.items())
            },
            "configs": {k: round(v, 4) for k, v in self.configs.items()},
            "suites": {k: round(v, 3) for k, v in sorted(self.suites.items())},
        }


def load() -> Calibration:
    """What earlier runs here recorded; nothing (the defaults) when unknown or unreadable."""
    path = timing_path()
    try:
        data = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):
        return Calibration()
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return Calibration()
    try:
        return Calibration(
            {
                str(k): StrategyTiming(float(v["slowdown"]), float(v["overhead_s"]))
                for k, v in data.get("strategies", {}).items()
            },
            float(data.get("fixed_s", 0.0)),
            {str(k): float(v) for k, v in data.get("configs", {}).items()},
            {str(k): float(v) for k, v in data.get("suites", {}).items()},
        )
    except (TypeError, ValueError, KeyError, AttributeError):
        return Calibration()


def _blend(newest: float, known: float | None) -> float:
    """The newest measurement, weighted ``KEEP`` against what was known before (if anything)."""
    return newest if known is None else KEEP * newest + (1 - KEEP) * known


@dataclass
class Recorder:
    """The trials of one run as they finish: strategy, ideal part, wall time, time taken, and
    the time each configuration's trials took."""

    rows: list[tuple[str, float, float, float]] = field(default_factory=list)
    taken: dict[str, list[float]] = field(default_factory=dict)

    def add(
        self, strategy: str, ideal_s: float, wall_s: float, elapsed_s: float, key: str = ""
    ) -> None:
        if ideal_s > 0 and wall_s > 0 and math.isfinite(wall_s) and elapsed_s >= wall_s:
            self.rows.append((strategy, ideal_s, wall_s, elapsed_s))
            if key:
                self.taken.setdefault(key, []).append(elapsed_s)

    def calibration(
        self, before: Calibration, run_elapsed_s: float, suite: str = ""
    ) -> Calibration:
        """``before`` updated with this run: each strategy and configuration it ran, and its
        fixed cost (for the suite, and for any run)."""
        new = dict(before.strategies)
        for name in {r[0] for r in self.rows}:
            mine = [r for r in self.rows if r[0] == name]
            slowdown = statistics.median(w / i for _, i, w, _ in mine)
            overhead = statistics.median(e - w for _, _, w, e in mine)
            old = before.strategies.get(name)
            if old is not None:
                slowdown, overhead = (
                    _blend(slowdown, old.slowdown),
                    _blend(overhead, old.overhead_s),
                )
            new[name] = StrategyTiming(slowdown, overhead)
        configs = dict(before.configs)
        for key, times in self.taken.items():
            known = configs.pop(key, None)  # popped: the newest go last, the oldest first
            configs[key] = _blend(statistics.median(times), known)
        configs = dict(list(configs.items())[-MAX_CONFIGS:])
        measured = max(run_elapsed_s - sum(r[3] for r in self.rows), 0.0)
        fixed = _blend(measured, before.fixed_s if before.fixed_s > 0 else None)
        suites = dict(before.suites)
        if suite:
            suites[suite] = _blend(measured, suites.get(suite))
        return Calibration(new, fixed, configs, suites)


def save(cal: Calibration) -> None:
    """Write ``timing.json``; a cache that cannot be written costs only the next estimate."""
    path = timing_path()
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(cal.to_dict(), indent=1) + "\n")
    except OSError:
        pass
