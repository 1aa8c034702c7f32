"""The trials table's columns, declared once: their order and what each means.

``collect`` computes the values; this is the one list of what the table holds. A column that
``collect`` makes and this list does not name (or the other way round) stops the collection
with a message saying which, so the list cannot drift from the table; docs/columns.md is
written from it (``python -m bench.results.columns > docs/columns.md``), and a test checks it.
The workload's own columns come from its declarations (``bench.define.workload``), and the
server's fault counters from the server's fault table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.define.workload import FIELDS
from flags_server.stats import STAT_FAULTS


@dataclass(frozen=True)
class Column:
    name: str
    means: str


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, means) for name, means in pairs)


IDENTITY = _cols(
    ("run_id", "the run folder's id"),
    ("trial_id", "the trial's number in the run"),
    ("config_id", "strategy and workload: the configuration the trial measures"),
    ("workload_id", "a short hash of the workload's values that differ from the defaults"),
    ("workload", "the workload's label: N, C, latency and what else differs from the defaults"),
    ("repeat", "which repeat of its configuration (warm-ups are not in the table)"),
    ("strategy", "the download strategy"),
)
RAN = _cols(
    ("python", "the interpreter's version"),
    ("implementation", "CPython, PyPy, ..."),
    ("gil_enabled", "whether the GIL was on during the trial (False on a free-threaded run)"),
    ("free_threaded", "whether the interpreter was built free-threaded"),
    ("start_method", "the start method the strategy's processes used (empty: none started)"),
    ("client", "the HTTP client library that ran"),
    ("loop", "the event loop that ran"),
)
OUTCOME = _cols(
    ("latency_mean_s", "the expected latency of one job (image, plus metadata when fetched)"),
    ("status", "ok, or failed (watchdog, crash, counts that do not add up)"),
    ("failure", "why a failed trial failed, in one line"),
    ("n_saved_files", "flags written to disk"),
    ("wall_s", "the timed region: strategy.run() from its first job to its last result"),
    ("cpu_user_s", "user CPU of the worker and the processes it started"),
    ("cpu_sys_s", "system CPU of the worker and the processes it started"),
    ("rss_peak_mib", "the worker's peak resident memory"),
    ("startup_s", "the strategy's set-up before the timed region (pools, clusters)"),
    ("client_processes", "processes that sent requests"),
    ("client_threads", "threads that sent requests"),
    ("n_ok", "jobs whose final outcome was a flag"),
    ("n_not_found", "jobs whose final outcome was 404 (a code that is not a country)"),
    ("n_error", "jobs whose final outcome was an error"),
    ("n_costly_failures", "timeouts and retried failures: the attempts that cost time"),
    ("n_requests", "HTTP attempts sent"),
    ("throughput_rps", "attempts per second of wall time"),
)
IDEAL = _cols(
    ("concurrency_effective", "the C the strategy can use (1 for sequential)"),
    ("ideal_mean_s", "ceil(N / C) times the expected job latency"),
    ("ideal_io_s", "a perfect client with C slots on this server's own draws"),
    ("cpu_floor_s", "the calibrated CPU work over the cores the model can use"),
    ("blocking_floor_s", "CPU work and slow writes over the workers that make them"),
    ("ideal_s", "the largest of the I/O ideal and the floors: no client can be faster"),
    ("ideal_bound", "which one sets ideal_s: io, cpu or blocking"),
    ("efficiency", "ideal_s / wall_s (1 is a perfect client)"),
    ("switch_interval_s", "the thread switch interval in force"),
    ("background_cpu_s", "CPU time of the background threads"),
    ("cores", "the cores this process may run on"),
    ("cpu_cores", "the cores the strategy's CPU work can use"),
    ("blocking_workers", "the workers that make the blocking steps at once"),
    ("cpu_limit", "why cpu_cores is what it is: gil, loop, workers or cores"),
)
LATENCY = _cols(
    ("latency_p50_s", "the median attempt's latency, seen by the client"),
    ("latency_p90_s", "the 90th percentile attempt latency"),
    ("latency_p99_s", "the 99th percentile attempt latency"),
    ("latency_max_s", "the slowest attempt"),
    ("wait_mean_s", "mean time a job waited between being ready and starting"),
    ("pool_startup_s", "from the timed region's start to the first request's (process start-up)"),
    ("steady_s", "wall_s less pool_startup_s: the downloads once the first request started"),
)
OPEN_LOOP = _cols(
    ("load", "closed (C at a time) or open (arrivals at a rate)"),
    ("target_rate_rps", "open loop: the arrivals per second offered"),
    ("achieved_rate_rps", "open loop: the arrivals per second started"),
    ("n_late", "open loop: arrivals started late (no slot free when due)"),
    ("n_dropped", "open loop: arrivals not sent (overflow = drop)"),
    ("late_max_s", "open loop: the latest start"),
    ("latency_corrected_p50_s", "open loop: median latency from the intended start"),
    ("latency_corrected_p90_s", "open loop: 90th percentile from the intended start"),
    ("latency_corrected_p99_s", "open loop: 99th percentile from the intended start"),
    ("latency_corrected_p99_9_s", "open loop: 99.9th percentile from the intended start"),
    ("latency_corrected_max_s", "open loop: the slowest, from the intended start"),
    ("latency_uncorrected_p50_s", "open loop: median latency from the actual start"),
    ("latency_uncorrected_p90_s", "open loop: 90th percentile from the actual start"),
    ("latency_uncorrected_p99_s", "open loop: 99th percentile from the actual start"),
    ("latency_uncorrected_p99_9_s", "open loop: 99.9th percentile from the actual start"),
    ("latency_uncorrected_max_s", "open loop: the slowest, from the actual start"),
    ("hdr_corrected", "open loop: the corrected latencies as an HDR histogram, mergeable"),
    ("hdr_uncorrected", "open loop: the uncorrected latencies as an HDR histogram"),
)
PROBES = _cols(
    ("cpu_per_request_ms", "client CPU (user + system) per attempt"),
    ("loop_lag_max_s", "the event loop's longest lateness (asyncio strategies)"),
    ("loop_lag_p99_s", "the event loop's 99th percentile lateness"),
    ("heartbeat_max_s", "a heartbeat thread's longest lateness (the GIL's queue)"),
    ("heartbeat_p99_s", "the heartbeat thread's 99th percentile lateness"),
    ("spinner_thread_max_s", "spinner: the thread's longest wait beyond its interval"),
    ("spinner_thread_p99_s", "spinner: the thread's 99th percentile wait beyond its interval"),
    ("spinner_loop_max_s", "spinner: the coroutine's longest wait beyond its interval"),
    ("spinner_loop_p99_s", "spinner: the coroutine's 99th percentile wait beyond its interval"),
)
DELIVERY = _cols(
    ("n_delivered", "jobs whose result reached the caller (not those a TaskGroup cancelled)"),
    ("first_result_s", "when the caller got its first result"),
    ("first_response_s", "when the first job's deciding response finished"),
    ("half_result_s", "when the caller had half of the results (the ceil(N/2)-th)"),
    ("half_response_s", "when half of the jobs' responses had finished"),
    ("last_result_s", "when the caller had every result (NaN if some never came)"),
    ("last_response_s", "when every job's response had finished"),
    ("held_mean_s", "mean time a finished response waited to be handed over (head of line)"),
    ("held_max_s", "the longest a finished response waited to be handed over"),
)
SERVER = _cols(
    ("server_requests", "requests the server counted"),
    ("server_peak_inflight", "the most requests the server held at once"),
    ("server_connections", "connections the server accepted"),
    ("server_cpu_s", "the server's CPU time during the trial"),
    ("server_error", "what went wrong reading the server's counts, if anything"),
)
VERDICT = _cols(
    ("counts_match", "the server's count equals the client's, and every job is accounted for"),
    ("bottleneck", "what limited the trial (docs/harness.md: latency, gil, client_cpu, ...)"),
)


def workload_columns() -> tuple[Column, ...]:
    """The workload's own columns, from its declarations (``n_jobs`` resolved to a number)."""
    return tuple(Column(f.column_name, f.help) for f in FIELDS)


