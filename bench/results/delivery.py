"""When results reached the caller, against when their responses finished: a trial's columns.

A response that finishes is not yet a result the program can use: ``Executor.map`` holds it
until every job submitted before it is done, ``asyncio.gather`` until the last one is. The
requests table has both times per job (``t_end_s`` of its final record, ``t_delivered_s``);
these columns say how long the caller waited for its first result, for half of them and for
the last, beside the same moments of the responses, and how long finished responses waited
to be handed over (head-of-line waiting).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

#: The shares of the jobs whose moments are columns: first (any), half, last.
MOMENTS = (("first", 0.0), ("half", 0.5), ("last", 1.0))


def moment(times: np.ndarray, n_jobs: int, share: float) -> float:
    """When ``share`` of ``n_jobs`` had happened (the first for 0): the k-th smallest time,
    k = max(1, ceil(share * n_jobs)); NaN when fewer than k did (cancelled jobs never do)."""
    k = max(1, math.ceil(share * n_jobs - 1e-9))
    if n_jobs == 0 or len(times) < k:
        return math.nan
    return float(np.partition(times, k - 1)[k - 1])


def responses(final: pd.DataFrame) -> np.ndarray:
    """When each job's deciding response finished (jobs that sent nothing have none)."""
    return final.loc[final["attempt"] > 0, "t_end_s"].to_numpy(dtype=float)


def delivered(final: pd.DataFrame) -> np.ndarray:
    """When each job's result was handed to the caller (NaN-free: never-delivered jobs out)."""
    return final["t_delivered_s"].dropna().to_numpy(dtype=float)


def columns(reqs: pd.DataFrame) -> dict[str, Any]:
    """The trial's delivery columns from its requests (the ``final`` rows decide)."""
    final = reqs[reqs["final"]] if len(reqs) else reqs
    n = len(final)
    got, done = delivered(final), responses(final)
    row: dict[str, Any] = {"n_delivered": len(got)}
    for name, share in MOMENTS:
        row[f"{name}_result_s"] = moment(got, n, share)
        row[f"{name}_response_s"] = moment(done, n, share)
    both = final.dropna(subset=["t_delivered_s"])
    both = both[both["attempt"] > 0]
    held = (both["t_delivered_s"] - both["t_end_s"]).to_numpy(dtype=float)
    row["held_mean_s"] = float(held.mean()) if len(held) else math.nan
    row["held_max_s"] = float(held.max()) if len(held) else math.nan
    return row


def curves(final: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sorted response and delivery times of one trial, for a chart of both over time."""
    return np.sort(responses(final)), np.sort(delivered(final))
