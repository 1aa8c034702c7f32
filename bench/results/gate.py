"""The regression gate of ``flagbench compare``: which differences between runs are real.

Each configuration is compared on up to two measures: the wall time of a trial (Welch's t on
the log times of the repeats), and, when both runs recorded their requests with one seed, the
request measure of ``bench.results.requests_measure`` (each request's best latency over the
repeats, the median over the requests, with a hierarchical bootstrap over trials and then
requests). On a busy machine a stalled trial moves a wall time by half, which three repeats
cannot tell from a regression; a request's best latency over the repeats does not move.

Three things make a naive gate fire on an A/A comparison (the same code, run twice), and each
has its answer here:

- **Run-to-run drift.** Repeats within one run share the machine's state (its load, caches,
  clock), so their spread understates how much a second run moves. The gate adds a drift
  allowance per measure (the standard deviation of a configuration's log ratio between two
  runs of the same code) to the Welch standard error of the log ratio, as a variance that more
  repeats cannot remove. ``scripts/aa_gate.py`` measures it on a machine and stores it
  (``bench.results.drift``); without a stored measurement it is ``DEFAULT_DRIFT``.
- **Many tests at once.** Every configuration and measure is one more chance of a false
  alarm, so each test runs at ``ALPHA / m`` (Bonferroni over the m tests of the family): the
  chance of any false alarm stays at or below ``ALPHA``. The interval printed is the
  ``1 - ALPHA / m`` interval, so a verdict is ``slower`` or ``faster`` exactly when its
  interval excludes 1 (Holm's rule, used before, has no interval that agrees with it).
- **Too few repeats.** A side with fewer than two repeats has no spread to test against: the
  verdict is ``too few repeats``, never ``same``. ``detectable_pct`` says how large a
  difference must be before these repeats can call it real.

``--fail-above PCT`` fails a test that is significantly slower under this rule *and* whose
ratio (of geometric means, the centre of the interval) exceeds 1 + PCT/100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtri, stdtr, stdtrit  # t and normal, without scipy.stats' second

from bench.results.drift import DEFAULT_DRIFT

ALPHA = 0.05  # the family-wise false-alarm rate over every test of a comparison
WALL = "wall"  # a trial's wall time
REQUEST = "request"  # bench.results.requests_measure: each request's best latency, the median
LABELS = {WALL: "wall s", REQUEST: "req ms"}  # the printed name and unit
SCALE = {WALL: 1.0, REQUEST: 1000.0}  # seconds to the printed unit


def _drift_of(drift: float | Mapping[str, float], measures: pd.Series) -> np.ndarray:
    if isinstance(drift, Mapping):
        return measures.map(lambda m: drift.get(m, DEFAULT_DRIFT)).to_numpy(float)
    return np.full(len(measures), float(drift))


def decide(
    table: pd.DataFrame, drift: float | Mapping[str, float] = DEFAULT_DRIFT, alpha: float = ALPHA
) -> pd.DataFrame:
    """Add the gate's columns to a table of ``log_ratio``, ``se``, ``df`` (one row per test;
    ``measure`` picks the drift allowance when ``drift`` maps measures to allowances):
    ``ratio`` (B / A, geometric means), its ``1 - alpha / m`` interval with the drift
    allowance, ``p_value``, ``p_adj`` (Bonferroni), ``significant``, ``verdict``,
    ``detectable_pct`` (the smallest difference, in percent, that could be significant) and
    ``tests`` (m). A ``family`` column makes each of its values a comparison of its own."""
    out = table.copy()
    if "measure" not in out:
        out["measure"] = WALL
    d = out["log_ratio"].to_numpy(float)
    se = out["se"].to_numpy(float)
    df = out["df"].to_numpy(float)
    allowance = _drift_of(drift, out["measure"])
    # the allowance is a known variance (infinite degrees of freedom): Welch-Satterthwaite
    var = se**2 + allowance**2
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = np.where(se > 0, var**2 / (se**4 / df), np.inf)
        total = np.sqrt(var)
        stat = np.where(total > 0, np.abs(d) / total, 0.0)
    # m, the tests in each family: the whole table, or each value of ``family`` (a simulation
    # decides many comparisons in one call)
    family = out["family"] if "family" in out else pd.Series(0, index=out.index)
    m = pd.Series(~np.isnan(se), index=out.index).groupby(family).transform("sum")
    m = np.maximum(m.to_numpy(int), 1)
    quantile = stdtrit(dof, 1 - alpha / (2 * m))
    half = quantile * total
    out["ratio"] = np.exp(d)
    out["ratio_ci_low"] = np.exp(d - half)
    out["ratio_ci_high"] = np.exp(d + half)
    out["p_value"] = np.where(np.isnan(se), np.nan, 2 * stdtr(dof, -stat))
    out["detectable_pct"] = 100 * (np.exp(half) - 1)
    out["drift"] = allowance
    out["tests"] = m
    out["p_adj"] = np.minimum(out["p_value"].to_numpy(float) * m, 1.0)  # Bonferroni
    out["significant"] = out["p_adj"] <= alpha
    out["verdict"] = [
        "too few repeats" if math.isnan(p) else ("slower" if r > 1 else "faster") if sig else "same"
        for p, r, sig in zip(out["p_value"], out["ratio"], out["significant"], strict=True)
    ]
    return out


def regressions(table: pd.DataFrame, fail_above_pct: float) -> pd.DataFrame:
    """Tests significantly slower under the gate and by more than ``fail_above_pct``."""
    if table.empty:
        return table
    limit = 1 + fail_above_pct / 100
    return table[table["significant"] & (table["ratio"] > limit)]


def geometric_mean_ratio(table: pd.DataFrame) -> float:
    """pyperf compare_to's summary line: the geometric mean of the ratios."""
    logs = table["log_ratio"].dropna().to_numpy(float)
    return float(math.exp(logs.mean())) if len(logs) else math.nan


CAP_REPEATS = 50  # beyond this, "more repeats" is no advice


def spread_allowed(tests: int, threshold_pct: float, power: float = 0.8) -> float:
    """The largest standard deviation of a log ratio (repeats and drift together) at which a
    slowdown of ``threshold_pct`` is caught with ``power`` among ``tests`` tests."""
    z = ndtri(1 - ALPHA / (2 * max(tests, 1))) + ndtri(power)
    return math.log1p(threshold_pct / 100) / z


def repeats_needed(row: pd.Series, threshold_pct: float, power: float = 0.8) -> float:
    """Repeats a side for this test to catch a slowdown of ``threshold_pct`` with ``power``,
    if the repeats' spread stays as it is: ``inf`` when the drift allowance alone is too wide
    (no number of repeats will do) or more than ``CAP_REPEATS`` would be needed. A normal
    approximation, for advice: the test itself uses Student's t."""
    target = spread_allowed(int(row["tests"]), threshold_pct, power)
    room = target**2 - float(row["drift"]) ** 2
    n = min(int(row["n_a"]), int(row["n_b"]))
    if room <= 0 or not math.isfinite(row["se"]):
        return math.inf
    needed = max(n, math.ceil(n * float(row["se"]) ** 2 / room))
    return needed if needed <= CAP_REPEATS else math.inf
