"""Charts that do not waste the reader's time or state more than the data holds: a
percentile only where its samples can state it, every sweep's workload named, the wall chart
on one screen, no errors chart for a near-empty table."""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.lines import Line2D

from bench.present.charts import data
from bench.present.charts.faults import fig_probes
from bench.present.charts.summary import fig_scaling
from bench.present.charts.trial import fig_latency


def _count(run, workload_id: str) -> int:
    t = run.trials.astype({"trial_id": str, "workload_id": str})
    ids = set(t.loc[(t["workload_id"] == workload_id) & (t["status"] == "ok"), "trial_id"])
    r = run.requests.astype({"trial_id": str})
    r = r[r["trial_id"].isin(ids) & (r["attempt"] > 0)]
    return int(r.groupby(r["strategy"].astype(str))["latency_s"].count().min())


def test_a_percentile_is_drawn_only_where_its_samples_can_state_it(real_run):
    fig = fig_latency(real_run)
    ws = data.workloads(real_run)
    for ax in fig.axes:
        if not ax.get_visible() or not ax.get_title(loc="left"):
            continue
        title = ax.get_title(loc="left").splitlines()[0]
        (w,) = [w for w in ws if w.label == title.replace("\n", " ")] or [None]
        n = _count(real_run, w.workload_id) if w else None
        deepest = max(float(t.get_text()[1:]) for t in ax.get_xticklabels())
        assert n is not None and n >= 10 / (1 - deepest / 100) * 0.999, (n, deepest)
        assert deepest < 99  # a few dozen requests state no p99, let alone a p99.9


def test_probe_percentiles_need_their_samples(real_run):
    fig = fig_probes(real_run)
    p = real_run.probes.astype({"trial_id": str})
    n_max = int(p.groupby(["trial_id", "kind"]).size().max()) * 4
    diamonds = [
        ln
        for ax in fig.axes
        for ln in ax.get_lines()
        if isinstance(ln, Line2D) and ln.get_marker() == "D" and len(ln.get_xdata())
    ]
    if n_max < 1000:  # no strategy has the thousand samples a p99 needs
        assert not diamonds


def test_the_scaling_chart_names_the_workload_of_its_sweep(real_run):
    fig = fig_scaling(real_run)
    titles = " ".join(ax.get_title(loc="left").replace("\n", " ") for ax in fig.axes)
    # the sweep's points share error_rate=0.2 and the codes: the chart says so
    assert "error_rate=0.2" in titles and "codes=pop20" in titles


def test_no_errors_chart_for_a_near_empty_table(real_run):
    assert data.has_errors(real_run)  # 20% errors: a chart worth drawing
    inj = [c for c in real_run.trials.columns if c.startswith("server_injected_")]
    alike = real_run.trials.assign(
        **{c: 1 if c == "server_injected_http_error" else 0 for c in inj},
        n_error=1,
        n_not_found=0,
        n_ok=59,
        n_jobs=60,
        counts_match=True,
    )
    # one error per trial for every strategy, as the server injected it: the table says it
    assert not data.has_errors(dataclasses.replace(real_run, trials=alike))
    unlike = alike.assign(n_error=np.where(alike["strategy"].astype(str) == "asyncio", 2, 1))
    assert data.has_errors(dataclasses.replace(real_run, trials=unlike))
