"""How numbers and the ideal are written, in the charts and in the report alike.

Kept apart from the drawing code so the report's sentences can use the same units and
signs without importing anything that draws.
"""

from __future__ import annotations

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
