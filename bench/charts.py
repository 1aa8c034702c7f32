"""Charts of a stored run, drawn from its tables alone so any old run can be re-drawn.

Each chart is one function ``chart_<name>(run, out_dir) -> list[Path]`` writing PNG and SVG;
it returns ``[]`` (and writes nothing) when the run lacks the data, so a run without a sweep
or without probes gets no empty picture. ``render_all`` draws them all; ``render`` gives the
report what it needs to caption them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from bench import _charts_faults, _charts_summary, _charts_trial
from bench._chart_compare import compare_chart, comparison_from_summaries
from bench._chartdata import RunLike, main_workloads
from bench._chartstyle import save_figure, slug, style

__all__ = [
    "Rendered",
    "chart_errors",
    "chart_latency",
    "chart_probes",
    "chart_scaling",
    "chart_time_breakdown",
    "chart_timeline",
    "chart_wall",
    "compare_chart",
    "comparison_from_summaries",
    "render",
    "render_all",
]

MAX_TIMELINES = 3


@dataclass(frozen=True)
class Rendered:
    """One chart as written: its kind (for the report's reading), title and files."""

    kind: str
    title: str
    paths: tuple[Path, ...]
    workload_id: str | None = None

    def path(self, fmt: str) -> Path:
        return next(p for p in self.paths if p.suffix == f".{fmt}")


def _emit(kind: str, title: str, fig: Figure | None, out_dir: Path, stem: str,
          workload_id: str | None = None) -> list[Rendered]:
    if fig is None:
        return []
    with style():
        paths = save_figure(fig, Path(out_dir), stem)
    return [Rendered(kind, title, tuple(paths), workload_id)]


# ---------------------------------------------------------------- the charts, in reading order


def _render_timeline(run: RunLike, out_dir: Path) -> list[Rendered]:
    out: list[Rendered] = []
    chosen = main_workloads(run, MAX_TIMELINES)
    for k, w in enumerate(chosen):
        with style():
            fig = _charts_trial.fig_timeline(run, w)
        stem = "timeline" if len(chosen) == 1 else f"timeline-{k + 1}-{slug(w.workload_id)}"
        out += _emit("timeline", f"Timeline of one trial per strategy: {w.label}", fig, out_dir,
                     stem, w.workload_id)
    return out


def _simple(kind: str, title: str, stem: str, draw: Callable[[RunLike], Figure | None]):
    def renderer(run: RunLike, out_dir: Path) -> list[Rendered]:
        with style():
            fig = draw(run)
        return _emit(kind, title, fig, out_dir, stem)

    return renderer


_render_wall = _simple("wall", "Wall time per strategy", "wall", _charts_summary.fig_wall)
_render_scaling = _simple("scaling", "Scaling with concurrency and job count", "scaling",
                          _charts_summary.fig_scaling)
_render_latency = _simple("latency", "Latency distribution", "latency",
                          _charts_trial.fig_latency)
_render_breakdown = _simple("breakdown", "Where the time goes", "where-time-goes",
                            _charts_trial.fig_breakdown)
_render_probes = _simple("probes", "Event-loop lag and thread heartbeat delay", "probes",
                         _charts_faults.fig_probes)
_render_errors = _simple("errors", "Outcomes and errors against injected faults", "errors",
                         _charts_faults.fig_errors)


def chart_wall(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 1: median wall time per strategy with CI, repeats, ideal time and speed-up."""
    return _paths(_render_wall(run, out_dir))


def chart_scaling(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 2: throughput and wall time vs concurrency and vs N, with ideal and CPU ceilings."""
    return _paths(_render_scaling(run, out_dir))


def chart_timeline(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 3: each request of the median-wall trial per strategy, with in-flight count."""
    return _paths(_render_timeline(run, out_dir))


def chart_latency(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 4: latency percentiles (p50..p99.9) per strategy with the configured latency."""
    return _paths(_render_latency(run, out_dir))


def chart_time_breakdown(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 5: wall vs client CPU (user, system), and per-request wait vs service time."""
    return _paths(_render_breakdown(run, out_dir))


def chart_probes(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 6: event-loop lag and thread heartbeat delay per strategy."""
    return _paths(_render_probes(run, out_dir))


def chart_errors(run: RunLike, out_dir: Path) -> list[Path]:
    """Chart 7: outcomes and error kinds per strategy against the server's injected faults."""
    return _paths(_render_errors(run, out_dir))


_RENDERERS = (
    _render_wall, _render_scaling, _render_timeline, _render_latency, _render_breakdown,
    _render_probes, _render_errors,
)


def render(run: RunLike, out_dir: Path | None = None) -> list[Rendered]:
    """Every chart the run has data for, in reading order (default folder: ``run.path/charts``)."""
    out = Path(out_dir) if out_dir is not None else Path(run.path) / "charts"
    rendered: list[Rendered] = []
    for fn in _RENDERERS:
        rendered += fn(run, out)
    _remove_stale(out, {p for r in rendered for p in r.paths})
    return rendered


_OWN_STEM = re.compile(r"(wall|scaling|timeline(-\d+-.+)?|latency|where-time-goes|probes|errors)")


def _remove_stale(out: Path, keep: set[Path]) -> None:
    """Drop our charts from an earlier drawing that this one did not make (now skipped or
    renamed), so the folder matches the report. Other files are left alone."""
    if not out.is_dir():
        return
    for p in out.iterdir():
        if p.suffix in (".png", ".svg") and _OWN_STEM.fullmatch(p.stem) and p not in keep:
            p.unlink(missing_ok=True)


def render_all(run: RunLike, out_dir: Path | None = None) -> list[Path]:
    """Write every chart the run has data for as PNG and SVG; return the files written."""
    return _paths(render(run, out_dir))


def _paths(items: list[Rendered]) -> list[Path]:
    return [p for r in items for p in r.paths]
