"""The run report: ``report.html`` (one self-contained file) and ``report.md`` (for GitHub).

``content`` decides what the report says (a ``Report`` from the run's tables, with a
reading under each chart from ``readings``); ``render`` says it in HTML and in Markdown.
The HTML can be mailed, attached to an issue or opened offline.
"""

from __future__ import annotations

from pathlib import Path

from bench._atomic import write_text_atomic
from bench.present.charts import Rendered
from bench.present.charts import render as render_charts
from bench.present.charts.data import RunLike
from bench.present.report.content import build_report
from bench.present.report.model import Report
from bench.present.report.render import render_html, render_markdown

__all__ = ["Report", "build_report", "render_html", "render_markdown", "write_report"]


def write_report(
    run: RunLike, out_dir: Path | None = None, *, charts: list[Rendered] | None = None
) -> tuple[Path, Path]:
    """Draw the charts (unless given) and write ``report.html`` and ``report.md``.

    ``out_dir`` defaults to the run folder; charts go to ``out_dir/charts``. Pass ``charts``
    (from ``bench.present.charts.render``) to reuse charts just drawn instead of drawing them again.
    """
    out = Path(out_dir) if out_dir is not None else Path(run.path)
    out.mkdir(parents=True, exist_ok=True)
    rendered = charts if charts is not None else render_charts(run, out / "charts")
    rep = build_report(run, rendered)
    html_path, md_path = out / "report.html", out / "report.md"
    write_text_atomic(html_path, render_html(rep))
    write_text_atomic(md_path, render_markdown(rep, out))
    return html_path, md_path
