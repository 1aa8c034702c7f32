"""What the server did, counted by the server itself.

The harness checks these counts against what its clients saw, so every
site request is counted exactly once when it arrives, every fault when it
is decided, and every response when it is sent. Admin requests (/_...) are
counted apart so polling the stats does not change them.
"""

from __future__ import annotations

import math
import random
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .fault_kinds import FAULT_NAMES

#: The keys of the /_stats "faults" counters: one per fault kind, then the requests the
#: --max-inflight gate turned away (an overflow, not a fault drawn by decide()).
STAT_FAULTS: tuple[str, ...] = (*FAULT_NAMES, "rejected")
# Delivered latencies kept for the percentiles; beyond this a uniform reservoir
# sample keeps memory bounded on a server left running (count, mean, max stay exact).
MAX_LATENCY_SAMPLES = 1_000_000


def _quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile (a delivered value, never an interpolation)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Stats:
    """Counters since the last reset; `generation` tells connections apart across resets."""

    generation: int = 0
    started: float = field(default_factory=time.time)
    requests: int = 0
    admin_requests: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    inflight: int = 0
    peak_inflight: int = 0
    waiting: int = 0
    peak_waiting: int = 0
    connections: int = 0
    connections_accepted: int = 0
    open_connections: int = 0
    bytes_sent: int = 0
    abandoned: int = 0
    header_timeouts: int = 0  # connections closed because a request head was overdue
    connections_rejected: int = 0  # connections closed at once, over the connection cap
    latencies: array = field(default_factory=lambda: array("d"))
    latency_count: int = 0
    latency_sum: float = 0.0
    latency_max: float = 0.0
    _sampler: random.Random = field(default_factory=lambda: random.Random(0), repr=False)
    cpu_at_reset: float = field(default_factory=time.process_time)

    def reset(self) -> None:
        """Zero every counter except the live gauges (in flight, open connections)."""
        fresh = Stats(
            generation=self.generation + 1,
            inflight=self.inflight,
            peak_inflight=self.inflight,
            waiting=self.waiting,
            peak_waiting=self.waiting,
            open_connections=self.open_connections,
        )
        self.__dict__.update(fresh.__dict__)

    def enter(self) -> None:
        self.inflight += 1
        if self.inflight > self.peak_inflight:
            self.peak_inflight = self.inflight

    def leave(self) -> None:
        self.inflight -= 1

    def count_header_timeout(self) -> None:
        self.header_timeouts += 1

    def queue_enter(self) -> None:
        self.waiting += 1
        if self.waiting > self.peak_waiting:
            self.peak_waiting = self.waiting

    def queue_leave(self) -> None:
        self.waiting -= 1

    def arrive(self, route: str) -> None:
        """Count a site request as soon as it is routed.

        Counting on arrival (not on completion) keeps `requests` right even
        while some requests are still held, e.g. a timeout the client gave up on.
        """
        self.requests += 1
        self.by_route[route] += 1

    def inject(self, fault: str) -> None:
        """Count an injected fault when it is decided."""
        self.faults[fault] += 1

    def answered(self, status: int, latency_s: float | None = None, nbytes: int = 0) -> None:
        """Count a response sent with `status` (resets and timeouts send none)."""
        self.by_status[str(status)] += 1
        if latency_s is not None:
            self._add_latency(latency_s)
        self.bytes_sent += nbytes

    def _add_latency(self, latency_s: float) -> None:
        self.latency_count += 1
        self.latency_sum += latency_s
        if latency_s > self.latency_max:
            self.latency_max = latency_s
        if len(self.latencies) < MAX_LATENCY_SAMPLES:
            self.latencies.append(latency_s)
        else:  # reservoir sampling (Algorithm R) with a private generator
            slot = self._sampler.randrange(self.latency_count)
            if slot < MAX_LATENCY_SAMPLES:
                self.latencies[slot] = latency_s

    def snapshot(self) -> dict[str, Any]:
        """The /_stats document (JSON-ready)."""
        values = sorted(self.latencies)
        count = self.latency_count
        return {
            "requests": self.requests,
            "by_route": dict(self.by_route),
            "by_status": dict(sorted(self.by_status.items())),
            "faults": {kind: self.faults.get(kind, 0) for kind in STAT_FAULTS},
            "inflight": self.inflight,
            "peak_inflight": self.peak_inflight,
            "waiting": self.waiting,
            "peak_waiting": self.peak_waiting,
            "connections": self.connections,
            "connections_accepted": self.connections_accepted,
            "open_connections": self.open_connections,
            "bytes_sent": self.bytes_sent,
            "abandoned": self.abandoned,
            "header_timeouts": self.header_timeouts,
            "connections_rejected": self.connections_rejected,
            "admin_requests": self.admin_requests,
            "latency": {
                "count": count,
                "mean": self.latency_sum / count if count else 0.0,
                "p50": _quantile(values, 0.50),
                "p99": _quantile(values, 0.99),
                "max": self.latency_max,
            },
            "cpu_s": time.process_time() - self.cpu_at_reset,
            "since_s": time.time() - self.started,
        }
