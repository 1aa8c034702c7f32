"""Latency models and their short human-readable spec grammar.

A model never draws random numbers itself: `sample(u)` maps a uniform
`u` in [0, 1) to a delay by inverse transform, so the caller decides where
randomness comes from (a hash of seed, path and attempt) and every server
with the same seed gives every request the same delay.

Grammar (durations are a number with an optional unit `us`, `ms` or `s`;
a bare number means seconds):

    0.5 | 100ms | 2s | fixed:100ms           fixed delay
    uniform:0.5..5 | uniform:50ms..150ms     uniform between the bounds
    normal:mean=100ms,sd=20ms                normal, truncated at 0
    lognormal:median=100ms,sigma=0.5         log-normal (sigma of log)
    exp:mean=100ms                           exponential

Every sample is capped at MAX_LATENCY_S (60 s), so no request can be held
for longer whatever the distribution's tail.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist

from ._exceptions import ConfigError

MAX_LATENCY_S = 60.0
MAX_SIGMA = 5.0

FORMS = (
    "0.5, 100ms, 2s, fixed:100ms, uniform:0.5..5, normal:mean=100ms,sd=20ms, "
    "lognormal:median=100ms,sigma=0.5, exp:mean=100ms"
)

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "": 1.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(us|ms|s|)\s*$")
_U_EPS = 1e-12
_STD = NormalDist()


def _fmt(seconds: float) -> str:
    """Canonical duration text: milliseconds when below a second, else seconds."""
    if seconds == 0:
        return "0"
    if seconds < 1:
        return f"{seconds * 1e3:g}ms"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class LatencyModel:
    """A delay distribution; `params` are in seconds except `sigma`."""

    kind: str
    params: tuple[float, ...]

    @property
    def spec(self) -> str:
        """Canonical spec string; parse_latency(m.spec) == m."""
        p = self.params
        if self.kind == "fixed":
            return _fmt(p[0])
        if self.kind == "uniform":
            return f"uniform:{_fmt(p[0])}..{_fmt(p[1])}"
        if self.kind == "normal":
            return f"normal:mean={_fmt(p[0])},sd={_fmt(p[1])}"
        if self.kind == "lognormal":
            return f"lognormal:median={_fmt(p[0])},sigma={p[1]:g}"
        return f"exp:mean={_fmt(p[0])}"

    def sample(self, u: float) -> float:
        """Delay in seconds for a uniform `u` in [0, 1); monotone in `u`."""
        u = min(max(u, _U_EPS), 1.0 - _U_EPS)
        p = self.params
        if self.kind == "fixed":
            x = p[0]
        elif self.kind == "uniform":
            x = p[0] + u * (p[1] - p[0])
        elif self.kind == "normal":
            mean, sd = p
            if sd == 0:
                x = mean
            else:
                lo = _STD.cdf(-mean / sd)
                x = mean + sd * _STD.inv_cdf(lo + u * (1.0 - lo))
        elif self.kind == "lognormal":
            median, sigma = p
            x = median * math.exp(sigma * _STD.inv_cdf(u))
        else:
            x = -p[0] * math.log1p(-u)
        return min(max(x, 0.0), MAX_LATENCY_S)

    @property
    def mean_s(self) -> float:
        """Expected delay in seconds (what the harness uses for the ideal time).

        The closed forms are those of the uncapped distributions; when a tail reaches
        MAX_LATENCY_S the cap lowers the real mean, so it is computed numerically instead.
        """
        p = self.params
        if self.kind == "fixed":
            return p[0]
        if self.kind == "uniform":
            return (p[0] + p[1]) / 2
        if self.sample(1.0 - 1e-9) >= MAX_LATENCY_S:
            return self._numeric_mean()
        if self.kind == "normal":
            mean, sd = p
            if sd == 0:
                return mean
            alpha = -mean / sd
            return mean + sd * _STD.pdf(alpha) / (1.0 - _STD.cdf(alpha))
        if self.kind == "lognormal":
            return p[0] * math.exp(p[1] ** 2 / 2)
        return p[0]

    def _numeric_mean(self, n: int = 20000) -> float:
        """Mean of the capped distribution by the midpoint rule (cap bounds the tail)."""
        return sum(self.sample((i + 0.5) / n) for i in range(n)) / n


def _bad(spec: str, why: str) -> ConfigError:
    return ConfigError(f"bad latency spec {spec!r}: {why}; allowed forms: {FORMS}")


def parse_duration(text: str, spec: str | None = None) -> float:
    """Seconds from `100ms`, `0.5`, `2s` or `250us`; bounded to [0, 60] s."""
    m = _DURATION.match(text)
    if not m:
        raise _bad(spec or text, f"{text!r} is not a duration such as 0.5, 100ms or 2s")
    value = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(value) or value > MAX_LATENCY_S:
        raise _bad(spec or text, f"{text!r} exceeds the maximum of {MAX_LATENCY_S:g} s")
    return value


def _keywords(spec: str, body: str, names: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in body.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in names or key in found:
            raise _bad(spec, f"expected exactly the parameters {', '.join(names)}")
        found[key] = value.strip()
    if set(found) != set(names):
        raise _bad(spec, f"expected exactly the parameters {', '.join(names)}")
    return found


def parse_latency(spec: str | float | int) -> LatencyModel:
    """Parse a latency spec (see the module docstring); raise ConfigError if bad."""
    if isinstance(spec, bool) or not isinstance(spec, (str, int, float)):
        raise _bad(repr(spec), "a latency spec is a string such as 100ms")
    text = str(spec).strip()
    kind, colon, body = text.partition(":")
    kind = kind.strip().lower()
    if not colon:
        return LatencyModel("fixed", (parse_duration(text, text),))
    if kind == "fixed":
        return LatencyModel("fixed", (parse_duration(body, text),))
    if kind == "uniform":
        lo_text, dots, hi_text = body.partition("..")
        if not dots:
            raise _bad(text, "uniform needs two bounds as LOW..HIGH")
        lo, hi = parse_duration(lo_text, text), parse_duration(hi_text, text)
        if lo > hi:
            raise _bad(text, "the low bound is above the high bound")
        return LatencyModel("uniform", (lo, hi))
    if kind == "normal":
        kw = _keywords(text, body, ("mean", "sd"))
        mean, sd = parse_duration(kw["mean"], text), parse_duration(kw["sd"], text)
        return LatencyModel("normal", (mean, sd))
    if kind == "lognormal":
        kw = _keywords(text, body, ("median", "sigma"))
        try:
            sigma = float(kw["sigma"])
        except ValueError:
            raise _bad(text, f"sigma {kw['sigma']!r} is not a number") from None
        if not 0 <= sigma <= MAX_SIGMA:
            raise _bad(text, f"sigma must be in [0, {MAX_SIGMA:g}]")
        return LatencyModel("lognormal", (parse_duration(kw["median"], text), sigma))
    if kind == "exp":
        kw = _keywords(text, body, ("mean",))
        return LatencyModel("exp", (parse_duration(kw["mean"], text),))
    raise _bad(text, f"unknown distribution {kind!r}")
