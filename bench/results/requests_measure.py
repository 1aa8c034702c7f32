"""The request measure of ``flagbench compare``: each request's best latency over the repeats,
its median over the requests, and a hierarchical bootstrap of the ratio between two runs.

On a busy machine a whole trial stalls now and then (the client is not scheduled for a while),
and every request in flight during the stall is late: a trial's wall time or median latency
then jumps by half, and three repeats cannot tell that from a regression. The server's own
draws are the same in every repeat and in both runs (one seed: the same request gets the same
injected latency), so a request's fastest latency over the repeats is its injected latency
plus the client's least overhead, and one stalled repeat does not move it. The measure of a
side is the median over its requests of that best latency; B / A is the ratio of the two.

Its uncertainty has the two levels of the data: the trials (a delete-one-trial jackknife on
each side: how much the measure leans on any one repeat) and the requests (a bootstrap that
resamples them, the same draw on both sides, since a request is one flag with one injected
latency in A and in B). A bootstrap that also resampled the trials would take the best of a
resample that may hold one stalled trial three times, a statistic the run never had. The
variances add up to the standard error of the log ratio, on Student's t with the trials'
degrees of freedom; the gate adds the machine's drift allowance between runs, which holds
whatever moves a whole run (``scripts/aa_gate.py`` measures it for this measure apart).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

RESAMPLES = 2000
KEY = ["cc", "resource", "attempt"]


@dataclass(frozen=True, slots=True)
class Result:
    a: float  # median best latency of A, seconds
    b: float
    log_ratio: float
    se: float
    df: float


def matrix(requests: pd.DataFrame, trial_ids: list[int]) -> pd.DataFrame:
    """Log latency of each successful request (columns) in each trial (rows)."""
    r = requests[requests["trial_id"].isin(trial_ids) & (requests["outcome"].astype(str) == "ok")]
    r = r[np.isfinite(r["latency_s"]) & (r["latency_s"] > 0)]
    table = r.assign(log=np.log(r["latency_s"].to_numpy(float))).pivot_table(
        index="trial_id", columns=KEY, values="log", aggfunc="min"
    )
    return table


def compare(
    requests_a: pd.DataFrame,
    trials_a: list[int],
    requests_b: pd.DataFrame,
    trials_b: list[int],
    seed: int = 0,
) -> Result | None:
    """B against A on the request measure; None without requests both sides share, or with
    fewer than two trials a side (no spread between trials to resample)."""
    ma, mb = matrix(requests_a, trials_a), matrix(requests_b, trials_b)
    keys = ma.columns.intersection(mb.columns)
    if len(keys) == 0 or len(ma) < 2 or len(mb) < 2:
        return None
    a = ma[keys].to_numpy(float)  # trials x requests, NaN where a trial lacks a request
    b = mb[keys].to_numpy(float)
    with warnings.catch_warnings():  # a request missing from every trial left: NaN, ignored
        warnings.simplefilter("ignore", RuntimeWarning)
        best_a, best_b = _level(a), _level(b)
        # the trials: delete one trial at a time (a jackknife), on each side
        trial_var = _jackknife_var(a) + _jackknife_var(b)
        # the requests: resample them, the same draw on both sides
        rng = np.random.default_rng(seed)
        pick = rng.integers(0, a.shape[1], size=(RESAMPLES, a.shape[1]))
        ba, bb = np.nanmin(a, axis=0)[pick], np.nanmin(b, axis=0)[pick]
        diffs = np.nanmedian(bb, axis=1) - np.nanmedian(ba, axis=1)
    diffs = diffs[np.isfinite(diffs)]
    request_var = float(np.var(diffs, ddof=1)) if len(diffs) > 1 else math.nan
    return Result(
        se=math.sqrt(trial_var + request_var),
        a=math.exp(best_a),
        b=math.exp(best_b),
        log_ratio=best_b - best_a,
        df=float(len(a) + len(b) - 2),
    )


def _level(logs: np.ndarray) -> float:
    """The side's measure, in log seconds: the median over requests of the best over trials."""
    return float(np.nanmedian(np.nanmin(logs, axis=0)))


def _jackknife_var(logs: np.ndarray) -> float:
    """Delete-one-trial jackknife variance of ``_level``: how much the measure leans on any one
    trial (little, when a stalled trial's requests are beaten by the others')."""
    k = len(logs)
    leave = np.array([_level(np.delete(logs, i, axis=0)) for i in range(k)])
    return float((k - 1) / k * np.sum((leave - leave.mean()) ** 2))
