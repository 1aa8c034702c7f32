"""What ``flagbench_bench`` returns to the test, and what it leaves in pytest-benchmark's JSON.

``extra_info["flagbench"]`` carries what pytest-benchmark cannot know (counts by outcome, the
ideal time and efficiency, the server's peak in-flight requests, client CPU, the strategy and
its workload) plus one trials-table row per measured round, so a ``--benchmark-json`` file is
complete on its own and ``flagbench import-pytest-benchmark`` can rebuild the harness's
tables from it.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from bench.define.workload import Workload
from bench.results.records import SCHEMA_VERSION
from strategies.base import OUTCOMES, RequestRecord, count_outcomes

#: The key of ``extra_info`` that flagbench owns; the rest is the test's.
EXTRA_INFO_KEY = "flagbench"


@dataclass(frozen=True)
class Round:
    """One measured round (or the single untimed run under ``--benchmark-disable``)."""

    wall_s: float  # pytest-benchmark's own measurement when it timed the round
    records: list[RequestRecord]
    server: dict[str, Any]  # the server's /_stats after the round
    cpu_s: float  # client CPU, user + system, pool processes included
    row: dict[str, Any]  # the round as a trials-table row

    @property
    def counts(self) -> dict[str, int]:
        return count_outcomes(self.records)


@dataclass(frozen=True)
class BenchResult:
    strategy: str
    kind: str  # builtin, registered, object, function or coroutine
    workload: Workload
    concurrency_effective: int
    ideal_s: float | None
    rounds: tuple[Round, ...]
    timed: bool  # False under --benchmark-disable: one untimed run

    @property
    def records(self) -> list[RequestRecord]:
        """The last round's records."""
        return self.rounds[-1].records

    @property
    def counts(self) -> dict[str, int]:
        """Final outcomes of the last round (every round is checked to account for every job)."""
        return self.rounds[-1].counts

    @property
    def peak_inflight(self) -> int:
        """The most requests the server had in flight at once, over the rounds."""
        return max(int(r.server.get("peak_inflight", 0)) for r in self.rounds)

    @property
    def efficiency(self) -> float:
        """Median over the rounds of ideal / wall."""
        values = (r.row.get("efficiency") for r in self.rounds)
        return statistics.median(math.nan if v is None else float(v) for v in values)


def extra_info(
    result: BenchResult, server_config: dict[str, Any], warmup_rounds: int
) -> dict[str, Any]:
    """The ``extra_info["flagbench"]`` document (JSON-ready)."""
    rows = [r.row for r in result.rounds]

    def median(column: str) -> float | None:
        values = [row[column] for row in rows if row.get(column) is not None]
        return statistics.median(values) if values else None

    w = result.workload
    return {
        "schema": SCHEMA_VERSION,
        "strategy": result.strategy,
        "kind": result.kind,
        "config_id": rows[0]["config_id"],
        "workload_id": w.workload_id,
        "workload": w.label,
        "workload_params": w.to_dict(),
        "server_config": server_config,
        "n_jobs": w.jobs_count(),
        "concurrency_effective": result.concurrency_effective,
        "rounds": len(rows),
        "warmup_rounds": warmup_rounds,
        "timed": result.timed,
        "counts": {o: median(f"n_{o}") for o in OUTCOMES},
        "n_requests": median("n_requests"),
        "ideal_s": result.ideal_s,
        "efficiency": median("efficiency"),
        "server_peak_inflight": result.peak_inflight,
        "cpu_user_s": median("cpu_user_s"),
        "cpu_sys_s": median("cpu_sys_s"),
        "cpu_per_request_ms": median("cpu_per_request_ms"),
        "counts_match": all(row["counts_match"] for row in rows),
        "trials": rows,
    }
