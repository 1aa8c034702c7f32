"""How long a run will take, before it starts: the ideal time of each trial plus the harness's cost.

A trial's estimate is its ideal time (``bench.ideal``, on the server's own draws for the suite's
seed, with the C the strategy can use), its CPU work, and ``HARNESS_OVERHEAD_S``: the harness's
measured cost per trial (worker start, server reconfiguration, records), from
``scripts/bench_harness.py`` on the development machine (0.21 to 0.29 s; rounded up). A strategy
that is slower than ideal makes the run longer than this, so the ETA shown while a run goes
corrects the remaining estimate by how the finished trials compared with theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flags_server import ServerConfig

from . import ideal, openloop
from .plan import effective_concurrency, strategy_class
from .spec import Suite, Trial
from .workload import Workload

HARNESS_OVERHEAD_S = 0.3


@lru_cache(maxsize=512)
def _ideal(server: tuple[tuple[str, Any], ...], seed: int, w: Workload, c: int) -> float:
    config = ServerConfig(seed=seed, **dict(server), **w.server_changes())
    waits = ideal.request_waits(config, w.codes_list(), w.metadata, w.timeout_s)
    return ideal.scheduled_ideal(waits, c)


def trial_seconds(trial: Trial, seed: int, server: Mapping[str, Any]) -> float:
    """The estimate of one trial, harness overhead included."""
    w = trial.workload
    c = effective_concurrency(strategy_class(trial.strategy), w)
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in server.items()))
    cpu = w.jobs_count() * w.cpu_work.seconds
    paced = openloop.paced_ideal_s(w, _ideal(frozen, seed, w, c), 0.0) or 0.0
    return paced + cpu + HARNESS_OVERHEAD_S


@dataclass(frozen=True)
class Estimate:
    trials: tuple[tuple[Trial, float], ...]

    @property
    def total_s(self) -> float:
        return sum(s for _, s in self.trials)

    @property
    def warmup_s(self) -> float:
        return sum(s for t, s in self.trials if t.warmup)


def estimate(suite: Suite, trials: Sequence[Trial] | None = None) -> Estimate:
    """Per trial (all of the suite's, or those given), the estimated seconds."""
    todo = suite.trials() if trials is None else trials
    return Estimate(tuple((t, trial_seconds(t, suite.seed, suite.server)) for t in todo))


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
        self._done_est = 0.0
        self._done_real = 0.0

    def done(self, trial: Trial, elapsed_s: float) -> None:
        self._done_est += self._left.pop(trial.trial_id, 0.0)
        self._done_real += elapsed_s

    def remaining_s(self) -> float:
        factor = self._done_real / self._done_est if self._done_est > 0 else 1.0
        return factor * sum(self._left.values())
