"""Honest statistics for few, skewed samples: medians, spread, t intervals, a stability rule.

Benchmarks give a handful of repeats, and a slow outlier is common while a fast one is not, so
the summaries lead with the median and the IQR. Intervals are Student-t intervals, not
percentile bootstraps: with 3 repeats a percentile bootstrap of the mean covers the truth about
74% of the time instead of 95% (and 84% with 5 repeats), while the t interval is exact for
normal data and says plainly how little three numbers know. Ratios (speed-ups, run against
run) are compared on the log scale, where timing noise is closer to normal and symmetric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np

UNSTABLE_CV = 0.10  # pyperf warns when the standard deviation exceeds 10% of the mean
MIN_SAMPLES = 3

# two-sided 95%: the 0.975 quantile of Student's t for 1..30 degrees of freedom
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip
_Z975 = 1.959964


def t975(df: float) -> float:
    """The 0.975 quantile of Student's t (a fractional df is rounded down: wider, not narrower)."""
    if df < 1 or math.isnan(df):
        return math.nan
    if df <= len(_T975):
        return _T975[int(df) - 1]
    z = _Z975  # Cornish-Fisher expansion, good to 1e-4 beyond 30 degrees of freedom
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def iqr(values: Sequence[float]) -> float:
    q75, q25 = np.percentile(values, [75, 25])
    return float(q75 - q25)


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (sample std / mean); NaN with fewer than two values."""
    arr = np.asarray(values, dtype=float)
    if len(arr) < 2 or arr.mean() == 0:
        return math.nan
    return float(arr.std(ddof=1) / arr.mean())


def is_unstable(values: Sequence[float]) -> bool:
    """Too few repeats to judge, or a spread above 10% of the mean: distrust small differences."""
    return len(values) < MIN_SAMPLES or cv(values) > UNSTABLE_CV


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """95% Student-t interval of the mean; NaN with fewer than two values."""
    arr = np.asarray(values, dtype=float)
    if len(arr) < 2:
        return math.nan, math.nan
    half = t975(len(arr) - 1) * arr.std(ddof=1) / math.sqrt(len(arr))
    return float(arr.mean() - half), float(arr.mean() + half)


def ratio_ci(numerator: Sequence[float], denominator: Sequence[float]) -> tuple[float, float, float]:
    """Ratio of medians, with a 95% interval of the ratio from Welch's t on the logs.

    The interval is that of the ratio of geometric means, exp(mean log a - mean log b), with
    Welch's degrees of freedom; NaN unless both sides have at least two values.
    """
    a = np.log(np.asarray(numerator, dtype=float))
    b = np.log(np.asarray(denominator, dtype=float))
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan
    ratio = float(math.exp(np.median(a) - np.median(b)))
    if len(a) < 2 or len(b) < 2:
        return ratio, math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = a.mean() - b.mean()
    se = math.sqrt(va + vb)
    if se == 0:
        return ratio, float(math.exp(diff)), float(math.exp(diff))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t975(df) * se
    return ratio, float(math.exp(diff - half)), float(math.exp(diff + half))


def mann_whitney_p(a: Sequence[float], b: Sequence[float], seed: int = 0) -> float:
    """Two-sided p-value that ``a`` and ``b`` come from the same distribution.

    Exact by enumeration for small samples (benchmarks rarely have more than a dozen repeats),
    Monte Carlo beyond that. With 3 repeats a side the smallest possible p is 0.1: three
    repeats cannot show a significant difference by ranks alone, and this says so.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if len(x) == 0 or len(y) == 0:
        return math.nan
    pooled = np.concatenate([x, y])
    ranks = _ranks(pooled)
    n = len(x)
    expected = n * (len(pooled) + 1) / 2
    dev = abs(ranks[:n].sum() - expected)
    if len(pooled) <= 16:
        sums = [ranks[list(c)].sum() for c in combinations(range(len(pooled)), n)]
    else:
        rng = np.random.default_rng(seed)
        sums = [ranks[rng.permutation(len(pooled))[:n]].sum() for _ in range(20_000)]
    return float(np.mean(np.abs(np.asarray(sums) - expected) >= dev - 1e-9))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), 1-based."""
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):
        tie = values == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return ranks
