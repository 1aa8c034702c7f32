"""Charts from a real stored run: valid files, the right set, skipped when data is missing."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bench.present import charts
from bench.present.charts.data import inflight, requests_of
from bench.present.charts.style import strategy_colours
from bench.present.compare import compare_runs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXPECTED_STEMS = {"wall", "scaling", "latency", "where-time-goes", "probes", "errors"}


def check_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert 10_000 < len(data) < 3_000_000, (path, len(data))
    with Image.open(path) as im:
        im.load()  # decodes every pixel
        w, h = im.size
    assert 700 <= w <= 2000 and 300 <= h <= 4000, (path, im.size)


def check_svg(path: Path) -> None:
    assert 5_000 < path.stat().st_size < 5_000_000, path
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), root.tag


def chart_files(run_dir: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for p in sorted((run_dir / "charts").iterdir()):
        out.setdefault(p.suffix, []).append(p)
    return out


def test_every_chart_is_written_as_valid_png_and_svg(real_run, written, run_dir):
    files = chart_files(run_dir)
    pngs = {p.stem for p in files[".png"]}
    svgs = {p.stem for p in files[".svg"]}
    assert pngs == svgs
    assert pngs >= EXPECTED_STEMS
    timelines = [s for s in pngs if s.startswith("timeline")]
    assert len(timelines) == real_run.trials["workload_id"].nunique() == 2
    for p in files[".png"]:
        check_png(p)
    for p in files[".svg"]:
        check_svg(p)
    assert not [p for p in (run_dir / "charts").iterdir() if p.name.startswith(".")]


def test_render_all_returns_what_it_wrote(real_run, tmp_path):
    # one workload, no requests, no probes: only the charts of the trials table remain
    one = real_run.trials["workload_id"].astype(str).iloc[0]
    run = dataclasses.replace(
        real_run,
        trials=real_run.trials[real_run.trials["workload_id"].astype(str) == one],
        summary=real_run.summary[real_run.summary["workload_id"].astype(str) == one],
        requests=real_run.requests.iloc[0:0],
        probes=real_run.probes.iloc[0:0],
    )
    (tmp_path / "probes.png").write_bytes(b"from an earlier drawing")  # now skipped: removed
    (tmp_path / "mine.png").write_bytes(b"not ours")  # left alone
    paths = charts.render_all(run, tmp_path)
    assert sorted([*paths, tmp_path / "mine.png"]) == sorted(tmp_path.iterdir())
    assert {p.stem for p in paths} == {"wall", "errors"}  # where-time-goes needs requests
    assert {p.suffix for p in paths} == {".png", ".svg"}


def test_one_colour_per_strategy_stable_across_runs():
    a = strategy_colours(["asyncio", "zeta", "sequential", "mine"])
    b = strategy_colours(["mine", "zeta", "asyncio", "sequential", "threadpool"])
    assert a["zeta"] == b["zeta"] and a["mine"] == b["mine"]
    assert a["asyncio"] == b["asyncio"]
    many = strategy_colours([f"s{i}" for i in range(10)] + ["sequential", "asyncio"])
    assert len(set(many.values())) == len(many)


def test_inflight_counts_overlapping_requests():
    t, n = inflight(np.array([0.0, 0.0, 1.0]), np.array([2.0, 1.0, 3.0]))
    # at t=1 one request ends and another starts: the end is counted first
    assert list(zip(t, n, strict=True)) == [(0, 1), (0, 2), (1, 1), (1, 2), (2, 1), (3, 0)]


def _without(run, **changes):
    return dataclasses.replace(run, **changes)


def test_charts_without_their_data_are_skipped(real_run, tmp_path):
    one = real_run.trials["workload_id"].astype(str).iloc[0]
    t = real_run.trials[real_run.trials["workload_id"].astype(str) == one]
    ids = set(t["trial_id"])
    single = _without(
        real_run,
        trials=t,
        requests=real_run.requests[real_run.requests["trial_id"].isin(ids)],
        probes=real_run.probes[real_run.probes["trial_id"].isin(ids)],
        summary=real_run.summary[real_run.summary["workload_id"].astype(str) == one],
    )
    assert charts.render_all(single, tmp_path, kinds=["scaling"]) == []

    assert (
        charts.render_all(
            _without(real_run, probes=real_run.probes.iloc[0:0]), tmp_path, kinds=["probes"]
        )
        == []
    )

    clean = real_run.trials.copy()
    fault_cols = [c for c in clean if c.startswith("server_injected_")]
    clean[["n_error", "n_not_found", *fault_cols]] = 0
    assert charts.render_all(_without(real_run, trials=clean), tmp_path, kinds=["errors"]) == []

    no_requests = _without(real_run, requests=real_run.requests.iloc[0:0])
    assert charts.render_all(no_requests, tmp_path, kinds=["timeline", "latency"]) == []
    assert list(tmp_path.iterdir()) == []  # nothing drawn empty


def test_single_workload_run_still_gets_its_charts(real_run, tmp_path):
    one = real_run.trials["workload_id"].astype(str).iloc[0]
    t = real_run.trials[real_run.trials["workload_id"].astype(str) == one]
    single = _without(
        real_run,
        trials=t,
        summary=real_run.summary[real_run.summary["workload_id"].astype(str) == one],
    )
    paths = charts.render_all(single, tmp_path, kinds=["wall"])
    assert [p.name for p in paths] == ["wall.png", "wall.svg"]
    check_png(paths[0])


def test_compare_chart_from_the_comparison_table(real_run, tmp_path):
    table = compare_runs(real_run, real_run)
    assert np.allclose(table["ratio"], 1.0)
    assert set(table["measure"]) == {"wall", "request"}  # the chart draws the wall rows
    png = charts.compare_chart(table, tmp_path / "cmp.png", label_a="before", label_b="after")
    svg = charts.compare_chart(table, tmp_path / "cmp.svg")
    check_png(png)
    check_svg(svg)
    from_summaries = charts.comparison_from_summaries(real_run.summary, real_run.summary)
    assert len(from_summaries) == len(real_run.summary)
    assert (from_summaries["ratio_ci_low"] <= 1).all()
    assert (from_summaries["ratio_ci_high"] >= 1).all()
    # an older run's raw-scale interval below zero gives no ratio interval, not a negative one
    old = real_run.summary.assign(wall_ci_low_s=-0.003)
    guarded = charts.comparison_from_summaries(old, real_run.summary)
    assert guarded["ratio_ci_low"].isna().all() and guarded["ratio_ci_high"].isna().all()
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        charts.compare_chart(table, tmp_path / "cmp.pdf")
    with pytest.raises(ValueError, match="no configuration"):
        charts.compare_chart(pd.DataFrame(columns=table.columns), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_bookkeeping_records_are_not_requests_in_the_per_request_charts(real_run):
    """Attempt 0 marks a job that ended without a request (a lost pool worker): like the
    collector, the timeline, latency and wait charts leave it out; the error chart keeps it."""
    req = real_run.requests
    ghost = req.iloc[[0]].assign(
        attempt=0,
        t_start_s=0.0,
        t_end_s=0.0,
        latency_s=0.0,
        outcome="error",
        error_kind="worker_lost",
    )
    run = _without(real_run, requests=pd.concat([req, ghost], ignore_index=True))
    tid = req["trial_id"].iloc[0]
    sent = requests_of(run, [tid])
    every = requests_of(run, [tid], sent_only=False)
    assert len(every) == len(sent) + 1 == (req["trial_id"] == tid).sum() + 1
    assert (sent["attempt"] > 0).all() and (every["attempt"] == 0).sum() == 1


def test_each_chart_is_declared_once_in_reading_order():
    declared = charts.all_charts()
    kinds = [c.kind for c in declared]
    assert kinds == [
        "wall",
        "scaling",
        "gil",
        "scale_out",
        "free_threading",
        "blocking",
        "client_cpu",
        "interpreters",
        "switch_interval",
        "openloop_latency",
        "openloop_omission",
        "openloop_rate",
        "timeline",
        "delivery",
        "result_times",
        "first_error",
        "spinner",
        "latency",
        "breakdown",
        "probes",
        "errors",
    ]
    assert len({c.stem for c in declared}) == len(declared)
    timeline = next(c for c in declared if c.kind == "timeline")
    assert timeline.owns("timeline") and timeline.owns("timeline-2-ab12cd34")
    assert not timeline.owns("timelines") and not declared[0].owns("wall-1-x")
    with pytest.raises(ValueError, match="unique"):
        charts.chart(kind="wall", title="again", stem="wall-again", order=99)(lambda run: None)
    with pytest.raises(ValueError, match="unknown chart kind 'nope'"):
        charts.render_all(None, Path("unused"), kinds=["nope"])


def test_drawing_only_some_kinds_leaves_the_other_files_alone(real_run, tmp_path):
    (tmp_path / "wall.png").write_bytes(b"from an earlier drawing")
    (tmp_path / "scaling.png").write_bytes(b"from an earlier drawing")
    one = real_run.trials["workload_id"].astype(str).iloc[0]
    single = _without(
        real_run, trials=real_run.trials[real_run.trials["workload_id"].astype(str) == one]
    )
    assert charts.render_all(single, tmp_path, kinds=["scaling"]) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wall.png"]  # stale scaling removed


def test_the_selection_is_made_once_per_tables_and_handed_out_as_copies(run_dir):
    """The report's selections are cached with the tables they came from: a replaced table
    is seen, and a caller's change to what it got is not the next caller's."""
    import bench
    from bench.present.charts import data

    run = bench.load(run_dir)  # a run of its own: this test changes its tables
    first = data.ok_trials(run)
    assert data.ok_trials(run) is not first and data.ok_trials(run).equals(first)
    first.loc[first.index[0], "wall_s"] = -1.0  # the caller's copy
    assert (data.ok_trials(run)["wall_s"] > 0).all()
    n = len(first)
    run.trials = run.trials.iloc[1:]  # replaced
    assert len(data.ok_trials(run)) == n - 1
    assert data.workloads(run) == data.workloads.__wrapped__(run)  # type: ignore[attr-defined]
