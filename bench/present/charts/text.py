"""How numbers and the ideal are written, in the charts and in the report alike.

Kept apart from the drawing code so the report's sentences can use the same units and
signs without importing anything that draws.
"""

from __future__ import annotations

from collections.abc import Callable

# Typographic signs, spelled as escapes so the source stays ASCII-unambiguous.
TIMES = "\u00d7"
DASH = "\u2013"
# What "the ideal" is (the trials' ``ideal_s``, worked out by ``bench.results.ideal``), for legends
# and for the report, which explains it once.
IDEAL_LABEL = "ideal: a perfect client with C slots and the cores its model can use"
IDEAL_NOTE = (
    "The ideal is the time a perfect client with C slots would take on the latencies and "
    "faults the server drew for this very workload (its draws are deterministic), every job "
    "starting the moment a slot frees, with no overhead; retries are left out. "
    "With a fixed latency it is \u2308N/C\u2309 \u00d7 latency; with a random one it is "
    "usually more than that formula with the mean latency, since the slowest request of each "
    "round sets the pace. Sequential's ideal has one slot. With CPU work it is at least the "
    "CPU floor: the total calibrated work over the cores the model can use (one for "
    "GIL-holding work in threads and for anything inline on an event loop, the workers or "
    "the cores otherwise), and with a slow disk at least the writes over the workers that "
    "make them; a worker that fetches and then works holds its slot for both."
)


def fmt_s(seconds: float) -> str:
    """Seconds in the unit a reader expects: 850 ms, 1.42 s, 2 min 5 s."""
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def fmt_x(ratio: float) -> str:
    if ratio != ratio:
        return "n/a"
    return f"{ratio:.2g}{TIMES}" if ratio < 10 else f"{ratio:.0f}{TIMES}"


def fmt_pct(part: float, whole: float) -> str | None:
    """``part`` as a percentage of ``whole``, or None when it would not lie in 0..100%:
    a share above the whole it names (176% busy) is written another way or not at all."""
    if not (whole > 0) or part != part or part < 0 or part > whole * 1.0005:
        return None
    return f"{min(part / whole, 1.0):.0%}"


def fmt_cores(cpu_s: float, wall_s: float) -> str:
    """CPU time over wall time as cores kept busy: 0.57 of a core, 1.8 cores."""
    busy = cpu_s / wall_s if wall_s > 0 else float("nan")
    if busy != busy:
        return "n/a"
    return f"{busy:.2g} of a core" if busy < 0.995 else f"{busy:.2g} cores"


def fmt_span(values: dict[str, float], fmt: Callable[[float], str] = fmt_s, who: str = "") -> str:
    """Values per strategy said plainly: one strategy gives the one fact (``12 ms
    (asyncio)``), equal values one number, different ones the range with its two ends named.
    ``who`` introduces the names (``with ``)."""
    items = [(k, v) for k, v in values.items() if v == v]
    if not items:
        return "n/a"
    if len(items) == 1:
        name, v = items[0]
        return f"{fmt(v)} ({who}{name})"
    lo = min(items, key=lambda kv: kv[1])
    hi = max(items, key=lambda kv: kv[1])
    if fmt(lo[1]) == fmt(hi[1]):
        return f"{fmt(lo[1])} (every strategy)"
    return f"from {fmt(lo[1])} ({who}{lo[0]}) to {fmt(hi[1])} ({who}{hi[0]})"
