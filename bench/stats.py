"""Honest statistics for small samples: medians, spread, bootstrap intervals, a stability rule.

Benchmarks give few, skewed samples (a slow outlier is common, a fast one is not), so the
summaries lead with the median and the IQR, and intervals come from the bootstrap rather than
from a normal approximation. Every resampling uses a seeded generator: the same run gives the
same report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
UNSTABLE_CV = 0.10  # pyperf warns when the standard deviation exceeds 10% of the mean
MIN_SAMPLES = 3


def iqr(values: Sequence[float]) -> float:
    q75, q25 = np.percentile(values, [75, 25])
    return float(q75 - q25)


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (sample std / mean); NaN with fewer than two values."""
    arr = np.asarray(values, dtype=float)
    if len(arr) < 2 or arr.mean() == 0:
        return float("nan")
    return float(arr.std(ddof=1) / arr.mean())


def is_unstable(values: Sequence[float]) -> bool:
    """Too few samples to judge, or a spread above 10% of the mean: do not trust small differences."""
    return len(values) < MIN_SAMPLES or cv(values) > UNSTABLE_CV


def bootstrap_mean_ci(values: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean."""
    arr = np.asarray(values, dtype=float)
    if len(arr) == 0:
        return float("nan"), float("nan")
    if len(arr) == 1:
        return float(arr[0]), float(arr[0])
    rng = np.random.default_rng(seed)
    means = rng.choice(arr, size=(BOOTSTRAP_RESAMPLES, len(arr))).mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def bootstrap_ratio_ci(
    numerator: Sequence[float], denominator: Sequence[float], seed: int = 0
) -> tuple[float, float, float]:
    """Ratio of medians with a 95% bootstrap interval (each sample resampled on its own)."""
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return float("nan"), float("nan"), float("nan")
    ratio = float(np.median(a) / np.median(b))
    rng = np.random.default_rng(seed)
    ra = np.median(rng.choice(a, size=(BOOTSTRAP_RESAMPLES, len(a))), axis=1)
    rb = np.median(rng.choice(b, size=(BOOTSTRAP_RESAMPLES, len(b))), axis=1)
    lo, hi = np.percentile(ra / rb, [2.5, 97.5])
    return ratio, float(lo), float(hi)


def mann_whitney_p(a: Sequence[float], b: Sequence[float], seed: int = 0) -> float:
    """Two-sided p-value that ``a`` and ``b`` come from the same distribution.

    Exact by permutation for small samples (benchmarks rarely have more than a dozen repeats),
    Monte Carlo beyond that. With 3 repeats a side the smallest possible p is 0.1: three
    repeats cannot show a significant difference, and this says so instead of pretending.
    """
    from itertools import combinations

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    pooled = np.concatenate([x, y])
    ranks = _ranks(pooled)
    n = len(x)
    observed = ranks[:n].sum()
    expected = n * (len(pooled) + 1) / 2
    dev = abs(observed - expected)
    if len(pooled) <= 16:
        sums = [ranks[list(c)].sum() for c in combinations(range(len(pooled)), n)]
    else:
        rng = np.random.default_rng(seed)
        sums = [ranks[rng.permutation(len(pooled))[:n]].sum() for _ in range(20_000)]
    sums_arr = np.asarray(sums)
    return float(np.mean(np.abs(sums_arr - expected) >= dev - 1e-9))


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
