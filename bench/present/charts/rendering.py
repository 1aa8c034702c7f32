"""Drawing the declared charts of a run into files, and tidying what an earlier drawing left.

Each chart is written as PNG and SVG through a temporary name, so an interrupted render never
leaves a torn image; a chart without data writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from bench.present.charts.data import RunLike
from bench.present.charts.registry import Chart, charts_of
from bench.present.charts.style import save_figure, slug, style


@dataclass(frozen=True)
class Rendered:
    """One chart as written: its kind (for the report's reading), title and files."""

    kind: str
    title: str
    paths: tuple[Path, ...]
    workload_id: str | None = None

    def path(self, fmt: str) -> Path:
        return next(p for p in self.paths if p.suffix == f".{fmt}")


def render(
    run: RunLike, out_dir: Path | None = None, kinds: Sequence[str] | None = None
) -> list[Rendered]:
    """Every chart the run has data for, in reading order (default folder: ``run.path/charts``).

    ``kinds`` limits the drawing to those charts (see ``all_charts``); files of charts not
    drawn are left alone.
    """
    out = Path(out_dir) if out_dir is not None else Path(run.path) / "charts"
    chosen = charts_of(kinds)
    rendered: list[Rendered] = []
    for c in chosen:
        rendered += _draw(c, run, out)
    _remove_stale(out, chosen, {p for r in rendered for p in r.paths})
    return rendered


def render_all(
    run: RunLike, out_dir: Path | None = None, kinds: Sequence[str] | None = None
) -> list[Path]:
    """Write every chart the run has data for as PNG and SVG; return the files written."""
    return [p for r in render(run, out_dir, kinds) for p in r.paths]


@dataclass(frozen=True)
class Drawn:
    """One figure of a chart, drawn and not yet saved: its title, file stem and workload."""

    title: str
    stem: str
    workload_id: str | None
    figure: Figure


def figures(c: Chart, run: RunLike) -> Iterator[Drawn]:
    """The chart's figures for this run (one, or one per workload it picks); none for a
    chart whose data the run lacks."""
    if c.when is not None and not c.when(run):
        return
    if c.per_workload is None:
        with style():
            fig = c.draw(run)
        if fig is not None:
            yield Drawn(c.title, c.stem, None, fig)
        return
    chosen = c.per_workload(run)
    for k, w in enumerate(chosen):
        with style():
            fig = c.draw(run, w)
        stem = c.stem if len(chosen) == 1 else f"{c.stem}-{k + 1}-{slug(w.workload_id)}"
        if fig is not None:
            yield Drawn(f"{c.title}: {w.label}", stem, w.workload_id, fig)


def _draw(c: Chart, run: RunLike, out: Path) -> list[Rendered]:
    rendered = []
    for d in figures(c, run):
        with style():
            paths = save_figure(d.figure, out, d.stem)
        rendered.append(Rendered(c.kind, d.title, tuple(paths), d.workload_id))
    return rendered


def _remove_stale(out: Path, drawn: list[Chart], keep: set[Path]) -> None:
    """Drop files of these charts from an earlier drawing that this one did not make (now
    skipped or renamed), so the folder matches the report. Other files are left alone."""
    if not out.is_dir():
        return
    for p in out.iterdir():
        if p.suffix in (".png", ".svg") and p not in keep and any(c.owns(p.stem) for c in drawn):
            p.unlink(missing_ok=True)
