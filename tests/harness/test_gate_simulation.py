"""The regression gate's false-alarm and detection rates, by simulation from real repeats.

The noise is real: each simulated repeat is a configuration's mean log wall time plus a
residual drawn from that strategy's own repeats in a real ``quick`` run on this machine
(``tests/data/quick-repeats.csv``, from docs/example). Run-to-run drift is added on top, as
the gate's model has it: per run, one shift shared by every configuration and one of each
configuration's own, together a standard deviation of ``DEFAULT_DRIFT`` on a configuration's
log ratio between two runs (``scripts/aa_gate.py`` measures a machine's real drift). Each
simulated comparison goes through the gate exactly as ``flagbench compare --fail-above 5``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.present.compare import compare_many
from bench.results import gate, stats
from bench.results.store import Run

DATA = Path(__file__).resolve().parents[1] / "data" / "quick-repeats.csv"
REPEATS = 3  # flagbench's default


@pytest.fixture(scope="module")
def noise() -> tuple[dict[str, float], dict[str, np.ndarray]]:
    real = pd.read_csv(DATA, comment="#")
    logs = {s: np.log(g["wall_s"].to_numpy()) for s, g in real.groupby("strategy")}
    means = {s: float(v.mean()) for s, v in logs.items()}
    # residuals scaled up by sqrt(n / (n - 1)): drawn with replacement, they keep the spread
    resid = {s: (v - v.mean()) * math.sqrt(len(v) / (len(v) - 1)) for s, v in logs.items()}
    return means, resid


def simulated_run(
    rng, noise, slowdown: dict[str, float], scale: float = 1.0, drift: float = gate.DEFAULT_DRIFT
) -> dict[str, np.ndarray]:
    means, resid = noise
    shared = rng.normal(0, drift / 2)
    return {
        s: np.exp(
            means[s]
            + shared
            + rng.normal(0, drift / 2)
            + scale * rng.choice(resid[s], size=REPEATS)
            + math.log(slowdown.get(s, 1))
        )
        for s in means
    }


def gate_fires(rng, noise, slowdown: dict[str, float], scale: float = 1.0) -> bool:
    a, b = simulated_run(rng, noise, {}, scale), simulated_run(rng, noise, slowdown, scale)
    rows = [
        dict(zip(("log_ratio", "se", "df"), stats.log_diff(b[s], a[s]), strict=True)) for s in a
    ]
    return not gate.regressions(gate.decide(pd.DataFrame(rows)), 5).empty


@pytest.mark.parametrize("scale", [1.0, 3.0], ids=["quiet", "three-times-noisier"])
def test_a_a_comparisons_fire_at_most_5_percent_of_the_time(noise, scale):
    rng = np.random.default_rng(11)
    fired = np.mean([gate_fires(rng, noise, {}, scale) for _ in range(800)])
    assert fired <= 0.05


def test_a_real_10_percent_slowdown_is_caught_at_least_80_percent_of_the_time(noise):
    """A regression that slows every configuration by 10% (as added CPU work per flag does)."""
    rng = np.random.default_rng(12)
    everywhere = {s: 1.10 for s in noise[0]}
    caught = np.mean([gate_fires(rng, noise, everywhere) for _ in range(400)])
    assert caught >= 0.80


def test_an_a_a_comparison_without_drift_allowance_fires_far_more():
    """The naive gate (no allowance, no correction) is what the bug report saw."""
    rng = np.random.default_rng(13)
    means = {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": 0.0}
    fired = []
    for _ in range(300):
        shift = {k: rng.normal(0, 0.03) for k in means}
        rows = [
            dict(
                zip(
                    ("log_ratio", "se", "df"),
                    stats.log_diff(
                        np.exp(shift[k] + rng.normal(0, 0.01, REPEATS)),
                        np.exp(rng.normal(0, 0.01, REPEATS)),
                    ),
                    strict=True,
                )
            )
            for k in means
        ]
        naive = gate.decide(pd.DataFrame(rows), drift=0.0)
        fired.append(bool(((naive["p_value"] < 0.05) & (naive["ratio"] > 1.05)).any()))
    assert np.mean(fired) > 0.2


def _run(walls: dict[str, np.ndarray], python: str = "") -> Run:
    rows = [
        {
            "trial_id": i,
            "status": "ok",
            "strategy": s,
            "config_id": f"{s}-w",
            "workload": "N=60 C=20",
            "wall_s": w,
            "python_requested": python,
        }
        for s, ws in walls.items()
        for i, w in enumerate(ws)
    ]
    empty = pd.DataFrame()
    return Run(
        Path(f"/sim/{python or 'here'}"), {"run_id": "sim"}, pd.DataFrame(rows), empty, empty, empty
    )


def test_the_command_and_the_simulation_use_one_rule(noise):
    rng = np.random.default_rng(14)
    a = simulated_run(rng, noise, {})
    b = simulated_run(rng, noise, {s: 1.2 for s in a})
    table = compare_many(_run(a), [_run(b)])
    assert list(table["strategy"]) == list(a)
    for _, row in table.iterrows():
        d = stats.log_diff(b[row["strategy"]], a[row["strategy"]])[0]
        assert row["ratio"] == pytest.approx(math.exp(d))
    assert table["significant"].all() and (table["verdict"] == "slower").all()


def test_one_repeat_is_too_few_to_decide():
    table = compare_many(_run({"asyncio": np.array([1.0])}), [_run({"asyncio": np.array([2.0])})])
    assert table["verdict"].tolist() == ["too few repeats"]
    assert not table["significant"].any()
    assert gate.regressions(table, 5).empty
