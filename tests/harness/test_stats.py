"""The statistics behind every summary row; small, exact cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.results import stats


def test_t_quantiles():
    assert stats.t975(1) == 12.706 and stats.t975(2) == 4.303
    assert stats.t975(2.9) == 4.303  # rounded down: wider, never narrower
    assert stats.t975(40) == pytest.approx(2.021, abs=1e-3)
    assert stats.t975(1000) == pytest.approx(1.962, abs=1e-3)


def test_wall_interval_is_student_t_on_the_logs():
    values = [1.0, 1.1, 0.9]
    lo, hi = stats.log_ci(values)
    logs = np.log(values)
    half = 4.303 * np.std(logs, ddof=1) / math.sqrt(3)
    assert (lo, hi) == pytest.approx((math.exp(logs.mean() - half), math.exp(logs.mean() + half)))
    assert all(math.isnan(v) for v in stats.log_ci([2.0]))
    assert all(math.isnan(v) for v in stats.log_ci([0.0, 1.0]))  # no log: no interval


def test_wall_interval_of_a_tiny_noisy_time_is_positive():
    """The bug report's case: a 3 ms median whose raw-scale interval went below zero."""
    walls = [0.0012, 0.0031, 0.0089]
    lo, hi = stats.log_ci(walls)
    assert 0 < lo < stats.gmean(walls) < hi


@given(
    st.lists(st.floats(1e-6, 1e4), min_size=2, max_size=12),
    st.lists(st.floats(1e-6, 1e4), min_size=2, max_size=12),
)
def test_intervals_are_positive_by_construction(a, b):
    lo, hi = stats.log_ci(a)
    assert 0 < lo <= hi
    ratio, rlo, rhi = stats.ratio_ci(a, b)
    assert ratio > 0 and 0 < rlo <= rhi


def test_ratio_interval_is_never_computed_from_a_bound_that_is_not_positive():
    assert all(math.isnan(v) for v in stats.ratio_ci([1.0, -0.5, 2.0], [1.0, 1.1]))
    assert all(math.isnan(v) for v in stats.ratio_ci([1.0, 1.2], [0.0, 1.1]))


def test_wall_interval_covers_about_95_percent_with_three_repeats():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(4000):
        lo, hi = stats.log_ci(rng.lognormal(math.log(10), 0.1, size=3))
        hits += lo <= 10 <= hi
    assert 0.93 < hits / 4000 < 0.97


def test_ratio_of_medians_with_a_welch_interval_on_logs():
    ratio, lo, hi = stats.ratio_ci([10.0, 10.5, 9.5], [1.0, 1.05, 0.95])
    assert ratio == pytest.approx(10.0)
    assert lo < ratio < hi and lo > 8 and hi < 12.5
    same, lo, hi = stats.ratio_ci([1.0, 1.0], [1.0, 1.0])
    assert (same, lo, hi) == (1.0, 1.0, 1.0)
    assert math.isnan(stats.ratio_ci([1.0], [1.0, 2.0])[1])


def test_ratio_interval_false_alarm_rate_is_about_5_percent():
    rng = np.random.default_rng(2)
    alarms = 0
    for _ in range(4000):
        _, lo, hi = stats.ratio_ci(rng.lognormal(0, 0.1, 3), rng.lognormal(0, 0.1, 3))
        alarms += lo > 1 or hi < 1
    assert alarms / 4000 < 0.07


def test_mann_whitney_exact_small_samples():
    # three against three, perfectly separated: the smallest two-sided p there is
    assert math.isclose(stats.mann_whitney_p([1, 2, 3], [4, 5, 6]), 0.1)
    assert stats.mann_whitney_p([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == 1.0
    assert stats.mann_whitney_p(range(10), range(100, 110)) < 0.001


def test_stability_rule():
    assert stats.stability([1.0]) == "not assessed"  # one repeat says nothing about spread
    assert stats.stability([1.0, 1.0]) == "not assessed"
    assert stats.stability([1.0, 1.02, 0.99]) == "stable"
    assert stats.stability([1.0, 1.5, 0.7]) == "unstable"
    assert math.isclose(stats.iqr([1, 2, 3, 4, 5]), 2.0)
