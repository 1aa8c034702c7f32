"""Shared look of every chart: colours, figure factory, number formats and atomic saving.

Shared so that every chart (and ``flagbench compare``) draws a strategy in the same colour
and writes files the same crash-safe way.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import zlib
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.artist import Artist
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter
from PIL import Image  # a dependency of matplotlib

from bench._atomic import write_atomic

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# No pyplot and no ``matplotlib.use``: a bare Figure renders PNG through the Agg canvas and
# SVG through the SVG canvas, and a notebook's own backend is left alone.

# Okabe-Ito (colour-blind safe) first, then tab10 leftovers for third-party strategies.
_FIXED = {
    "sequential": "#555555",
    "threadpool": "#0072B2",
    "processpool": "#009E73",
    "asyncio": "#D55E00",
    "asyncio_executor": "#CC79A7",
    "interpreterpool": "#8C564B",
    "multiprocess_asyncio": "#E69F00",
    "dask": "#56B4E9",
}
_SPARE = (
    "#F0E442",
    "#17BECF",
    "#BCBD22",
    "#7F7F7F",
    "#9467BD",
    "#1F77B4",
    "#2CA02C",
    "#D62728",
    "#393B79",
    "#8C6D31",
)

OUTCOME_COLOURS = {"ok": "#4C9F70", "not_found": "#E6A532", "error": "#C0392B"}
WAIT_COLOUR = "#B8B8B8"
IDEAL_COLOUR = "#222222"

DPI = 100

FORMATS = ("png", "svg")
# No creation date in the SVG, so re-drawing the same run gives the same bytes.
SVG_METADATA: dict[str, str | None] = {"Date": None}

RC: dict[RcKeyType, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "figure.titlesize": 13,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "flagbench",
}

_BUILTIN_ORDER = tuple(_FIXED)


def strategy_order(names: Iterable[str]) -> list[str]:
    """Built-ins in their teaching order (sequential first), then others alphabetically."""
    uniq = {str(n) for n in names}
    return [n for n in _BUILTIN_ORDER if n in uniq] + sorted(uniq - set(_BUILTIN_ORDER))


def strategy_colours(names: Iterable[str]) -> dict[str, str]:
    """One colour per strategy, the same in every chart of a run.

    Built-ins always get their own colour; other names take a spare colour chosen from a
    hash of the name (stable across runs), moving on when two names in one run would collide.
    """
    colours: dict[str, str] = {}
    used: set[str] = set()
    for name in strategy_order(names):
        if name in _FIXED:
            colours[name] = _FIXED[name]
            used.add(_FIXED[name])
    for name in strategy_order(names):
        if name in colours:
            continue
        start = zlib.crc32(name.encode()) % len(_SPARE)
        for k in range(len(_SPARE)):
            cand = _SPARE[(start + k) % len(_SPARE)]
            if cand not in used:
                break
        colours[name] = cand
        used.add(cand)
    return colours


def new_figure(width: float, height: float) -> Figure:
    """A stand-alone figure (no pyplot state) with constrained layout, so labels never overlap."""
    with matplotlib.rc_context(RC):
        layout = ConstrainedLayoutEngine(w_pad=0.06, h_pad=0.06, wspace=0.04, hspace=0.04)
        return Figure(figsize=(width, height), dpi=DPI, layout=layout)


def legend_below(fig: Figure, handles: Sequence[Artist]) -> None:
    """The figure's legend under the charts, in as many columns as fit its width.

    Entries are measured roughly (a character is about 0.56 em, the key and the gaps about
    5 em), which is enough to keep a long legend from running off both sides of the picture.
    """
    em = RC["legend.fontsize"] * fig.dpi / 72
    room = 0.96 * fig.get_figwidth() * fig.dpi
    widths = [5 * em + 0.56 * em * max(map(len, str(h.get_label()).split("\n"))) for h in handles]
    ncols = 1
    for rows in range(1, len(handles) + 1):  # as few rows as fit, filled evenly
        n = math.ceil(len(handles) / rows)
        # matplotlib fills a column before the next
        if sum(max(widths[c * rows : (c + 1) * rows], default=0) for c in range(n)) <= room:
            ncols = n
            break
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)


def style() -> AbstractContextManager[None]:
    """Context for drawing: fonts and grid apply to artists created inside it."""
    return matplotlib.rc_context(RC)


def save_figure(
    fig: Figure, out_dir: Path, stem: str, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write the figure as ``stem.<fmt>`` through a temporary name and ``os.replace``.

    The first format's drawing runs the constrained layout; it is then kept for the others,
    which neither redo it nor need a drawing of its own to fix it (as ``freeze_layout`` does
    for a figure saved in one format: the layout of its PNG, whatever the format)."""
    paths = []
    for fmt in formats:
        final = out_dir / f"{stem}.{fmt}"
        paths.append(write_atomic_figure(fig, final, fmt))
        fig.set_layout_engine(None)
    return paths


def freeze_layout(fig: Figure) -> None:
    """Run constrained layout once, then keep it: each format would otherwise redo it."""
    with style():
        fig.draw_without_rendering()
    fig.set_layout_engine(None)


def write_atomic_figure(fig: Figure, final: Path, fmt: str) -> Path:
    """Write one format through a temporary name (``bench._atomic``): never a torn image."""

    def write(tmp: Path) -> None:
        with style():
            if fmt == "png":
                tmp.write_bytes(_small_png(fig))
            else:
                fig.savefig(tmp, format=fmt, dpi=DPI, metadata=SVG_METADATA)

    write_atomic(final, write)
    return final


# Pillow >= 9.1 has the enums; older releases the same values as module constants.
_FASTOCTREE = getattr(Image, "Quantize", Image).FASTOCTREE
_NO_DITHER = getattr(Image, "Dither", Image).NONE


def _small_png(fig: Figure) -> bytes:
    """The PNG with a 256-colour palette: a third of the size, no visible change for charts.

    Reports embed every chart, so their size is the report's size.
    """
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=DPI)
    raw.seek(0)
    with Image.open(raw) as im:
        pal = im.convert("RGB").quantize(colors=256, method=_FASTOCTREE, dither=_NO_DITHER)
    out = io.BytesIO()
    pal.save(out, format="PNG")
    return out.getvalue()


def plain_log(axis: Axis) -> None:
    """Log-scale tick labels as plain numbers (0.5, 2, 100), never 2x10^0.

    Minor ticks get labels only when the axis spans less than about two decades; otherwise
    they would collide.
    """
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))

    def minor(v: float, _pos: int) -> str:
        lo, hi = sorted(axis.get_view_interval())
        few = lo > 0 and hi / lo < 100
        lead = round(v / 10 ** math.floor(math.log10(v) + 1e-9)) if v > 0 else 0
        return f"{v:g}" if few and lead in (2, 5) else ""

    axis.set_minor_formatter(FuncFormatter(minor))


def slug(text: str) -> str:
    """A file-name-safe form of a workload id."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-.")
    return s[:60] or "x"


def wrap(text: str, width: int) -> str:
    """Wrap a long label onto several lines at spaces or commas."""
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=False)) or str(text)
