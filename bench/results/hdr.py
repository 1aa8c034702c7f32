"""Latency percentiles from an HDR histogram, as wrk2 and the load tools report them.

An HDR histogram keeps every value to a fixed relative precision (``DIGITS`` significant
digits: within 0.1%) in a small, fixed space, and two of them add exactly. Its encoded form
(a short base64 string) is stored per trial beside the raw requests, so trials measured in
different processes, or repeats, merge into one distribution without the raw rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from hdrh.histogram import HdrHistogram

UNIT_S = 1e-6  # values are recorded in whole microseconds
LOWEST, HIGHEST = 1, 3_600 * 1_000_000  # 1 us to an hour
DIGITS = 3
#: how far a percentile read from the histogram may be from the exact one, relatively
RELATIVE_PRECISION = 10.0**-DIGITS
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST, HIGHEST, DIGITS)


def histogram(latencies_s: Iterable[float]) -> HdrHistogram:
    """Seconds in, clamped to the trackable range (a 0 s latency is recorded as 1 us)."""
    hist = new()
    values = np.asarray(list(latencies_s), dtype=float)
    values = values[np.isfinite(values)]
    for us in np.clip(np.rint(values / UNIT_S), LOWEST, HIGHEST).astype(np.int64):
        hist.record_value(int(us))
    return hist


def encode(hist: HdrHistogram) -> str:
    return hist.encode().decode("ascii")


def merged(encoded: Iterable[str]) -> HdrHistogram:
    """One histogram from several encoded ones (trials, processes, repeats)."""
    total = new()
    for text in encoded:
        if text:
            total.decode_and_add(text)
    return total


def percentile_name(p: float) -> str:
    """99.9 -> "p99_9": a column-name spelling."""
    return "p" + f"{p:g}".replace(".", "_")


def percentiles(hist: HdrHistogram, prefix: str) -> dict[str, float]:
    """``{prefix}_p50_s`` ... ``{prefix}_p99_9_s`` and ``{prefix}_max_s``; NaN when empty."""
    empty = hist.get_total_count() == 0
    out = {
        f"{prefix}_{percentile_name(p)}_s": float("nan")
        if empty
        else hist.get_value_at_percentile(p) * UNIT_S
        for p in PERCENTILES
    }
    out[f"{prefix}_max_s"] = float("nan") if empty else hist.get_max_value() * UNIT_S
    return out
