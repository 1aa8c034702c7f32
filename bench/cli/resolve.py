"""``--resolve PCT``: more repeats for a run with arms, until its split comparison can see PCT.

A run whose workload has arms (``arm = ["A", "B"]``, or two values of the ``--resolve-on``
axis) is what ``flagbench compare RUN --split AXIS`` gates on. On a busy machine a noisy
configuration (a process pool of 20 processes on 2 busy cores) can leave its interval wider
than the threshold after the suite's repeats: the gate would pass a regression it cannot see.
After the repeats, every configuration whose comparison cannot yet detect a change of PCT
(the gate's ``detectable_pct``, the smallest over its measures, as the verdict's warning
counts it) gets one more interleaved round of all its arms, and so on until it can or it has
``--max-repeats``; the configurations that can stop. The rule reads the interval's width only,
never the difference found, so where it stops does not depend on which way the arms differ
(stopping on a p-value would raise the false alarms).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench._exceptions import SpecError
from bench.cli.common import MAX_REPEATS
from bench.define.spec import Suite
from bench.define.workload import BY_NAME
from bench.present.compare import differences
from bench.present.compare_split import arms, compare_split, side
from bench.results import store
from bench.suggest import did_you_mean


@dataclass(frozen=True)
class Resolve:
    threshold_pct: float
    axis: str
    max_repeats: int


def check(args: argparse.Namespace, suite: Suite) -> Resolve | None:
    """The options, checked against the suite: one line, exit 2, before anything runs."""
    if args.resolve is None:
        if args.resolve_on != "arm" or args.max_repeats != MAX_REPEATS:
            given = "--resolve-on" if args.resolve_on != "arm" else "--max-repeats"
            raise SpecError(f"{given}: give --resolve PCT too")
        return None
    pct = args.resolve
    if not (math.isfinite(pct) and 0 < pct <= 100):
        raise SpecError(f"--resolve {pct:g}: give a change in percent, more than 0 and at most 100")
    axis = args.resolve_on
    axes = [n for n, f in BY_NAME.items() if f.axis]
    if axis not in axes:
        raise SpecError(
            f"--resolve-on {axis}: not a workload axis{did_you_mean(axis, axes)}; allowed: "
            + ", ".join(axes)
        )
    column = BY_NAME[axis]
    values = {str(getattr(w, column.name)) for w in suite.workloads}
    if len(values) < 2:
        raise SpecError(
            f"--resolve {pct:g}: the suite has one value of {axis} ({', '.join(sorted(values))}); "
            f'it needs two arms or more to compare (e.g. --arm A,B, or arm = ["A", "B"])'
        )
    if not suite.repeats < args.max_repeats <= 1000:
        raise SpecError(
            f"--max-repeats {args.max_repeats}: must be more than the suite's repeats "
            f"({suite.repeats}) and at most 1000"
        )
    return Resolve(pct, axis, args.max_repeats)


@dataclass(frozen=True)
class Blind:
    """A configuration whose comparison cannot yet detect the threshold."""

    name: str  # strategy and workload, as the comparison prints them
    config_ids: frozenset[str]  # every arm's
    detectable_pct: float  # the widest over its arms; NaN: too few repeats


def unresolved(run: store.Run, r: Resolve) -> list[Blind]:
    """The configurations whose comparison (every arm against the first, the smallest
    detectable change over the measures) cannot yet detect ``r.threshold_pct``."""
    values = arms(run, r.axis)
    first = side(run, r.axis, values[0]).trials
    # what else differs with the arm is part of the arm (aa_gate's slower B has a longer
    # latency): matched as compare --split --ignore would match it
    tied = {
        name
        for value in values[1:]
        for name, _, _ in differences(first, side(run, r.axis, value).trials)
        if name != r.axis
    }
    table = compare_split(run, r.axis, tuple(sorted(tied)), values)
    blind = []
    for config_a, g in table.groupby("config_id", sort=False):
        per_arm = g.groupby("run")["detectable_pct"].min()
        if (per_arm <= r.threshold_pct).all():
            continue
        seen = math.nan if per_arm.isna().any() else float(per_arm.max())
        ids = frozenset({str(config_a), *map(str, g["config_id_b"])})
        blind.append(Blind(f"{g['strategy'].iloc[0]} {g['workload'].iloc[0]}", ids, seen))
    return blind


def rounds(
    suite: Suite,
    run_dir: Path,
    r: Resolve,
    note: Callable[[str], None],
    warn: Callable[[str], None],
) -> Iterator[Suite]:
    """The suite with one more round at a time, while some configuration cannot resolve the
    threshold and has repeats left; says what it adds and, at the end, what stayed blind."""
    while True:
        blind = unresolved(store.load(run_dir), r)
        more = [b for b in blind if max(map(suite.rounds_of, b.config_ids)) < r.max_repeats]
        if not more:
            break
        note(
            f"--resolve {r.threshold_pct:g}%: one more round of "
            + ", ".join(f"{b.name} (detects {_pct(b.detectable_pct)})" for b in more)
        )
        suite = suite.with_round(set().union(*(b.config_ids for b in more)))
        yield suite
    for b in blind:
        warn(
            f"--resolve {r.threshold_pct:g}%: {b.name} can only detect "
            f"{_pct(b.detectable_pct)} after {r.max_repeats} repeats (--max-repeats); "
            "compare --split will say so"
        )
    if not blind:
        most = max((suite.rounds_of(c) for ids in suite.extra_rounds for c in ids), default=0)
        tail = f" (some after {most} repeats)" if most else f" at {suite.repeats} repeats"
        note(f"--resolve {r.threshold_pct:g}%: every configuration can detect it{tail}")


def _pct(x: float) -> str:
    return "too few repeats to say" if math.isnan(x) else f"{x:.1f}%"
