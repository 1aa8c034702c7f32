"""The workload's typed values: parsed once, where a spec or a command line is read.

Each is a ``str`` subclass: it keeps the one spelling that tables, labels, JSON and
comparisons have always used, and carries its parsed meaning beside it (``Duration("5ms")
.seconds == 0.005``), so nothing downstream parses the text again. Constructing one checks
it: a bad spelling raises ValueError saying what is allowed.
"""

from __future__ import annotations

import math
from typing import Literal

from bench.define.codes import resolve_codes
from flags_server import ConfigError
from flags_server.latency import LatencyModel, parse_latency

_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_duration(spec: str) -> float:
    """``"5ms"`` -> 0.005 seconds. A unit is required: a bare ``5`` could be seconds or ms."""
    text = spec.strip()
    for unit in ("us", "ms", "s"):  # "ms" and "us" end in "s": try them first
        if text.endswith(unit):
            try:
                value = float(text[: -len(unit)])
            except ValueError:
                break
            if not math.isfinite(value):
                break
            return value * _DURATION_UNITS[unit]
    raise ValueError("expected a duration with its unit (us, ms or s), e.g. 5ms or 0.5ms")


class Duration(str):
    """A duration in its one spelling, milliseconds as short as exact (``"0.005s"`` -> 5ms);
    ``""`` means unset (the field's default applies) and has no seconds."""

    seconds: float

    def __new__(cls, spec: str) -> Duration:
        if spec == "":
            self = super().__new__(cls, "")
            self.seconds = 0.0
            return self
        seconds = parse_duration(spec)
        self = super().__new__(cls, f"{round(seconds * 1e3, 6) + 0.0:g}ms")  # + 0.0: no -0ms
        self.seconds = seconds
        return self


class Latency(str):
    """A latency spec as the user wrote it, and the server's model of it."""

    model: LatencyModel

    def __new__(cls, spec: str) -> Latency:

        try:
            model = parse_latency(spec)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        self = super().__new__(cls, spec)
        self.model = model
        return self


CpuKind = Literal["none", "python", "hashlib"]


class CpuWork(str):
    """``"python:2ms"``: calibrated CPU work per flag, pure Python (holds the GIL) or hashlib
    (releases it); ``""`` is none."""

    kind: CpuKind
    ms: float

    def __new__(cls, spec: str) -> CpuWork:
        self = super().__new__(cls, spec)
        if spec == "":
            self.kind, self.ms = "none", 0.0
            return self
        kind, sep, amount = spec.partition(":")
        if not sep or kind not in ("python", "hashlib") or not amount.endswith("ms"):
            raise ValueError("expected KIND:Nms with KIND python or hashlib, e.g. python:2ms")
        try:
            ms = float(amount[:-2])
        except ValueError:
            raise ValueError("expected KIND:Nms with a number N, e.g. python:2ms") from None
        if not 0 < ms <= 10_000:
            raise ValueError("the amount must be more than 0 and at most 10000 ms")
        self.kind, self.ms = ("python" if kind == "python" else "hashlib"), ms
        return self

    @property
    def seconds(self) -> float:
        return self.ms / 1000


class Codes(str):
    """Which flags, in the book's vocabulary (pop20, all, every, codes and prefixes), and the
    codes it resolves to."""

    codes: tuple[str, ...]

    def __new__(cls, spec: str) -> Codes:
        codes = tuple(resolve_codes(spec))
        self = super().__new__(cls, spec)
        self.codes = codes
        return self


def parse_cpu_work(spec: str) -> tuple[str, float]:
    """``"python:2ms"`` -> ("python", 2.0); ``""`` -> ("none", 0.0). For tables on disk."""
    work = CpuWork(spec)
    return work.kind, work.ms
