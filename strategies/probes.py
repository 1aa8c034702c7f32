"""The asyncio strategies' monitor: how late does the event loop wake up?

A task that asks to sleep ``interval`` and measures how much longer it actually slept sees
every blocking call made on the loop (a synchronous ``save_flag``, CPU work): while the loop
is blocked nobody wakes the probe. Thread strategies are watched by the harness's heartbeat
thread instead, which sees GIL contention the same way.
"""

from __future__ import annotations

import asyncio
import time

from .base import ProbeKind, ProbeSample


async def loop_lag_probe(
    sink: list[ProbeSample], interval_s: float, kind: ProbeKind = "loop_lag"
) -> None:
    """Append one sample of ``kind`` per wake-up until cancelled. At a spinner's pace (100 ms,
    ``spinner_loop``) it is the book's spinner coroutine: a tick late is a frozen spinner."""
    clock = time.perf_counter
    while True:
        before = clock()
        await asyncio.sleep(interval_s)
        now = clock()
        sink.append(ProbeSample(kind, now, max(0.0, now - before - interval_s)))
