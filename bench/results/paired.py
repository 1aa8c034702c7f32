"""Two arms of one interleaved run compared pair by pair: the statistics of ``compare --split``.

A run whose workload has two arms (``arm = ["A", "B"]``, or any axis with two values) runs
both in every repeat's shuffled round (``bench.define.spec``), a few seconds apart. Whatever
moves the machine over minutes (its load, its clock, a neighbour's job) then moves both arms
of a repeat alike, and it cancels in their difference: the pairs need no drift allowance,
which between two separate runs is what keeps a gate from resolving a 10% change on a busy
machine. What does not cancel (a change between the two trials of one repeat) is in the
pairs' own spread, which the standard errors below measure.

- **Wall time**, paired by repeat: d_r = log B_r - log A_r, their mean (the log of the ratio of
  the geometric means over the paired repeats), its standard error sd / sqrt(n), Student's t
  with n - 1 degrees of freedom.
- **Request measure**, paired by request: with one seed every request gets the same server
  draw in both arms (a slower arm's draw is the same draw, longer), so the draw cancels in a
  request's difference and only the client's overhead noise is left. Per side a request's
  best latency over the repeats (one stalled trial does not move it); the measure of a side is
  the geometric mean of those over the requests, so B / A is the mean over requests of each
  request's log difference and the printed figures divide to the printed ratio. Its
  uncertainty has the data's two levels: the repeats (a delete-one-repeat jackknife, deleting
  the repeat from both arms, since they ran in one block: how much the measure leans on any
  one repeat) and the requests (the variance of the mean of the per-request differences,
  which is what a bootstrap over the requests converges to). A bootstrap that resampled the
  repeats would take the best of a resample that may hold one stalled trial three times, a
  statistic the run never had. The two variances add up; the degrees of freedom are
  Welch-Satterthwaite's.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.results import requests_measure


@dataclass(frozen=True, slots=True)
class Paired:
    a: float  # A's figure: geometric mean (seconds)
    b: float
    log_ratio: float  # log(b / a)
    se: float  # NaN with fewer than two pairs
    df: float
    pairs: int  # repeats paired


def wall(a: pd.Series, b: pd.Series) -> Paired:
    """Wall times indexed by repeat, paired on it (a repeat missing from one arm is left out)."""
    both = pd.concat({"a": a, "b": b}, axis=1, join="inner")
    both = both[(both["a"] > 0) & (both["b"] > 0)]
    la, lb = np.log(both["a"].to_numpy(float)), np.log(both["b"].to_numpy(float))
    n = len(la)
    if n == 0:
        return Paired(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    d = lb - la
    se = float(d.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
    df = float(n - 1) if n >= 2 else math.nan
    if se == 0:
        df = math.inf
    return Paired(math.exp(la.mean()), math.exp(lb.mean()), float(d.mean()), se, df, n)


def requests(table: pd.DataFrame, trials_a: list[int], trials_b: list[int]) -> Paired | None:
    """The request measure of B against A; ``trials_a[i]`` and ``trials_b[i]`` ran in one
    repeat. None without a request that succeeded in both arms, or with fewer than two pairs."""
    if len(trials_a) != len(trials_b) or len(trials_a) < 2:
        return None
    ma = requests_measure.matrix(table, trials_a).reindex(trials_a)
    mb = requests_measure.matrix(table, trials_b).reindex(trials_b)
    keys = ma.columns.intersection(mb.columns)
    if len(keys) == 0:
        return None
    a, b = ma[keys].to_numpy(float), mb[keys].to_numpy(float)  # repeats x requests
    with warnings.catch_warnings():  # a request missing from every repeat of an arm: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        best_a, best_b = np.nanmin(a, axis=0), np.nanmin(b, axis=0)
        kept = np.isfinite(best_a) & np.isfinite(best_b)
        if kept.sum() < 2:
            return None
        a, b, best_a, best_b = a[:, kept], b[:, kept], best_a[kept], best_b[kept]
        d = best_b - best_a
        k, n = len(a), len(d)
        leave = np.array(
            [
                np.nanmean(np.nanmin(np.delete(b, i, 0), 0) - np.nanmin(np.delete(a, i, 0), 0))
                for i in range(k)
            ]
        )
    leave = leave[np.isfinite(leave)]
    repeat_var = (
        float((len(leave) - 1) / len(leave) * np.sum((leave - leave.mean()) ** 2))
        if len(leave) >= 2
        else 0.0
    )
    request_var = float(d.var(ddof=1) / n)
    var = repeat_var + request_var
    terms = repeat_var**2 / (k - 1) + request_var**2 / (n - 1)
    df = var**2 / terms if terms > 0 else math.inf
    return Paired(
        a=math.exp(best_a.mean()),
        b=math.exp(best_b.mean()),
        log_ratio=float(d.mean()),
        se=math.sqrt(var),
        df=float(df),
        pairs=k,
    )
