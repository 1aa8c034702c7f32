"""The asyncio strategies' monitor: how late does the event loop wake up?

A task that asks to sleep ``interval`` and measures how much longer it actually slept sees
every blocking call made on the loop (a synchronous ``save_flag``, CPU work): while the loop
is blocked nobody wakes the probe. Thread strategies are watched by the harness's heartbeat
thread instead, which sees GIL contention the same way.
"""

from __future__ import annotations

import asyncio
import time

from .base import ProbeSample


async def loop_lag_probe(sink: list[ProbeSample], interval_s: float) -> None:
    """Append one ``loop_lag`` sample per wake-up until cancelled."""
    clock = time.perf_counter
    while True:
        before = clock()
        await asyncio.sleep(interval_s)
        now = clock()
        sink.append(ProbeSample("loop_lag", now, max(0.0, now - before - interval_s)))
