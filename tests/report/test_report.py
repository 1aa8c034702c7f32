"""The report from a real stored run: self-contained HTML, Markdown with working links."""

from __future__ import annotations

import base64
import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

from bench.present import report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class TagBalance(HTMLParser):
    """Every element closed, in order (void elements aside)."""

    VOID = frozenset({"meta", "img", "br"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.bad.append(tag)


def test_html_is_self_contained_with_every_chart_embedded(written, run_dir):
    html_path, _ = written
    text = html_path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    # nothing fetched: no remote or relative src/href, no scripts, stylesheets or imports
    targets = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)""", text, re.I)
    assert targets and all(t.startswith("data:image/png;base64,") for t in targets)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I)
    assert not re.search(r"<script|<link|@import|url\(", text, re.I)
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    pngs = sorted((run_dir / "charts").glob("*.png"))
    assert len(embedded) == len(pngs) >= 7
    assert {base64.b64decode(e) for e in embedded} == {p.read_bytes() for p in pngs}
    assert all(base64.b64decode(e)[:8] == PNG_SIGNATURE for e in embedded)
    parser = TagBalance()
    parser.feed(text)
    assert parser.open == [] and parser.bad == []


def test_report_and_charts_get_the_same_permissions_as_the_tables(written, run_dir):
    """Results are for sharing: not the private mode of a bare temporary file."""
    table_mode = (run_dir / "meta.json").stat().st_mode & 0o777
    files = [*written, *(run_dir / "charts").iterdir()]
    assert {p.stat().st_mode & 0o777 for p in files} == {table_mode}


def test_html_has_the_summary_table_metadata_and_command(written, real_run):
    text = written[0].read_text(encoding="utf-8")
    assert "<th>strategy</th>" in text and "median wall" in text and "speed-up" in text
    for name in real_run.summary["strategy"].unique():
        assert f"<td>{name}</td>" in text
    assert text.count("<table>") >= real_run.summary["workload_id"].nunique()
    meta = real_run.meta
    assert meta["run_id"] in text and str(meta["seed"]) in text and meta["python"] in text
    assert "aiohttp" in text and meta["packages"]["aiohttp"] in text
    assert " ".join(meta["command"]) in text  # the exact command (no quoting needed here)


def test_summary_shows_each_configurations_ideal_and_explains_it(written, real_run):
    """The ideal column is the stored ideal_s (exact, from the server's draws): sequential's,
    with one slot, is longer than that of the concurrent strategies on the same workload."""
    from bench.present.charts.text import fmt_s

    rep = report.build_report(real_run, [])
    s = real_run.summary.astype({"strategy": str, "workload": str})
    assert len(rep.summary) == s["workload"].nunique()
    for table in rep.summary:
        col = table.header.index("ideal")
        shown = {row[0].rstrip("*"): row[col] for row in table.rows}  # *: measured once
        stored = s[s["workload"] == table.title].set_index("strategy")["ideal_s"]
        assert shown == {k: fmt_s(v) for k, v in stored.items()}
        assert stored["sequential"] > stored.drop("sequential").max()
    text = written[0].read_text(encoding="utf-8")
    assert "a perfect client with C slots" in text


def test_every_chart_has_a_reading_from_the_data(written, real_run):
    text = written[0].read_text(encoding="utf-8")
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", text)
    assert len(captions) == text.count("<figure>") >= 7
    assert all(c.count("<p>") == 2 for c in captions), captions
    from bench.present.charts.data import workloads

    s = real_run.summary.astype({"workload_id": str})
    first = s[s["workload_id"] == workloads(real_run)[0].workload_id]  # the chart's first panel
    best = first.loc[first["wall_median_s"].idxmin()]
    tied = first[
        (first["wall_ci_low_s"] <= best["wall_ci_high_s"])
        & (first["wall_ci_high_s"] >= best["wall_ci_low_s"])
    ]
    wall = next(c for c in captions if "fastest" in c)
    if len(tied) == 1:
        assert f"{best['strategy']} was fastest" in wall
    else:  # the repeats cannot tell them apart: all are named, none alone
        assert "were fastest" in wall and all(name in wall for name in tied["strategy"])


def test_warnings_list_unstable_configurations_not_bottlenecks(written, real_run):
    text = written[0].read_text(encoding="utf-8")
    s = real_run.summary
    # the fixture has 2 repeats: too few to assess, which is not the same as disagreeing
    assert (s["n"] < 3).all() and (s["stability"] == "not assessed").all()
    assert not s["unstable"].any()
    assert "Stability not assessed for 6 configurations" in text and "Unstable on" not in text
    # bottleneck labels are in the table (and its note), not among the warnings
    rep = report.build_report(real_run, [])
    assert not any("Bottleneck" in w or "-bound" in w for w in rep.warnings)
    assert all(t.header[-2] == "bottleneck" for t in rep.summary)
    assert "client_cpu: client-CPU-bound" in rep.summary_note

    shaky = s.assign(n=5, wall_cv=0.2, stability="unstable")
    rep = report.build_report(dataclasses.replace(real_run, summary=shaky), [])
    assert any(w.startswith("Unstable on") and "CV 20.0%, 5 repeats" in w for w in rep.warnings)
    assert not any("not assessed" in w for w in rep.warnings)


def test_a_busy_machine_is_warned_about_at_start_and_end(real_run):
    meta = {
        **{k: v for k, v in real_run.meta.items() if k != "cpu_during_run"},  # an older folder
        "cpu_count": 2,
        "loadavg_at_start": [1.5, 1, 1],
        "loadavg_at_end": [3.5, 2, 1],
    }
    rep = report.build_report(dataclasses.replace(real_run, meta=meta), [])
    busy = [w for w in rep.warnings if "machine was busy" in w]
    assert len(busy) == 2 and "started" in busy[0] and "ended" in busy[1]
    assert "other programs" in busy[0] and "this run's own worker processes" in busy[1]
    quiet = {**meta, "loadavg_at_start": [0.2, 0, 0], "loadavg_at_end": [1.9, 1, 1]}
    rep = report.build_report(dataclasses.replace(real_run, meta=quiet), [])
    assert not any("machine was busy" in w for w in rep.warnings)
    # measured: a high load that was the run's own is no warning; others' CPU time is one
    own = {"wall_s": 10.0, "cpus": 2, "flagbench_cpus": 1.8, "others_cpus": 0.1}
    rep = report.build_report(
        dataclasses.replace(real_run, meta={**meta, "cpu_during_run": own}), []
    )
    assert not any("ended" in w or "other programs kept" in w for w in rep.warnings)
    others = {**own, "others_cpus": 1.2}
    rep = report.build_report(
        dataclasses.replace(real_run, meta={**meta, "cpu_during_run": others}), []
    )
    assert any(w.startswith("Other programs kept 1.2 of the 2 CPUs busy") for w in rep.warnings)


def test_markdown_references_existing_charts(written, run_dir):
    _, md_path = written
    text = md_path.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    pngs = sorted(p.name for p in (run_dir / "charts").glob("*.png"))
    assert sorted(Path(link).name for link in links) == pngs
    for link in links:
        assert link.startswith("charts/") and (md_path.parent / link).is_file()
    assert "| strategy | median wall |" in text
    assert "## How to reproduce" in text


def test_everything_from_the_data_is_escaped(real_run, tmp_path):
    evil = "<script>alert(1)</script>"
    trials = real_run.trials.assign(workload=evil + " | *x*")
    summary = real_run.summary.assign(workload=evil)
    meta = {**real_run.meta, "packages": {evil: "1|2"}, "command": ["flagbench", evil]}
    run = dataclasses.replace(real_run, trials=trials, summary=summary, meta=meta)
    html_path, md_path = report.write_report(run, tmp_path, charts=[])
    html = html_path.read_text(encoding="utf-8")
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = md_path.read_text(encoding="utf-8")
    outside_code = re.sub(r"```.*?```", "", md, flags=re.S)
    assert "<script>" not in outside_code and "&lt;script&gt;" in outside_code
    assert "1\\|2" in md  # a pipe in data cannot break the table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_incomplete_run_and_failed_trial_are_warned_about(real_run, tmp_path):
    trials = real_run.trials.copy()
    trials["status"] = trials["status"].astype(str)
    trials.loc[trials.index[0], ["status", "failure"]] = ["failed", "watchdog: killed after 5 s"]
    trials.loc[trials.index[1], "counts_match"] = False
    meta = {**real_run.meta, "complete": False}
    run = dataclasses.replace(real_run, trials=trials, meta=meta)
    html_path, _ = report.write_report(run, tmp_path, charts=[])
    html = html_path.read_text(encoding="utf-8")
    assert "The run is incomplete" in html and "--resume" in html
    assert "watchdog: killed after 5 s" in html
    assert "Client and server counts differ" in html


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example"


def test_committed_example_still_loads_and_its_links_work():
    """The example in docs/ is a real stored run; it must stay readable by today's code."""
    import bench

    run = bench.load(EXAMPLE)
    rep = report.build_report(run, [])
    assert rep.summary and rep.command.startswith("flagbench ")
    md = (EXAMPLE / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) >= 5 and all((EXAMPLE / link).is_file() for link in links)
    html = (EXAMPLE / "report.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == len(links)


def test_a_run_where_every_trial_failed_still_gets_a_report(real_run, tmp_path):
    trials = real_run.trials.copy()
    trials["status"] = "failed"
    trials["failure"] = "worker exited with status 1"
    run = dataclasses.replace(real_run, trials=trials, summary=real_run.summary.iloc[0:0])
    html_path, _ = report.write_report(run, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert "No configuration has a successful trial" in html
    assert html.count("worker exited with status 1") == len(trials)
    assert "data:image/png" not in html  # every chart skipped, none drawn empty
    assert not (tmp_path / "charts").exists() or not list((tmp_path / "charts").iterdir())


def test_every_reading_belongs_to_a_declared_chart():
    from bench.present.charts import all_charts
    from bench.present.report.readings import kinds_read

    assert kinds_read() <= {c.kind for c in all_charts()}


def test_speed_ups_are_against_the_runs_baseline(real_run, tmp_path):
    """The baseline is the summary's ``baseline`` column, not a strategy name in the code."""
    from bench.define.spec import Suite
    from bench.present.report.readings import reading
    from bench.results.collect import summarize

    suite = Suite.from_dict(real_run.meta["spec"])
    run = dataclasses.replace(real_run, summary=summarize(real_run.trials, "threadpool", suite))
    rep = report.build_report(run, [])
    assert "speed-up against threadpool on the same workload" in rep.summary_note
    for table in rep.summary:
        col = table.header.index("speed-up")
        speed = {row[0].rstrip("*"): row[col] for row in table.rows}
        assert speed["threadpool"] == "baseline" and speed["sequential"] != "baseline"
    assert "than sequential" not in reading("wall", run)[0]
    assert "than sequential" in reading("wall", real_run)[0]  # sequential is never fastest here


def test_a_worst_or_best_claim_needs_separated_intervals(real_run):
    import pandas as pd

    from bench.present.report.readings import reading, standout

    t = pd.DataFrame(
        {
            "strategy": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
            "x": [1.0, 1.1, 0.9, 1.02, 1.05, 0.98, 5.0, 5.2, 4.9],
        }
    )
    assert standout(t, "x") == "c"
    assert standout(t, "x", highest=False) is None  # a and b cannot be told apart
    one_spike = t.assign(x=[1.0, 1.1, 0.9, 1.02, 1.05, 0.98, 1.0, 1.1, 9.0])
    assert standout(one_spike, "x") is None
    assert standout(t.groupby("strategy").head(1), "x") is None  # one repeat: no interval

    # five tails within a few ms are not a "worst tail"
    trials = real_run.trials.assign(latency_p99_s=0.183)
    text = " ".join(reading("latency", dataclasses.replace(real_run, trials=trials)))
    assert "worst tail" not in text and "tails were alike" in text
