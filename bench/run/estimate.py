"""How long a run will take, before it starts: the ideal time of each trial plus the harness's cost.

A trial's estimate is its ideal time (``bench.results.ideal``, on the server's own draws for the suite's
seed, with the C the strategy can use) and its CPU work, times the strategy's slowdown (its
wall time over that, as measured here), plus the harness's cost per trial (worker start, server
reconfiguration, records); a run adds its fixed cost (checks, server, tables, report). The
slowdowns and costs are what earlier runs on this machine measured (``bench.run.calibration``),
and a configuration run here before is estimated at what its trials took then;
before any, a slowdown of 1 and ``HARNESS_OVERHEAD_S``, measured by
``scripts/bench_harness.py`` on the development machine (0.21 to 0.29 s; rounded up). The ETA
shown while a run goes corrects the remaining estimate by how the finished trials compared
with theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bench.define.plan import effective_concurrency, strategy_class
from bench.define.spec import Suite, Trial
from bench.define.workload import Workload
from bench.results import ideal, openloop
from bench.run import calibration
from bench.run.calibration import Calibration
from flags_server import ServerConfig

HARNESS_OVERHEAD_S = 0.3


@lru_cache(maxsize=512)
def _ideal(server: tuple[tuple[str, Any], ...], seed: int, w: Workload, c: int) -> float:
    config = ServerConfig(seed=seed, **dict(server), **w.server_changes())
    waits = ideal.request_waits(config, w.codes_list(), w.metadata, w.timeout_s)
    return ideal.scheduled_ideal(waits, c)


def base_seconds(trial: Trial, seed: int, server: Mapping[str, Any]) -> float:
    """A perfect client's time for the trial: its ideal, paced for an open loop, and its CPU
    work (what a strategy's measured slowdown multiplies)."""
    w = trial.workload
    c = effective_concurrency(strategy_class(trial.strategy), w)
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in server.items()))
    cpu = w.jobs_count() * w.cpu_work.seconds
    paced = openloop.paced_ideal_s(w, _ideal(frozen, seed, w, c), 0.0) or 0.0
    return paced + cpu


def trial_seconds(
    trial: Trial, seed: int, server: Mapping[str, Any], cal: Calibration | None = None
) -> float:
    """The estimate of one trial, harness overhead included: what this configuration took
    here before, or else its ideal times the strategy's slowdown."""
    cal = cal or Calibration()
    known = cal.configs.get(calibration.config_key(trial.strategy, trial.workload.label))
    if known is not None:
        return known
    timing = cal.strategies.get(trial.strategy)
    slowdown, overhead = (
        (timing.slowdown, timing.overhead_s) if timing else (1.0, HARNESS_OVERHEAD_S)
    )
    return base_seconds(trial, seed, server) * slowdown + overhead


@dataclass(frozen=True)
class Estimate:
    trials: tuple[tuple[Trial, float], ...]
    fixed_s: float = 0.0  # the run's cost outside its trials, as measured here before

    @property
    def total_s(self) -> float:
        return sum(s for _, s in self.trials) + self.fixed_s

    @property
    def warmup_s(self) -> float:
        return sum(s for t, s in self.trials if t.warmup)


def estimate(
    suite: Suite, trials: Sequence[Trial] | None = None, cal: Calibration | None = None
) -> Estimate:
    """Per trial (all of the suite's, or those given), the estimated seconds, with what runs
    on this machine measured (``bench.calibration``; read from its cache when not given)."""
    todo = suite.trials() if trials is None else trials
    cal = calibration.load() if cal is None else cal
    return Estimate(
        tuple((t, trial_seconds(t, suite.seed, suite.server, cal)) for t in todo),
        cal.fixed_for(suite.name),
    )


def duration(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``1 h 05 min``."""
    s = round(seconds)
    if s < 60:
        return f"{max(s, 1) if seconds > 0 else 0} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Eta:
    """The remaining time of a run, from the estimates, corrected by the trials already done."""

    def __init__(self, est: Estimate) -> None:
        self._left = {t.trial_id: s for t, s in est.trials}
        self._fixed = est.fixed_s  # mostly the tables and report, after the last trial
        self._done_est = 0.0
        self._done_real = 0.0

    def done(self, trial: Trial, elapsed_s: float) -> None:
        self._done_est += self._left.pop(trial.trial_id, 0.0)
        self._done_real += elapsed_s

    def remaining_s(self) -> float:
        factor = self._done_real / self._done_est if self._done_est > 0 else 1.0
        return factor * sum(self._left.values()) + self._fixed
