"""The strategy x interpreter heatmap and its reading, on the stored run plus a copy of its
trials as if a second interpreter had run them (slower by a known factor, or not at all)."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
from PIL import Image

from bench.present import charts
from bench.present.charts.axes import has_interpreters, interpreter_grids
from bench.present.charts.text import DASH, TIMES
from bench.present.report.readings import reading

OTHER = "3.99.0"


def with_second_interpreter(run, slower: float, free_threaded: bool = False):
    """The run's trials twice: as they ran, and on Python 3.99 taking ``slower`` times as long."""
    mine = run.trials.astype({c: str for c in ("workload_id", "config_id", "strategy", "workload")})
    other = mine.copy()
    other["python"] = OTHER
    other["python_requested"] = "3.99"
    other["free_threaded"] = free_threaded
    other["gil_enabled"] = not free_threaded
    other["trial_id"] = other["trial_id"] + 10_000
    other["workload_id"] = other["workload_id"] + "b"
    other["config_id"] = other["config_id"] + "b"
    other["workload"] = other["workload"] + " python=3.99"
    other["wall_s"] = other["wall_s"] * slower
    other["efficiency"] = other["ideal_s"] / other["wall_s"]
    return dataclasses.replace(run, trials=pd.concat([mine, other], ignore_index=True))


def test_one_interpreter_no_heatmap(real_run, tmp_path):
    assert not has_interpreters(real_run)
    assert charts.render_all(real_run, tmp_path, kinds=["interpreters"]) == []
    assert reading("interpreters", real_run) == []


def test_the_heatmap_has_a_row_per_strategy_and_a_column_per_interpreter(real_run, tmp_path):
    run = with_second_interpreter(real_run, 2.0, free_threaded=True)
    grids = interpreter_grids(run)
    assert len(grids) == real_run.trials["workload_id"].nunique()  # one panel per workload
    mine = ".".join(str(real_run.trials["python"].iloc[0]).split(".")[:2])  # "3.11"
    for grid in grids:
        assert grid.pythons == [mine, "3.99t"]  # oldest first; free-threaded labelled
        assert list(grid.efficiency.index) == ["sequential", "threadpool", "asyncio"]
        ratio = grid.efficiency[mine] / grid.efficiency["3.99t"]
        # sequential runs once per distinct configuration it sees: at one C of the sweep only
        assert ratio.notna().sum() >= 2 and ((ratio.dropna() - 2.0).abs() < 1e-9).all()
        assert "python=" not in grid.label
    png, svg = charts.render_all(run, tmp_path, kinds=["interpreters"])
    assert png.name == "interpreters.png" and svg.stat().st_size > 5_000
    with Image.open(png) as im:
        im.load()
        assert 700 <= im.size[0] <= 2000 and 300 <= im.size[1] <= 1200


def test_the_reading_names_a_difference_the_intervals_support(real_run):
    first, second = reading("interpreters", with_second_interpreter(real_run, 4.0))
    mine = ".".join(str(real_run.trials["python"].iloc[0]).split(".")[:2])  # "3.11"
    other = "3.99"  # the names the tables use: the minor version, "t" for free-threaded
    assert re.search(
        rf"took 4(\.0)?{TIMES} as long on Python {re.escape(other)} as on "
        rf"{re.escape(mine)} \(95% CI [\d.]+{DASH}[\d.]+\), the largest difference "
        "between interpreters that the repeats support",
        first,
    ), first
    assert "other strategy/workload pair(s) differ measurably too" in first
    assert second.startswith(f"Median efficiency over every strategy and workload: Python {mine} ")
    assert f"Python {other}" in second


def test_the_reading_says_within_noise_when_the_intervals_overlap(real_run):
    first, _ = reading("interpreters", with_second_interpreter(real_run, 1.0))
    assert first.startswith(
        "No strategy ran measurably faster on one interpreter than on another"
    ), first
    assert "is within noise (95% CI" in first
