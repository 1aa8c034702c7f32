"""The statistics behind every summary row; small, exact cases."""

from __future__ import annotations

import math

import numpy as np

from bench import stats


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible():
    values = [1.0, 1.1, 0.9, 1.05, 0.95]
    lo, hi = stats.bootstrap_mean_ci(values, seed=3)
    assert lo < np.mean(values) < hi
    assert (lo, hi) == stats.bootstrap_mean_ci(values, seed=3)
    assert stats.bootstrap_mean_ci([2.0]) == (2.0, 2.0)


def test_ratio_of_medians_with_interval():
    ratio, lo, hi = stats.bootstrap_ratio_ci([10.0, 10.5, 9.5], [1.0, 1.05, 0.95])
    assert ratio == 10.0
    assert lo <= ratio <= hi
    assert lo > 5


def test_mann_whitney_exact_small_samples():
    # three against three, perfectly separated: the smallest two-sided p there is
    assert math.isclose(stats.mann_whitney_p([1, 2, 3], [4, 5, 6]), 0.1)
    assert stats.mann_whitney_p([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == 1.0
    assert stats.mann_whitney_p(range(10), range(100, 110)) < 0.001


def test_unstable_rule():
    assert stats.is_unstable([1.0, 1.0])  # too few repeats to judge
    assert not stats.is_unstable([1.0, 1.02, 0.99])
    assert stats.is_unstable([1.0, 1.5, 0.7])
    assert math.isclose(stats.iqr([1, 2, 3, 4, 5]), 2.0)
