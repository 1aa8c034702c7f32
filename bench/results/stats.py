"""Honest statistics for few, skewed samples: medians, spread, t intervals, a stability rule.

Benchmarks give a handful of repeats, and a slow outlier is common while a fast one is not, so
the summaries lead with the median and the IQR. Intervals are Student-t intervals, not
percentile bootstraps: with 3 repeats a percentile bootstrap of the mean covers the truth about
74% of the time instead of 95% (and 84% with 5 repeats), while the t interval is exact for
normal data and says plainly how little three numbers know. Wall times and their ratios
(speed-ups, run against run) are handled on the log scale, where timing noise is closer to
normal and symmetric and where an interval's bounds, mapped back, are positive by construction:
a wall time cannot be negative, and neither can its interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import stdtrit

# Student's t comes from scipy.special (a fifth of a second to import); scipy.stats, for the
# rank tests only, is imported where it is used: it takes about a second more, which every
# run (its summary's intervals) and every comparison would otherwise pay.

#: Times as a list or an array (a million rounds of an imported benchmark stay an array).
Samples = Sequence[float] | npt.NDArray[np.float64]

UNSTABLE_CV = 0.10  # pyperf warns when the standard deviation exceeds 10% of the mean
MIN_SAMPLES = 3
EXACT_MAX_N = 100  # Mann-Whitney: beyond this many values in all, the normal approximation
PERMUTATIONS = 20_000  # with ties: every split if there are no more than this, else a sample


def t975(df: float) -> float:
    """The 0.975 quantile of Student's t (a fractional df is rounded down: wider, not narrower).

    Given to three decimals, as printed t tables give it and as earlier flagbench runs used
    it, so an interval computed now is the interval an earlier run reported.
    """
    if df < 1 or math.isnan(df):
        return math.nan
    return round(float(stdtrit(math.floor(df), 0.975)), 3)


def iqr(values: Samples) -> float:
    q75, q25 = np.percentile(values, [75, 25])
    return float(q75 - q25)


def cv(values: Samples) -> float:
    """Coefficient of variation (sample std / mean); NaN with fewer than two values."""
    arr = np.asarray(values, dtype=float)
    if len(arr) < 2 or arr.mean() == 0:
        return math.nan
    return float(arr.std(ddof=1) / arr.mean())


def _positive_logs(values: Samples) -> np.ndarray | None:
    """The logs of ``values``, or None if one is not a positive finite number (no log scale)."""
    arr = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(arr) & (arr > 0)):
        return None
    return np.log(arr)


def log_ci(values: Samples) -> tuple[float, float]:
    """95% interval of the geometric mean: a Student-t interval on the logs, mapped back.

    Positive by construction; NaN with fewer than two values or a value that is not positive.
    """
    logs = _positive_logs(values)
    if logs is None or len(logs) < 2:
        return math.nan, math.nan
    half = t975(len(logs) - 1) * logs.std(ddof=1) / math.sqrt(len(logs))
    return float(math.exp(logs.mean() - half)), float(math.exp(logs.mean() + half))


def gmean(values: Samples) -> float:
    logs = _positive_logs(values)
    return math.nan if logs is None or len(logs) == 0 else float(math.exp(logs.mean()))


def stability(values: Samples) -> str:
    """``stable``, ``unstable`` (CV above 10%, pyperf's threshold) or ``not assessed`` (fewer
    than ``MIN_SAMPLES`` repeats: too few to tell noise from a steady result)."""
    if len(values) < MIN_SAMPLES:
        return "not assessed"
    return "unstable" if cv(values) > UNSTABLE_CV else "stable"


def log_diff(numerator: Samples, denominator: Samples) -> tuple[float, float, float]:
    """Mean log of ``numerator`` minus mean log of ``denominator``, its Welch standard error and
    degrees of freedom; (NaN, NaN, NaN) without two positive values a side."""
    a, b = _positive_logs(numerator), _positive_logs(denominator)
    if a is None or b is None or len(a) < 2 or len(b) < 2:
        diff = (
            math.nan if a is None or b is None or not len(a) or not len(b) else a.mean() - b.mean()
        )
        return float(diff), math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return float(a.mean() - b.mean()), 0.0, math.inf
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(a.mean() - b.mean()), se, df


def ratio_ci(numerator: Samples, denominator: Samples) -> tuple[float, float, float]:
    """Ratio of medians, with a 95% interval of the ratio from Welch's t on the logs.

    The interval is that of the ratio of geometric means, exp(mean log a - mean log b), with
    Welch's degrees of freedom; NaN unless both sides have at least two values. A value that
    is not positive has no log: the whole result is NaN, never a ratio of a negative bound.
    """
    a, b = _positive_logs(numerator), _positive_logs(denominator)
    if a is None or b is None or len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan
    ratio = float(math.exp(np.median(a) - np.median(b)))
    diff, se, df = log_diff(numerator, denominator)
    if math.isnan(se):
        return ratio, math.nan, math.nan
    half = 0.0 if se == 0 else t975(df) * se
    return ratio, float(math.exp(diff - half)), float(math.exp(diff + half))


def mann_whitney_p(a: Samples, b: Samples, seed: int = 0) -> float:
    """Two-sided p-value that ``a`` and ``b`` come from the same distribution.

    Exact where it applies (no ties, at most ``EXACT_MAX_N`` values: benchmarks rarely have
    more than a dozen repeats); with ties, a permutation test of the rank sum, exact over
    every split when there are at most ``PERMUTATIONS`` of them and sampled with ``seed``
    beyond; for large samples, the tie-corrected normal approximation. With 3 repeats a side
    the smallest possible p is 0.1: three repeats cannot show a significant difference by
    ranks alone, and this says so. With fewer than two values a side there is nothing to
    test: NaN (not enough repeats), never an error.
    """
    # deferred: scipy takes about half a second to load; only intervals and tests need it
    from scipy import stats as sps

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if len(x) < 2 or len(y) < 2:
        return math.nan
    pooled = np.concatenate([x, y])
    if np.all(pooled == pooled[0]):  # every value tied: no order at all (a run against itself)
        return 1.0
    if len(pooled) > EXACT_MAX_N:
        method = "asymptotic"
    elif len(np.unique(pooled)) == len(pooled):
        method = "exact"
    else:
        return _tied_rank_sum_p(pooled, len(x), seed)
    return float(sps.mannwhitneyu(x, y, alternative="two-sided", method=method).pvalue)


def _tied_rank_sum_p(pooled: np.ndarray, n: int, seed: int) -> float:
    """P(|S - E| >= |s - E|) for the rank sum S of ``n`` values drawn from ``pooled``.

    With ties the rank sum's distribution is not symmetric, so this is not twice the smaller
    tail (mannwhitneyu's two-sided p); it is the distance from the mean, the p-value earlier
    flagbench runs reported.
    """
    # deferred: scipy takes about half a second to load; only intervals and tests need it
    from scipy import stats as sps

    ranks = sps.rankdata(pooled)
    expected = n * (len(pooled) + 1) / 2

    def distance(rx: np.ndarray, ry: np.ndarray, axis: int) -> np.ndarray:
        return np.abs(np.sum(rx, axis=axis) - expected)

    result = sps.permutation_test(
        (ranks[:n], ranks[n:]),
        distance,
        vectorized=True,
        permutation_type="independent",
        alternative="greater",
        n_resamples=PERMUTATIONS,
        batch=1000,
        rng=np.random.default_rng(seed),
    )
    return float(result.pvalue)
