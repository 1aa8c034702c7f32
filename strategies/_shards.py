"""Splitting C and the jobs between several event loops, so that the total is still C.

``multiprocess_asyncio`` (P processes) and ``dask`` (W workers) both run the asyncio job loop
in several places at once. Each place gets a share of the concurrency, at least 1 and
together exactly C, and a shard of the jobs in proportion to it, interleaved so that the first
round of every shard is the same jobs a single loop with C slots would start first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .base import Job


def places(wanted: int, concurrency: int, n_jobs: int) -> int:
    """How many places can be given work: each needs one slot of C and one job."""
    return max(1, min(wanted, concurrency, max(n_jobs, 1)))


def split(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` near-equal whole numbers (the larger ones first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def shard(n_jobs: int, shares: Sequence[int]) -> list[list[int]]:
    """Job indexes per place: in each block of C consecutive jobs, place k takes ``shares[k]``."""
    pattern = [k for k, share in enumerate(shares) for _ in range(share)]
    out: list[list[int]] = [[] for _ in shares]
    for index in range(n_jobs):
        out[pattern[index % len(pattern)]].append(index)
    return out


def unfinished(jobs: Sequence[Job], finished_codes: Sequence[str]) -> list[Job]:
    """The jobs of a shard without a final record, when only the final records came back
    (several jobs may share a country code, so they are matched by count)."""
    left = Counter(finished_codes)
    out = []
    for job in jobs:
        if left[job.cc]:
            left[job.cc] -= 1
        else:
            out.append(job)
    return out
