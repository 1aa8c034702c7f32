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
  request's difference and only the client's overhead noise is left. Per arm a request's best
  latency over the repeats (one stalled trial does not move it), and per request d = log best
  B - log best A; B / A is exp(median d), the typical request's own change. The median, not
  the mean: on a busy machine a few requests are late in every repeat of one arm, and on the
  real A/A pairs of ``scripts/aa_gate.py`` the mean of d moved two to three times as much as
  its median (root-mean-square over 10 pairs at load 4 to 16: asyncio 1.4% against 0.5%). The figures printed are A's median best latency and that times B / A, so they
  divide to the ratio printed. Its uncertainty has the data's two levels, in one
  hierarchical bootstrap: resample the repeats (the same repeats in both arms, which ran in
  one block), take each request's best over them, then resample the requests and take the
  median of d. A resample that holds a repeat twice takes the best over fewer repeats, which
  is noisier: the bootstrap errs wide, not narrow. Its standard deviation is the standard
  error, on Student's t with the requests' degrees of freedom (n - 1).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.results import requests_measure

RESAMPLES = 2000


@dataclass(frozen=True, slots=True)
class Paired:
    a: float  # A's figure, seconds: the geometric mean wall time, or the median best latency
    b: float  # B's: the same for wall time; a * exp(log_ratio) for the request measure
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


def requests(
    table: pd.DataFrame, trials_a: list[int], trials_b: list[int], seed: int = 0
) -> Paired | None:
    """The request measure of B against A; ``trials_a[i]`` and ``trials_b[i]`` ran in one
    repeat. None without two requests that succeeded in both arms, or with fewer than two
    pairs."""
    if len(trials_a) != len(trials_b) or len(trials_a) < 2:
        return None
    ma = requests_measure.matrix(table, trials_a).reindex(trials_a)
    mb = requests_measure.matrix(table, trials_b).reindex(trials_b)
    keys = ma.columns.intersection(mb.columns)
    a, b = ma[keys].to_numpy(float), mb[keys].to_numpy(float)  # repeats x requests
    with warnings.catch_warnings():  # a request missing from every repeat of an arm: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        best_a, best_b = np.nanmin(a, axis=0), np.nanmin(b, axis=0)
        kept = np.isfinite(best_a) & np.isfinite(best_b)
        if kept.sum() < 2:
            return None
        a, b = a[:, kept], b[:, kept]
        d = best_b[kept] - best_a[kept]
        k, n = a.shape
        rng = np.random.default_rng(seed)
        repeats = rng.integers(0, k, size=(RESAMPLES, k))
        picked = np.nanmin(b[repeats], axis=1) - np.nanmin(a[repeats], axis=1)  # R x n
        rows = rng.integers(0, n, size=(RESAMPLES, n))
        medians = np.nanmedian(np.take_along_axis(picked, rows, axis=1), axis=1)
    medians = medians[np.isfinite(medians)]
    log_ratio = float(np.median(d))
    a_value = math.exp(float(np.median(best_a[kept])))
    return Paired(
        a=a_value,
        b=a_value * math.exp(log_ratio),
        log_ratio=log_ratio,
        se=float(np.std(medians, ddof=1)) if len(medians) > 1 else math.nan,
        df=float(n - 1),
        pairs=k,
    )
