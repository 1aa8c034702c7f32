"""The open-loop columns of a trial: what was offered, what was carried, what users waited.

``latency_corrected_s`` runs from a request's intended start (its scheduled arrival) to its
end: what a user arriving on schedule waits. ``latency_s`` runs from the actual start, as a
closed-loop client measures it; when the client falls behind, the difference is the wait it
does not see (coordinated omission). Per trial, over the jobs that sent a request:

- ``target_rate_rps``: the rate of the schedule, (arrivals - 1) over the span of intended
  starts (R itself without a ramp); ``achieved_rate_rps``: the same over the actual starts of
  the jobs' first attempts.
- ``n_late``: first attempts that started more than ``LATE_AFTER_S`` after their schedule
  (queued at the cap, or a client too busy to start them on time); ``n_dropped``: arrivals
  refused at the cap (``overflow = drop``).
- ``latency_corrected_*`` and ``latency_uncorrected_*``: p50, p90, p99, p99.9 and max from
  HDR histograms (``bench.results.hdr``), whose encoded forms ``hdr_corrected`` and
  ``hdr_uncorrected`` merge across trials and processes.

Closed-loop trials get NaN (and empty histograms): they have no schedule.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bench.define.workload import Workload
from bench.results import hdr
from strategies.arrivals import schedule
from strategies.classify import DROPPED

LATE_AFTER_S = 0.010  # a start later than this after its schedule counts as late
PREFIXES = ("latency_corrected", "latency_uncorrected")


def schedule_span_s(w: Workload) -> float:
    """How long the schedule itself lasts: from the first arrival to the last."""
    return schedule(w.jobs_count(), w.rate, w.arrivals, w.ramp.seconds)[-1]


def paced_ideal_s(w: Workload, closed_s: float | None, latency_s: float) -> float | None:
    """The ideal of a trial: in open loop no faster than its schedule, plus the last request."""
    if w.rate <= 0 or closed_s is None:
        return closed_s
    return max(closed_s, schedule_span_s(w) + latency_s)


def _rate(times: pd.Series) -> float:
    span = float(times.max() - times.min()) if len(times) > 1 else 0.0
    return (len(times) - 1) / span if span > 0 else math.nan


def columns(w: Workload, reqs: pd.DataFrame) -> dict[str, Any]:
    """The trial's open-loop columns from its requests (see the module docstring)."""
    out: dict[str, Any] = {"load": "open" if w.rate > 0 else "closed"}
    names = [
        "target_rate_rps",
        "achieved_rate_rps",
        "n_late",
        "n_dropped",
        "late_max_s",
        *(k for p in PREFIXES for k in hdr.percentiles(hdr.new(), p)),
    ]
    if w.rate <= 0 or reqs.empty or reqs["t_intended_s"].isna().all():
        return {**out, **dict.fromkeys(names, math.nan), "hdr_corrected": "", "hdr_uncorrected": ""}
    final = reqs[reqs["final"]]
    firsts = reqs[reqs["attempt"] == 1]
    done = final[final["attempt"] > 0]
    corrected = hdr.histogram(done["latency_corrected_s"])
    uncorrected = hdr.histogram(done["latency_s"])
    return {
        **out,
        "target_rate_rps": _rate(final["t_intended_s"]),
        "achieved_rate_rps": _rate(firsts["t_start_s"]),
        "n_late": int((firsts["late_s"] > LATE_AFTER_S).sum()),
        "n_dropped": int((final["error_kind"] == DROPPED).sum()),
        "late_max_s": float(firsts["late_s"].max()) if len(firsts) else math.nan,
        **hdr.percentiles(corrected, PREFIXES[0]),
        **hdr.percentiles(uncorrected, PREFIXES[1]),
        "hdr_corrected": hdr.encode(corrected),
        "hdr_uncorrected": hdr.encode(uncorrected),
    }


def summary_columns(group: pd.DataFrame) -> dict[str, Any]:
    """A configuration's open-loop figures over its repeats: the median rates and counts, and
    the percentiles of its trials' histograms merged (every request of every repeat), which
    a median of per-trial p99s is not."""
    if "hdr_corrected" not in group or not group["hdr_corrected"].astype(bool).any():
        return {}
    out: dict[str, Any] = {
        f"{k}_median": float(group[k].median())
        for k in ("target_rate_rps", "achieved_rate_rps", "n_late", "n_dropped")
    }
    for prefix, col in zip(PREFIXES, ("hdr_corrected", "hdr_uncorrected"), strict=True):
        out.update(hdr.percentiles(hdr.merged(group[col]), prefix))
    return out
