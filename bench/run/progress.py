"""The CLI's account of a run while it goes: the estimate first, then progress with an ETA.

On a terminal a tqdm bar; without one (piped to a file, in CI) one line per finished trial
(strategy, workload, wall time, efficiency, ETA), since a bar that redraws itself in place
leaves nothing readable in a log.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from bench.define.plan import stands_for
from bench.results.ideal import trial_ideal
from bench.run import calibration
from bench.run.estimate import Estimate, Eta, base_seconds, duration, estimate

if TYPE_CHECKING:
    from bench.define.spec import Suite, Trial
    from bench.results.records import TrialResult


def _clock(seconds_left: float) -> str:
    at = datetime.now() + timedelta(seconds=seconds_left)
    return f"ETA {at:%H:%M:%S} ({duration(seconds_left)} left)"


def plan_lines(suite: Suite, est: Estimate) -> list[str]:
    """The dry run: every trial with its estimate, the shared configurations, the total."""

    lines = [f"{'trial':>5}  {'round':<9}{'strategy':<18}{'est s':>8}  workload"]
    for t, s in est.trials:
        rnd = "warm-up" if t.warmup else f"repeat {t.repeat + 1}"
        lines.append(f"{t.trial_id:>5}  {rnd:<9}{t.strategy:<18}{s:>8.2f}  {t.workload.label}")
    labels = {w.workload_id: w.label for w in suite.workloads}
    shared = [
        (name, wid, src) for (name, wid), src in stands_for(suite.configs()).items() if src != wid
    ]
    for name, wid, src in shared:
        lines.append(
            f"{name} on {labels[wid]}: measured once, on {labels[src]} (it cannot "
            "observe the difference)"
        )
    n_warm = sum(1 for t, _ in est.trials if t.warmup)
    lines.append(
        f"{suite.name}: {len(est.trials)} trials ({n_warm} warm-up), estimated "
        f"{duration(est.total_s)} (warm-up {duration(est.warmup_s)}); nothing was run"
    )
    return lines


class Progress:
    """Start line, per-trial progress and the final line of one run, on ``stream``."""

    def __init__(self, suite: Suite, stream: TextIO | None = None) -> None:
        self.suite = suite
        # sys.stderr as it is when the run starts: a caller may have redirected it
        self.stream = stream = sys.stderr if stream is None else stream
        self.tty = stream.isatty()
        self.bar: Any = None
        self.eta: Eta | None = None
        self.total = 0
        self.done = 0
        self.estimated_s = 0.0
        self.started = self.last = self.created = time.monotonic()
        self.cal = calibration.load()
        self.recorder = calibration.Recorder()

    def start(self, run_dir: Any, todo: Sequence[Trial]) -> None:
        est = estimate(self.suite, todo, self.cal)
        self.eta, self.total, self.estimated_s = Eta(est), len(todo), est.total_s
        self.started = self.last = time.monotonic()
        print(
            f"flagbench: {self.suite.name}: {len(todo)} trials, estimated "
            f"{duration(est.total_s)}, {_clock(est.total_s)} -> {run_dir}",
            file=self.stream,
        )
        if self.tty:
            # deferred: the optional per-trial progress bar (-v)
            from tqdm import tqdm

            self.bar = tqdm(
                total=len(todo),
                unit="trial",
                file=self.stream,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]",
            )

    def trial(self, done: TrialResult) -> None:
        now = time.monotonic()
        trial = done.trial
        assert self.eta is not None
        self.eta.done(trial, now - self.last)
        if done.result is not None:
            base = base_seconds(trial, self.suite.seed, self.suite.server)
            key = calibration.config_key(trial.strategy, trial.workload.label)
            self.recorder.add(trial.strategy, base, done.result.wall_s, now - self.last, key)
        self.last = now
        self.done += 1
        left = _clock(self.eta.remaining_s())
        if done.result is None:
            outcome = f"FAILED: {done.failure}"
        else:
            efficiency = trial_ideal(done).efficiency  # the trials table's own number
            eff = f", efficiency {efficiency:.2f}" if math.isfinite(efficiency) else ""
            outcome = f"wall {done.result.wall_s:.3f} s{eff}"
        tag = " (warm-up)" if trial.warmup else ""
        if self.bar is not None:
            self.bar.set_postfix_str(f"{trial.strategy} {outcome}; {left}", refresh=False)
            self.bar.update()
            if not done.ok:
                self.bar.write(
                    f"flagbench: trial {trial.trial_id + 1} ({trial.strategy}) failed: {done.failure}",
                    file=self.stream,
                )
            return
        print(
            f"flagbench: [{self.done}/{self.total}] {trial.strategy}{tag} "
            f"{trial.workload.label}: {outcome}; {left}",
            file=self.stream,
            flush=True,
        )

    def remember(self) -> None:
        """Keep what this run measured for the next estimate (a finished run only: the time
        since this object was made covers the checks, the trials and the report)."""
        elapsed = time.monotonic() - self.created
        calibration.save(self.recorder.calibration(self.cal, elapsed, self.suite.name))

    def close(self) -> None:
        """End the bar and say how long the run took; once, however often it is called."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.total:
            print(
                f"flagbench: {self.done} of {self.total} trials in "
                f"{duration(time.monotonic() - self.started)} (estimated "
                f"{duration(self.estimated_s)})",
                file=self.stream,
            )
            self.total = 0
