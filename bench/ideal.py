"""The ideal time of a trial: a perfect client with C slots and no overhead, on this server.

The server's latencies and faults are a pure function of (seed, path, attempt)
(``flags_server.decide``), so the harness can work out exactly what each request will wait
and schedule the jobs on C slots, each job starting the moment a slot frees, in job order.
For a fixed latency this is ``ceil(N / C) x latency``; for a random one it is what that
workload's own draws allow, which the mean-based formula underestimates: the slowest request
of each round sets its pace. A timeout costs the client's timeout (or the server's hold, if
shorter); retries, slow bodies and CPU work are left out. It is the ideal of a client that
starts the jobs in order, as every built-in strategy does; one that reorders them (longest
first, say) could beat it by a little.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence

from flags_server import ServerConfig
from flags_server.catalog import codes as country_codes
from flags_server.decide import decide
from flags_server.fault_kinds import BY_NAME as FAULTS


def request_waits(config: ServerConfig, codes: Sequence[str], metadata: bool,
                  timeout_s: float) -> list[float]:  # fmt: skip
    """Per job, the seconds its first attempts wait on the server (metadata first, then flag)."""
    known = set(country_codes())
    attempts: Counter[str] = Counter()
    resources = [("metadata", config.metadata_latency_model)] if metadata else []
    resources.append(("flag", config.latency_model))
    waits = []
    for code in codes:
        cc = code.lower()
        total = 0.0
        for resource, model in resources:
            path = f"{cc}/metadata.json" if resource == "metadata" else f"{cc}/{cc}.gif"
            attempts[path] += 1
            d = decide(config.seed, path, attempts[path], model, config.fault_rates)
            if d.fault == "timeout":
                total += min(timeout_s, config.timeout_hold_s)
                break
            total += min(d.latency_s, timeout_s)
            failed = d.fault is not None and FAULTS[d.fault].client_error_kind is not None
            if failed or code.upper() not in known:
                break  # a failed or 404 metadata request ends the job
        waits.append(total)
    return waits


def scheduled_ideal(waits: Sequence[float], concurrency: int) -> float:
    """Makespan of the jobs, in order, on ``concurrency`` slots."""
    slots = [0.0] * max(1, min(concurrency, len(waits)))
    for wait in waits:
        heapq.heappush(slots, heapq.heappop(slots) + wait)
    return max(slots) if waits else 0.0
