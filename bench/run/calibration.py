"""What runs on this machine took, kept for the next estimate.

The estimate of a trial starts from its ideal time (``bench.estimate``); on a real machine a
strategy takes longer than ideal (its own overhead: a process pool starting its processes, a
GIL-bound pool) and the harness adds its cost per trial (a fresh worker process, the server's
reconfiguration), more on a busy or slower machine than on the one that set the defaults. A
run also has costs outside its trials: the pre-run checks, the server's start, the tables,
charts and report. Every finished ``flagbench run`` / ``suite`` records, per strategy, the
median wall time over the ideal and the median harness cost per trial, and the run's fixed
cost, in ``timing.json`` in flagbench's cache folder (``FLAGBENCH_TIMING`` names another file;
``off`` turns it off); the next estimate reads them, so dry runs and ETAs learn the machine.
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


def timing_path() -> Path | None:
    chosen = os.environ.get(ENV_VAR, "")
    if chosen == "off":
        return None
    return Path(chosen).expanduser() if chosen else cache_dir().parent / "timing.json"


@dataclass(frozen=True)
class StrategyTiming:
    slowdown: float  # median wall time over the ideal
    overhead_s: float  # median time per trial outside the timed region (the harness's)


@dataclass(frozen=True)
class Calibration:
    strategies: dict[str, StrategyTiming] = field(default_factory=dict)
    fixed_s: float = 0.0  # per run, outside its trials: checks, server, tables, report

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "fixed_s": round(self.fixed_s, 3),
            "strategies": {
                k: {"slowdown": round(v.slowdown, 4), "overhead_s": round(v.overhead_s, 4)}
                for k, v in sorted(self.strategies.items())
            },
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
        )
    except (TypeError, ValueError, KeyError, AttributeError):
        return Calibration()


@dataclass
class Recorder:
    """The trials of one run as they finish: strategy, ideal part, wall time, time taken."""

    rows: list[tuple[str, float, float, float]] = field(default_factory=list)

    def add(self, strategy: str, ideal_s: float, wall_s: float, elapsed_s: float) -> None:
        if ideal_s > 0 and wall_s > 0 and math.isfinite(wall_s) and elapsed_s >= wall_s:
            self.rows.append((strategy, ideal_s, wall_s, elapsed_s))

    def calibration(self, before: Calibration, run_elapsed_s: float) -> Calibration:
        """``before`` updated with this run: each strategy it ran, and the fixed cost."""
        new = dict(before.strategies)
        for name in {r[0] for r in self.rows}:
            mine = [r for r in self.rows if r[0] == name]
            timing = StrategyTiming(
                statistics.median(w / i for _, i, w, _ in mine),
                statistics.median(e - w for _, _, w, e in mine),
            )
            old = before.strategies.get(name)
            if old is not None:
                timing = StrategyTiming(
                    KEEP * timing.slowdown + (1 - KEEP) * old.slowdown,
                    KEEP * timing.overhead_s + (1 - KEEP) * old.overhead_s,
                )
            new[name] = timing
        fixed = max(run_elapsed_s - sum(r[3] for r in self.rows), 0.0)
        if before.fixed_s > 0:
            fixed = KEEP * fixed + (1 - KEEP) * before.fixed_s
        return Calibration(new, fixed)


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
