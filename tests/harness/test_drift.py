"""The machine's drift: estimated without a clip that hides it, with its interval; stored for
this machine only, and the default allowance of ``flagbench compare`` when it is."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bench.results import drift


def simulated_pairs(rng, true_drift: float, pairs: int, configs: int = 5, se: float = 0.02):
    """Each pair: a shared shift and one per configuration (together ``true_drift``), plus
    repeat noise of standard error ``se``."""
    out = []
    for _ in range(pairs):
        shared = rng.normal(0, true_drift / math.sqrt(2))
        out.append(
            [
                (shared + rng.normal(0, true_drift / math.sqrt(2)) + rng.normal(0, se), se)
                for _ in range(configs)
            ]
        )
    return out


def test_the_estimate_is_not_biased_down_by_pairs_that_agreed_by_chance():
    """The clip at zero per estimate made three pairs say 0.4% where ten said 4.4%: here the
    mean over many small estimates, each unclipped, finds the true drift."""
    rng = np.random.default_rng(1)
    small = [drift.estimate(simulated_pairs(rng, 0.044, 3)) for _ in range(400)]
    excess = np.mean([e.excess for e in small])
    assert math.sqrt(excess) == pytest.approx(0.044, rel=0.1)
    # where the drift is small beside the repeats' noise, single estimates do go negative
    quiet = [drift.estimate(simulated_pairs(rng, 0.01, 3, se=0.03)) for _ in range(100)]
    assert any(e.excess < 0 and e.drift == 0 and e.high > 0 for e in quiet)


def test_the_interval_covers_the_true_drift_and_narrows_with_pairs():
    rng = np.random.default_rng(2)
    few = [drift.estimate(simulated_pairs(rng, 0.04, 3)) for _ in range(200)]
    many = [drift.estimate(simulated_pairs(rng, 0.04, 10)) for _ in range(200)]
    for found in (few, many):
        covered = np.mean([e.low <= 0.04 <= e.high for e in found])
        assert covered >= 0.85
    width = [np.median([e.high - e.low for e in found]) for found in (few, many)]
    assert width[1] < width[0]


def test_one_pair_has_no_interval():
    e = drift.estimate([[(0.05, 0.01), (0.03, 0.01)]])
    assert e.pairs == 1 and e.high == math.inf and e.drift == pytest.approx(0.04)


def test_stored_for_this_machine_only(tmp_path):
    e = drift.estimate(simulated_pairs(np.random.default_rng(3), 0.04, 10))
    stored = drift.Stored("here", "2026-12-05 07:00 UTC", "quick", "load 6.1", {"wall": e})
    path = drift.save(tmp_path, stored)
    assert json.loads(path.read_text())["host"] == "here"
    assert drift.load(tmp_path, host="here") == stored
    assert drift.load(tmp_path, host="elsewhere") is None
    path.write_text("{torn")
    assert drift.load(tmp_path, host="here") is None
