"""The request measure: one stalled repeat does not move it, a slowdown of every request does,
and its standard error keeps the spread between trials."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bench.results import requests_measure

CODES = [f"c{i:02d}" for i in range(60)]


def requests(trial_latencies: dict[int, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "trial_id": t,
                "cc": cc,
                "resource": "flag",
                "attempt": 1,
                "outcome": "ok",
                "latency_s": float(lat),
            }
            for t, lats in trial_latencies.items()
            for cc, lat in zip(CODES, lats, strict=True)
        ]
    )


@pytest.fixture
def injected():
    """The server's draws: the same for every repeat and both runs (one seed)."""
    return np.exp(np.random.default_rng(5).normal(math.log(0.05), 0.5, len(CODES)))


def side(injected, rng, trials, factor=1.0, stalled=(), start=0):
    out = {}
    for i in range(trials):
        overhead = rng.uniform(0.001, 0.003, len(CODES))
        stall = 0.03 if i in stalled else 0.0  # every request of a stalled trial is late
        out[start + i] = injected * factor + overhead + stall
    return out


def test_a_stalled_repeat_does_not_move_the_measure(injected):
    rng = np.random.default_rng(6)
    a = side(injected, rng, 3)
    b = side(injected, rng, 3, stalled={1}, start=10)
    found = requests_measure.compare(requests(a), list(a), requests(b), list(b))
    assert abs(found.log_ratio) < 0.02
    assert found.b == pytest.approx(found.a, rel=0.02)
    medians = [np.median(v) for v in b.values()]  # a trial's median moves by half
    assert max(medians) / min(medians) > 1.4


def test_a_slowdown_of_every_request_shows_and_is_the_ratio_of_the_figures(injected):
    rng = np.random.default_rng(7)
    a = side(injected, rng, 3)
    b = side(injected, rng, 3, factor=1.1, start=10)
    found = requests_measure.compare(requests(a), list(a), requests(b), list(b))
    assert 1.07 < math.exp(found.log_ratio) < 1.11
    assert math.exp(found.log_ratio) == pytest.approx(found.b / found.a)
    assert found.log_ratio / found.se > 3


def test_every_trial_stalled_but_one_leaves_a_wider_error(injected):
    """The jackknife sees that the measure leans on one repeat."""
    rng = np.random.default_rng(8)
    steady = side(injected, rng, 3)
    shaky = side(injected, rng, 3, stalled={0, 1}, start=10)
    b = side(injected, rng, 3, start=20)
    calm = requests_measure.compare(requests(steady), list(steady), requests(b), list(b))
    leaning = requests_measure.compare(requests(shaky), list(shaky), requests(b), list(b))
    assert leaning.se > 2 * calm.se


def test_one_trial_a_side_is_not_enough(injected):
    rng = np.random.default_rng(9)
    a, b = side(injected, rng, 1), side(injected, rng, 3, start=10)
    assert requests_measure.compare(requests(a), list(a), requests(b), list(b)) is None
