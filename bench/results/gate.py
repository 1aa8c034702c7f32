"""The regression gate of ``flagbench compare``: which differences between runs are real.

Three things make a naive gate fire on an A/A comparison (the same code, run twice), and each
has its answer here:

- **Run-to-run drift.** Repeats within one run share the machine's state (its load, caches,
  clock), so their spread understates how much a second run moves. The gate adds a drift
  allowance ``drift`` (the standard deviation of a configuration's log ratio between two
  runs of the same code; 3% by default, ``--drift PCT``) to the Welch standard error of the log
  ratio, as a variance that more repeats cannot remove. ``scripts/aa_gate.py`` measures the
  drift of a machine from A/A pairs.
- **Many configurations at once.** Every configuration compared is one more chance of a false
  alarm, so the p-values are adjusted with Holm's step-down rule: the chance of any false alarm
  over all of them (the family-wise error) stays at or below ``ALPHA`` whatever their number.
- **Too few repeats.** A side with fewer than two repeats has no spread to test against: the
  verdict is ``too few repeats``, never ``same``. ``detectable_pct`` says how large a
  difference must be before these repeats can call it real.

``--fail-above PCT`` fails only on a configuration that is significantly slower under this
rule *and* whose ratio (of geometric means, the centre of the interval) exceeds 1 + PCT/100.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

ALPHA = 0.05  # the family-wise false-alarm rate over every configuration compared
DEFAULT_DRIFT = 0.03  # run-to-run sd of a configuration's log ratio (see scripts/aa_gate.py)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's adjusted p-values (NaN stays NaN and does not count in the family)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def decide(table: pd.DataFrame, drift: float = DEFAULT_DRIFT, alpha: float = ALPHA) -> pd.DataFrame:
    """Add the gate's columns to a table of ``log_ratio``, ``se``, ``df`` (one row per
    configuration compared): ``ratio`` (B / A, geometric means), its 95% interval with the
    drift allowance, ``p_value``, ``p_holm``, ``significant``, ``verdict`` and
    ``detectable_pct`` (the smallest difference, in percent, that could be significant)."""
    # deferred: scipy takes about half a second to load; only intervals and tests need it
    from scipy import stats as sps

    out = table.copy()
    d = out["log_ratio"].to_numpy(float)
    se = out["se"].to_numpy(float)
    df = out["df"].to_numpy(float)
    # the allowance is a known variance (infinite degrees of freedom): Welch-Satterthwaite
    var = se**2 + drift**2
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = np.where(se > 0, var**2 / (se**4 / df), np.inf)
        total = np.sqrt(var)
        stat = np.where(total > 0, np.abs(d) / total, 0.0)
    half = sps.t.ppf(0.975, dof) * total
    m = max(int(np.sum(~np.isnan(se))), 1)
    out["ratio"] = np.exp(d)
    out["ratio_ci_low"] = np.exp(d - half)
    out["ratio_ci_high"] = np.exp(d + half)
    out["p_value"] = np.where(np.isnan(se), np.nan, 2 * sps.t.sf(stat, dof))
    out["detectable_pct"] = 100 * (np.exp(sps.t.ppf(1 - alpha / (2 * m), dof) * total) - 1)
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["significant"] = out["p_holm"] <= alpha
    out["verdict"] = [
        "too few repeats" if math.isnan(p) else ("slower" if r > 1 else "faster") if sig else "same"
        for p, r, sig in zip(out["p_value"], out["ratio"], out["significant"], strict=True)
    ]
    return out


def regressions(table: pd.DataFrame, fail_above_pct: float) -> pd.DataFrame:
    """Configurations significantly slower under the gate and by more than ``fail_above_pct``."""
    if table.empty:
        return table
    limit = 1 + fail_above_pct / 100
    return table[table["significant"] & (table["ratio"] > limit)]


def geometric_mean_ratio(table: pd.DataFrame) -> float:
    """pyperf compare_to's summary line: the geometric mean of the ratios."""
    logs = table["log_ratio"].dropna().to_numpy(float)
    return float(math.exp(logs.mean())) if len(logs) else math.nan
