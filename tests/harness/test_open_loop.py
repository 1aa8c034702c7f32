"""Open loop through the harness: the axis, the refusals, the columns, the HDR percentiles."""

from __future__ import annotations

import numpy as np
import pytest

import bench
from bench.results import hdr, openloop


def _exact(values: np.ndarray, p: float) -> float:
    """The percentile as an HDR histogram defines it: the value of rank round(p% of n)."""
    rank = max(1, int(p / 100 * len(values) + 0.5))
    return float(np.sort(values)[rank - 1])


def _close(got: float, exact: float) -> bool:
    return abs(got - exact) <= exact * hdr.RELATIVE_PRECISION + hdr.UNIT_S


def test_hdr_percentiles_are_the_exact_ones_within_its_precision_and_merge() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.lognormal(np.log(0.05), 0.6, 3000), rng.lognormal(np.log(0.2), 0.3, 2000)
    merged = hdr.merged([hdr.encode(hdr.histogram(a)), hdr.encode(hdr.histogram(b))])
    both = np.concatenate([a, b])
    got = hdr.percentiles(merged, "x")
    for p in hdr.PERCENTILES:
        assert _close(got[f"x_{hdr.percentile_name(p)}_s"], _exact(both, p)), p
    assert _close(got["x_max_s"], both.max())


@pytest.fixture(scope="module")
def open_run(tmp_path_factory, run_cli):
    out = tmp_path_factory.mktemp("open") / "results"
    proc = run_cli(
        "run",
        "threadpool",
        "asyncio",
        "--rate",
        "40,80",
        "-m",
        "20",
        "--latency",
        "50ms",
        "-n",
        "60",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--out",
        str(out),
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    return bench.load(next(out.iterdir()))


def test_an_open_run_has_its_columns_and_hdr_matches_the_raw_requests(open_run) -> None:
    trials, reqs = open_run.trials, open_run.requests
    assert set(trials["load"]) == {"open"}
    assert {"t_intended_s", "latency_corrected_s", "late_s"} <= set(reqs.columns)
    for _, row in trials.iterrows():
        assert row["target_rate_rps"] == pytest.approx(row["rate"])
        assert row["achieved_rate_rps"] == pytest.approx(row["rate"], rel=0.05)
        assert row["n_dropped"] == 0 and row["efficiency"] > 0.5
        mine = reqs[(reqs["trial_id"] == row["trial_id"]) & reqs["final"]]
        for col, prefix in (
            ("latency_corrected_s", "latency_corrected"),
            ("latency_s", "latency_uncorrected"),
        ):
            values = mine[col].to_numpy()
            for p in hdr.PERCENTILES:
                got = row[f"{prefix}_{hdr.percentile_name(p)}_s"]
                assert _close(got, _exact(values, p)), (col, p)
            assert _close(row[f"{prefix}_max_s"], values.max())
    merged = open_run.summary.set_index("config_id")["latency_corrected_p99_s"]
    one_repeat = trials.set_index("config_id")["latency_corrected_p99_s"]
    assert merged.to_dict() == pytest.approx(one_repeat.astype(float).to_dict())


def test_the_open_loop_charts_are_drawn_with_their_readings(open_run, tmp_path) -> None:
    from bench.present.charts import render
    from bench.present.report.readings import reading

    kinds = ["openloop_latency", "openloop_omission", "openloop_rate"]
    drawn = render(open_run, tmp_path, kinds)
    assert sorted(r.kind for r in drawn) == sorted(kinds)
    assert all(p.stat().st_size > 0 for r in drawn for p in r.paths)
    assert "kept up with every rate (up to 80/s)" in " ".join(reading("openloop_rate", open_run))
    assert "threadpool" in reading("openloop_latency", open_run)[0]
    assert "understates" in reading("openloop_omission", open_run)[0]


def test_a_closed_run_keeps_nan_open_loop_columns(tmp_path, run_cli) -> None:
    out = tmp_path / "results"
    proc = run_cli(
        "run",
        "asyncio",
        "-n",
        "5",
        "-m",
        "5",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--out",
        str(out),
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    run = bench.load(next(out.iterdir()))
    assert set(run.trials["load"]) == {"closed"}
    assert run.trials["latency_corrected_p99_s"].isna().all()
    assert run.requests["t_intended_s"].isna().all()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "sequential", "--rate", "10"], "strategy 'sequential' cannot run open loop"),
        (["run", "processpool", "--rate", "10"], "strategy 'processpool' cannot run open loop"),
        (["run", "asyncio", "--arrivals", "poisson"], "--arrivals poisson shapes open-loop"),
        (["run", "asyncio", "--rate", "10", "--overflow", "spill"], "--overflow spill: allowed"),
    ],
)
def test_open_loop_mistakes_are_one_line_and_exit_2(tmp_path, run_cli, args, expected) -> None:
    out = tmp_path / "results"
    proc = run_cli(*args, "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert not out.exists()


def test_compare_shows_the_achieved_rate_and_the_corrected_p99(open_run, run_cli) -> None:
    """An open-loop comparison says how much of the offered rate was achieved and the p99
    measured from the intended starts, from the merged histograms, not the wall time alone."""
    proc = run_cli("compare", str(open_run.path), str(open_run.path))
    assert proc.returncode == 0, proc.stderr
    lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip().startswith("open loop")]
    trials = open_run.trials[open_run.trials["status"] == "ok"]
    expected = []
    for _, g in trials.groupby("config_id", sort=False):
        cols = openloop.summary_columns(g)
        rate, p99 = cols["achieved_rate_rps_median"], cols["latency_corrected_p99_s"]
        expected.append(
            f"open loop, offered {cols['target_rate_rps_median']:,.0f}/s (A) and "
            f"{cols['target_rate_rps_median']:,.0f}/s (B): achieved A {rate:,.0f}/s, B {rate:,.0f}/s;"
            f" corrected p99 A {p99:.3f} s, B {p99:.3f} s"
        )
    assert sorted(lines) == sorted(expected)


def test_every_number_in_the_open_loop_readings_comes_from_the_run(open_run) -> None:
    from ..claims import unclaimed

    assert unclaimed(open_run) == []
