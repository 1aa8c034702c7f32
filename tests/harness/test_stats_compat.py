"""scipy.stats gives the numbers earlier runs gave, so a run compares with its predecessors.

The reference values were computed by the hand-written code that scipy.stats replaced: a
printed table of t quantiles (1..30 degrees of freedom), a Cornish-Fisher expansion beyond,
and a Mann-Whitney test by enumerating every split of the pooled ranks.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.results import stats

# the table earlier runs used, to three decimals, for 1..30 degrees of freedom
OLD_TABLE = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
OLD_EXPANSION = {
    31: 2.0394259233560734,
    40: 2.021034843658458,
    60: 2.000285882063232,
    120: 1.9799289341770794,
    1000: 1.9623390937774106,
}


def test_quantiles_are_the_old_table_to_the_digit():
    assert [stats.t975(df) for df in range(1, 31)] == list(OLD_TABLE)
    assert stats.t975(7.6) == OLD_TABLE[6]  # Welch's fractional df still rounds down


@pytest.mark.parametrize(("df", "old"), OLD_EXPANSION.items())
def test_quantiles_beyond_the_table_agree_to_three_decimals(df, old):
    assert stats.t975(df) == pytest.approx(old, abs=1e-3)


@pytest.mark.parametrize(
    ("function", "args", "old"),
    [
        (
            stats.ratio_ci,
            ([2.0, 2.2, 2.1], [1.0, 1.3, 1.1]),
            (1.909090909090909, 1.3118212965607663, 2.6445347534770622),
        ),
        (
            stats.ratio_ci,
            ([0.50, 0.52, 0.49, 0.55, 0.51], [0.40, 0.47, 0.43]),
            (1.1860465116279069, 0.9551637833352724, 1.477107830550375),
        ),
    ],
)
def test_intervals_are_the_old_intervals(function, args, old):
    assert function(*args) == pytest.approx(old, rel=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "old"),
    [
        ([1, 2, 3], [4, 5, 6], 0.1),
        ([0.31, 0.35, 0.33, 0.40], [0.30, 0.29, 0.36, 0.28, 0.27], 0.1111111111111111),
        (
            [5.1, 5.3, 4.9, 5.0, 5.2, 5.6, 5.4, 5.05],
            [5.5, 5.7, 5.8, 5.25, 5.9, 6.0, 5.35, 6.1],
            0.004662004662004662,
        ),
        # ties: the old p was the distance of the rank sum from its mean, not twice a tail
        ([1.0, 2.0, 2.0, 3.0], [2.0, 4.0, 5.0], 0.2),
        ([1.0, 1.0, 2.0], [1.0, 3.0, 3.0], 0.4),
        ([1.1, 1.2, 1.2, 1.3, 1.3, 1.3], [1.2, 1.4, 1.5, 1.3, 1.6, 1.4, 1.7], 0.026223776223776224),
    ],
)
def test_mann_whitney_p_values_are_the_old_exact_ones(a, b, old):
    assert stats.mann_whitney_p(a, b) == pytest.approx(old, rel=1e-12)


def test_sampled_p_values_agree_with_the_old_ones_within_their_noise():
    rng = np.random.default_rng(3)
    a = np.round(rng.normal(1, 0.1, 12), 2)  # rounded: ties, and too many splits to list
    b = np.round(rng.normal(1.05, 0.1, 12), 2)
    assert stats.mann_whitney_p(a, b) == pytest.approx(0.07205, abs=0.01)
    assert stats.mann_whitney_p(a, b, seed=5) == pytest.approx(0.07205, abs=0.01)


def test_large_samples_use_the_normal_approximation():
    rng = np.random.default_rng(4)
    a, b = rng.normal(1, 0.1, 80), rng.normal(1.05, 0.1, 80)
    p = stats.mann_whitney_p(a, b)
    assert 0 < p < 1 and p == stats.mann_whitney_p(a, b, seed=9)  # no sampling: no seed
