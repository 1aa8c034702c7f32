"""The latency spec grammar and the models behind it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flags_server import ConfigError, parse_latency
from flags_server.latency import MAX_LATENCY_S


@pytest.mark.parametrize(
    ("spec", "canonical", "mean"),
    [
        ("0.5", "500ms", 0.5),
        ("100ms", "100ms", 0.1),
        ("2s", "2s", 2.0),
        ("250us", "0.25ms", 0.00025),
        ("0", "0", 0.0),
        ("fixed:20ms", "20ms", 0.02),
        ("uniform:0.5..5", "uniform:500ms..5s", 2.75),
        ("uniform:50ms..150ms", "uniform:50ms..150ms", 0.1),
        ("normal:mean=100ms,sd=20ms", "normal:mean=100ms,sd=20ms", 0.1),
        ("lognormal:median=100ms,sigma=0.5", "lognormal:median=100ms,sigma=0.5", 0.1133148),
        ("exp:mean=100ms", "exp:mean=100ms", 0.1),
        (" Uniform: 1ms .. 2ms ", "uniform:1ms..2ms", 0.0015),
    ],
)
def test_specs_parse_to_models(spec: str, canonical: str, mean: float) -> None:
    model = parse_latency(spec)
    assert model.spec == canonical
    assert parse_latency(model.spec) == model
    assert model.mean_s == pytest.approx(mean, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize(
    "spec",
    [
        "uniform:0.05..0.5",
        "normal:mean=50ms,sd=40ms",
        "lognormal:median=80ms,sigma=1",
        "exp:mean=30ms",
        "normal:mean=0,sd=10ms",
        "normal:mean=60s,sd=60s",
        "exp:mean=30s",
    ],
)
def test_mean_s_is_the_mean_of_the_samples(spec: str) -> None:
    model = parse_latency(spec)
    n = 20_000
    samples = [model.sample((i + 0.5) / n) for i in range(n)]
    assert all(0 <= s <= MAX_LATENCY_S for s in samples)
    assert samples == sorted(samples)  # inverse transform: monotone in u
    assert sum(samples) / n == pytest.approx(model.mean_s, rel=0.01)


def test_normal_is_truncated_at_zero_not_clipped() -> None:
    model = parse_latency("normal:mean=0,sd=10ms")
    assert model.sample(0.0) >= 0
    assert model.sample(0.5) == pytest.approx(0.010 * 0.6745, rel=1e-3)  # half-normal median


def test_heavy_tails_are_capped_at_sixty_seconds() -> None:
    model = parse_latency("lognormal:median=30s,sigma=3")
    assert model.sample(0.999999) == MAX_LATENCY_S
    assert model.mean_s < MAX_LATENCY_S


def test_sample_is_pure() -> None:
    model = parse_latency("exp:mean=100ms")
    assert model.sample(0.3) == model.sample(0.3)


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("fast", "not a duration"),
        ("-1", "not a duration"),
        ("100 parsecs", "not a duration"),
        ("61s", "maximum of 60"),
        ("uniform:5..1", "low bound is above"),
        ("uniform:1", "LOW..HIGH"),
        ("normal:mean=1s", "mean, sd"),
        ("normal:mean=1s,sd=1s,sd=2s", "mean, sd"),
        ("lognormal:median=1s,sigma=x", "sigma 'x'"),
        ("lognormal:median=1s,sigma=9", "sigma must be"),
        ("pareto:alpha=1", "unknown distribution 'pareto'"),
        ("nan", "not a duration"),
        ("", "not a duration"),
    ],
)
def test_bad_specs_show_the_allowed_forms(spec: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_latency(spec)
    message = str(info.value)
    assert why in message
    assert repr(spec) in message
    assert "uniform:0.5..5" in message and "lognormal:median=100ms,sigma=0.5" in message


def test_non_string_specs() -> None:
    assert parse_latency(0.25).mean_s == 0.25
    with pytest.raises(ConfigError):
        parse_latency(True)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        parse_latency(None)  # type: ignore[arg-type]


durations = st.floats(min_value=0, max_value=60, allow_nan=False).map(lambda x: f"{x:.6f}")


@given(lo=durations, hi=durations, u=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_uniform_specs_round_trip_and_stay_in_bounds(lo: str, hi: str, u: float) -> None:
    lo_s, hi_s = sorted((float(lo), float(hi)))
    model = parse_latency(f"uniform:{lo_s!r}..{hi_s!r}")
    assert parse_latency(model.spec).params == pytest.approx(model.params, rel=1e-5, abs=1e-9)
    assert lo_s - 1e-9 <= model.sample(u) <= hi_s + 1e-9


@given(
    median=st.floats(min_value=0, max_value=60),
    sigma=st.floats(min_value=0, max_value=5),
    u=st.floats(min_value=0, max_value=1),
)
def test_lognormal_samples_are_bounded(median: float, sigma: float, u: float) -> None:
    model = parse_latency(f"lognormal:median={median!r},sigma={sigma!r}")
    assert 0 <= model.sample(u) <= MAX_LATENCY_S
