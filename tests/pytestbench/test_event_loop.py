"""An async target's timed rounds exclude the event loop's creation and teardown.

Made visible by a loop whose creation sleeps 0.3 s: a round that included it could not take
less than 0.3 s, and the loop-inclusive measurement of the same coroutine (``asyncio.run``
style: a loop per call) cannot take less. The coroutine fetches 5 flags at zero latency,
a few milliseconds; the margins are a factor of three on each side.
"""

from __future__ import annotations

from .helpers import benchmarks_json

pytest_plugins = ["pytester"]

SOURCE = """
import asyncio
import statistics
import time

import aiohttp

from strategies.base import Settings

LOOP_DELAY_S = 0.3
made = []

def slow_loop():
    time.sleep(LOOP_DELAY_S)
    made.append(1)
    return asyncio.new_event_loop()

async def fetch(jobs, settings):
    async with aiohttp.ClientSession() as session:
        async def one(job):
            async with session.get(job.flag_url) as response:
                await response.read()
                return response.status
        return await asyncio.gather(*(one(job) for job in jobs))

def loop_inclusive(jobs):
    t0 = time.perf_counter()
    loop = slow_loop()
    try:
        loop.run_until_complete(fetch(jobs, Settings()))
    finally:
        loop.close()
    return time.perf_counter() - t0

def test_rounds_exclude_the_loop(flagbench_bench, flagbench_jobs):
    result = flagbench_bench(fetch, loop_factory=slow_loop, n_jobs=5, rounds=5, warmup_rounds=1)
    assert made == [1]   # one loop for the warm-up and every measured round
    timed = statistics.median(r.wall_s for r in result.rounds)
    inclusive = min(loop_inclusive(flagbench_jobs("all", 5)) for _ in range(3))
    assert inclusive >= LOOP_DELAY_S
    assert timed < LOOP_DELAY_S / 3, (timed, inclusive)
    assert inclusive - timed > 2 * LOOP_DELAY_S / 3, (timed, inclusive)
"""


def test_async_rounds_exclude_loop_creation(inner, pytester):
    result = inner(SOURCE, "--benchmark-json", "out.json")
    result.assert_outcomes(passed=1)
    bench = benchmarks_json(pytester.path / "out.json")["test_rounds_exclude_the_loop"]
    # a round that included the loop's creation would take its 0.3 s sleep at least
    assert bench["stats"]["rounds"] == 5 and bench["stats"]["max"] < 0.3
