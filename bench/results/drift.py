"""A machine's run-to-run drift: estimated from A/A pairs, stored beside its runs, read back.

The drift of a measure is the standard deviation of a configuration's log ratio between two
runs of the same code beyond what the repeats' own spread explains. Per pair of runs, the
excess is the mean over configurations of d^2 - se^2 (d the log ratio, se its Welch standard
error): an unbiased estimate of drift^2 that may come out negative when a pair happened to
agree. The estimate is the mean excess over the pairs, never clipped before averaging (a clip
at zero turns pairs that agreed by chance into a drift that hides the real one), with a
Student-t interval over the pairs: the pairs, not the configurations, are the independent
units, since every configuration of one pair shares that pair's machine state.

``scripts/aa_gate.py`` stores a measurement made from at least ``MIN_PAIRS`` pairs in
``<results folder>/drift.json``, for the machine it was made on; ``flagbench compare`` takes
its allowance from there when the host matches and ``--drift`` is not given.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench._atomic import write_text_atomic

FILENAME = "drift.json"
DEFAULT_DRIFT = 0.03  # run-to-run sd of a log ratio when the machine's is not measured
MIN_PAIRS = 10  # fewer pairs give an interval too wide to set a gate by
SCHEMA = 1


@dataclass(frozen=True, slots=True)
class Estimate:
    """One measure's drift: ``drift`` (sd of the log ratio) and its 95% interval, from
    ``pairs`` pairs; ``excess`` is the unclipped estimate of drift^2 (negative: the pairs
    agreed better than their repeats predict)."""

    drift: float
    low: float
    high: float
    excess: float
    pairs: int
    excess_high: float = math.nan  # the interval's upper end for drift^2, unclipped

    def words(self) -> str:
        if self.excess_high < 0:
            return (
                f"{100 * self.drift:.1f}% (from {self.pairs} A/A pairs, which agree better than "
                f"their repeats' spread predicts: drift^2 {self.excess:+.1e}, 95% upper end "
                f"{self.excess_high:+.1e})"
            )
        return (
            f"{100 * self.drift:.1f}% (95% interval {100 * self.low:.1f} to "
            f"{100 * self.high:.1f}%, from {self.pairs} A/A pair{'s' if self.pairs != 1 else ''})"
        )


def _root(x: float) -> float:
    return math.sqrt(x) if x > 0 else 0.0


def estimate(per_pair: Sequence[Sequence[tuple[float, float]]]) -> Estimate:
    """The drift from ``per_pair``: for each A/A pair, its configurations' (d, se)."""
    # deferred: scipy takes a sixth of a second to import, which every flagbench command
    # would pay (the command line reads DEFAULT_DRIFT from here)
    from scipy.special import stdtrit

    excess = np.array(
        [np.mean([d * d - se * se for d, se in pair]) for pair in per_pair if len(pair)], float
    )
    n = len(excess)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(excess.mean())
    if n < 2:
        return Estimate(_root(mean), 0.0, math.inf, mean, n, math.inf)
    half = float(stdtrit(n - 1, 0.975)) * float(excess.std(ddof=1)) / math.sqrt(n)
    return Estimate(_root(mean), _root(mean - half), _root(mean + half), mean, n, mean + half)


@dataclass(frozen=True, slots=True)
class Stored:
    """A machine's drift per measure, as ``scripts/aa_gate.py`` measured it."""

    host: str
    measured_at: str
    suite: str
    load: str
    measures: Mapping[str, Estimate]

    def allowances(self) -> dict[str, float]:
        return {m: e.drift for m, e in self.measures.items()}


def save(root: Path, stored: Stored) -> Path:
    path = root / FILENAME
    body = {"schema": SCHEMA, **asdict(stored)}
    body["measures"] = {m: asdict(e) for m, e in stored.measures.items()}
    write_text_atomic(path, json.dumps(body, indent=2) + "\n")
    return path


def load(root: Path, host: str | None = None) -> Stored | None:
    """The drift stored in ``root`` for this machine (``host``), or None: none stored, stored
    for another machine, or unreadable (then the gate's default applies, and says so)."""
    path = root / FILENAME
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("schema") != SCHEMA or body["host"] != (host or platform.node()):
            return None
        measures = {m: Estimate(**e) for m, e in body["measures"].items()}
        return Stored(body["host"], body["measured_at"], body["suite"], body["load"], measures)
    except (OSError, ValueError, KeyError, TypeError):
        return None
