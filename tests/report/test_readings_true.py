"""Every reading is true of the data its chart draws: the probes sentence speaks of the
workload the probes chart draws, and a share of something is a share of something named that
lies in range (a client on several cores keeps several cores busy, not "176% busy")."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from bench.present.charts.data import workloads
from bench.present.charts.faults import fig_probes
from bench.present.charts.text import fmt_s
from bench.present.report.readings import reading


def test_the_probes_reading_reads_the_workload_its_chart_draws(real_run):
    title = fig_probes(real_run)._suptitle.get_text().replace("\n", " ")
    (main,) = [w for w in workloads(real_run) if title.endswith(w.label)]
    t = real_run.trials.astype({"workload_id": str, "trial_id": str})
    assert t["workload_id"].nunique() > 1  # the run has a workload the chart does not draw
    text = " ".join(reading("probes", real_run))
    assert main.label in text
    p = real_run.probes.astype({"trial_id": str}).merge(
        t.loc[t["status"] == "ok", ["trial_id", "workload_id"]], on="trial_id"
    )
    said = set(re.findall(r"(?:p99|max) ([\d.]+ (?:µs|ms|s))", text))
    assert said
    mine = p[p["workload_id"] == main.workload_id]
    drawn = {
        fmt_s(float(f(g["lag_s"])))
        for _, g in mine.groupby(["kind", "strategy"])
        for f in (np.max, lambda x: np.quantile(x, 0.99))
    }
    assert said <= drawn, (said, drawn)


def test_a_client_on_several_cores_is_said_to_keep_several_cores_busy(real_run):
    # as a process pool does: CPU time above the wall time
    trials = real_run.trials.assign(cpu_user_s=real_run.trials["wall_s"] * 1.7)
    text = " ".join(reading("breakdown", dataclasses.replace(real_run, trials=trials)))
    assert "1.7 cores" in text
    for pct in re.findall(r"(\d+(?:\.\d+)?)%", text):
        assert 0 <= float(pct) <= 100, text


def test_every_number_in_the_readings_comes_from_the_run(real_run):
    from ..claims import unclaimed

    assert unclaimed(real_run) == []
