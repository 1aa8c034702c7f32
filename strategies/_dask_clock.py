"""Each dask worker's clock against the client's, so records from several machines line up.

``perf_counter`` counts from an arbitrary point of each machine (boot, on Linux), so a record
made on another machine means nothing here until it is shifted by that machine's offset. The
offset is measured as NTP does: ask the worker for its clock between two readings of ours and
assume it answered half-way; of several tries, the one with the shortest round trip bounds the
error best (at most half that round trip). On one machine the clocks are the same and the
measured offset is that error, a fraction of a millisecond.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _dask_worker

ROUNDS = 5


@dataclass(frozen=True)
class Offset:
    """worker clock - client clock, and the most it can be off by."""

    offset_s: float
    error_s: float


def measure(client: Any, workers: Sequence[str], rounds: int = ROUNDS) -> dict[str, Offset]:
    """Each worker's offset, from the round trip of ``rounds`` tries with the shortest time."""
    best: dict[str, Offset] = {}
    for _ in range(rounds):
        for worker in workers:
            before = time.perf_counter()
            theirs = client.run(_dask_worker.clock, workers=[worker])[worker]
            after = time.perf_counter()
            sample = Offset(theirs - (before + after) / 2, (after - before) / 2)
            if worker not in best or sample.error_s < best[worker].error_s:
                best[worker] = sample
    return best