def fault_columns() -> tuple[Column, ...]:
    return tuple(
        Column(f"server_injected_{k}", f"{k} faults the server injected") for k in STAT_FAULTS
    )


def trial_columns() -> tuple[Column, ...]:
    """Every column of the trials table, in its order."""
    return (
        *IDENTITY,
        *RAN,
        *workload_columns(),
        *OUTCOME,
        *IDEAL,
        *LATENCY,
        *OPEN_LOOP,
        *PROBES,
        *DELIVERY,
        *SERVER,
        *fault_columns(),
        *VERDICT,
    )


def ordered(made: Sequence[str]) -> list[str]:
    """The declared order of the columns ``collect`` made; any difference is a bug, named."""
    declared = [c.name for c in trial_columns()]
    extra, missing = set(made) - set(declared), set(declared) - set(made)
    if extra or missing:
        raise RuntimeError(
            "the trials table and bench/results/columns.py disagree: "
            f"made but not declared {sorted(extra)}, declared but not made {sorted(missing)}"
        )
    return declared


def markdown() -> str:
    """docs/columns.md: the trials table's columns and what each means."""
    lines = [
        "# The trials table's columns",
        "",
        "One row per measured trial (`trials.parquet`), in this order. Written by",
        "`python -m bench.results.columns > docs/columns.md` from `bench/results/columns.py`.",
        "",
        "| column | what it means |",
        "| --- | --- |",
    ]
    lines += [f"| `{c.name}` | {c.means.replace('|', '/')} |" for c in trial_columns()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
