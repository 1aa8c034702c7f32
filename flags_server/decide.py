"""What the server does to one request: a pure function of seed, path and attempt.

Every strategy must meet identical conditions, in any request order, so
no global random state is used: the uniforms behind a decision come from
hashing (seed, path, attempt) with BLAKE2b. Separate uniforms drive the
delay, the fault draw, the error code and the truncation point, so raising
an error rate never changes any request's delay.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from .fault_kinds import FAULT_NAMES
from .latency import LatencyModel

_SCALE = 1.0 / 2**64
_FOUR_U64 = struct.Struct("<4Q")


@dataclass(frozen=True, slots=True, init=False)
class FaultRates:
    """Probabilities of each fault kind (their sum is at most 1) and the error codes.

    Built with one keyword per fault kind (`FaultRates(reset=0.2)`), so a kind added to
    the table needs no change here. The draw order and the total are worked out once,
    not per request.
    """

    rates: tuple[tuple[str, float], ...]  # (kind, rate) in the order decide() draws
    error_codes: tuple[int, ...]
    total: float

    def __init__(self, error_codes: tuple[int, ...] = (418,), **rates: float) -> None:
        unknown = sorted(set(rates) - set(FAULT_NAMES))
        if unknown:
            raise TypeError(
                f"unknown fault kind(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(FAULT_NAMES)}"
            )
        ordered = tuple((name, rates.get(name, 0.0)) for name in FAULT_NAMES)
        object.__setattr__(self, "rates", ordered)
        object.__setattr__(self, "error_codes", error_codes)
        object.__setattr__(self, "total", sum(rate for _, rate in ordered))

    def __getitem__(self, kind: str) -> float:
        for name, rate in self.rates:
            if name == kind:
                return rate
        raise KeyError(kind)

    def in_order(self) -> tuple[tuple[str, float], ...]:
        return self.rates


@dataclass(frozen=True, slots=True)
class Decision:
    """The delay (seconds) and the fault (None = a normal answer) for one request.

    `status` is the HTTP code for an `http_error`; `keep_fraction` is the share
    of the body sent before a `truncate` cuts the connection (0.1 to 0.9).
    """

    latency_s: float
    fault: str | None = None
    status: int | None = None
    keep_fraction: float = 1.0


def uniforms(seed: int, path: str, attempt: int) -> tuple[float, float, float, float]:
    """Four independent uniforms in [0, 1) for this (seed, path, attempt)."""
    key = f"{seed}\x00{path}\x00{attempt}".encode()
    a, b, c, d = _FOUR_U64.unpack(hashlib.blake2b(key, digest_size=32).digest())
    return a * _SCALE, b * _SCALE, c * _SCALE, d * _SCALE


def constant_decision(latency: LatencyModel, faults: FaultRates) -> Decision | None:
    """The one decision every request gets when nothing is random, else None.

    A fixed delay with no faults needs no hashing: the server uses this to
    keep the common case cheap, with exactly the result decide() would give.
    """
    if latency.kind == "fixed" and faults.total == 0:
        return Decision(latency.sample(0.5))
    return None


def decide(
    seed: int, path: str, attempt: int, latency: LatencyModel, faults: FaultRates
) -> Decision:
    """The decision for the `attempt`-th request (1-based) of `path` since the last reset."""
    u_latency, u_fault, u_code, u_cut = uniforms(seed, path, attempt)
    delay = latency.sample(u_latency)
    if u_fault >= faults.total:
        return Decision(delay)
    edge = 0.0
    for kind, rate in faults.in_order():
        edge += rate
        if rate > 0 and u_fault < edge:
            if kind == "http_error":
                codes = faults.error_codes
                status = codes[min(int(u_code * len(codes)), len(codes) - 1)]
                return Decision(delay, kind, status=status)
            if kind == "truncate":
                return Decision(delay, kind, keep_fraction=0.1 + 0.8 * u_cut)
            return Decision(delay, kind)
    return Decision(delay)
