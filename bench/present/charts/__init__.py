"""Charts of a stored run, drawn from its tables alone so any old run can be re-drawn.

Each chart is declared once, with ``@chart`` on the function that draws it, in any module of
this package (see ``bench.present.charts.registry``); ``render`` draws every chart the run has data for, in reading
order, and gives the report what it needs to caption them. A run without a sweep or without
probes gets no empty picture: those charts are skipped.
"""

from __future__ import annotations

import importlib
import pkgutil

from bench.present.charts.compare import compare_chart, comparison_from_summaries
from bench.present.charts.registry import Chart, all_charts, chart
from bench.present.charts.rendering import Rendered, render, render_all

# Every module of this package is imported, so that the charts it declares are registered: a
# new chart is a new module here and nothing else.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Chart",
    "Rendered",
    "all_charts",
    "chart",
    "compare_chart",
    "comparison_from_summaries",
    "render",
    "render_all",
]
