"""The book's other lessons, drawn: when results reach the caller in each consume mode, what
each mode does on the first error, and how a spinner ticks while the downloads run."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.present.charts import lessons_data as ld
from bench.present.charts.data import RunLike
from bench.present.charts.registry import chart
from bench.present.charts.style import legend_below, new_figure, wrap

_OUTCOME_COLOURS = {
    "ok": "#2ca02c",
    "not_found": "#bcbd22",
    "error": "#d62728",
    "group_cancelled": "#9467bd",
}


@chart(
    kind="delivery",
    title="Results handed to the caller over time, against responses finished",
    stem="delivery",
    order=32,
    when=ld.has_consume,
)
def fig_delivery(run: RunLike) -> Figure | None:
    """One panel per strategy: responses finished (dotted) and results delivered (solid)."""
    t = ld.consume_trials(run, faulty=False)
    if t.empty:
        return None
    names = list(dict.fromkeys(t["strategy"]))
    cols = min(2, len(names))
    rows = math.ceil(len(names) / cols)
    fig = new_figure(6.2 * cols, 3.6 * rows + 1.2)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False).ravel())
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    modes: list[str] = []
    for ax, name in zip(axes[: len(names)], names, strict=True):
        for _, row in t[t["strategy"] == name].iterrows():
            mode = str(row["consume"])
            modes.append(mode)
            done, got = ld.curves_of(run, str(row["trial_id"]))
            colour = ld.MODE_COLOURS.get(mode, "#7f7f7f")
            ax.step(done, np.arange(1, len(done) + 1), where="post", color=colour, ls=":", lw=1.3)
            ax.step(got, np.arange(1, len(got) + 1), where="post", color=colour, lw=2.2)
        ax.set_title(name, loc="left")
        ax.set_xlabel("seconds since the downloads began")
        ax.set_ylabel("jobs")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    handles = [
        Line2D([], [], color=ld.MODE_COLOURS[m], lw=2.2, label=f"{ld.mode_label(m)}: delivered")
        for m in ld.MODE_ORDER
        if m in modes
    ]
    handles.append(Line2D([], [], color="#555555", ls=":", lw=1.3, label="responses finished"))
    legend_below(fig, handles)
    first = t.iloc[0]
    fig.suptitle(
        wrap(
            f"When results reach the caller (N={int(first['n_jobs'])}, "
            f"C={int(first['concurrency'])}, latency {first['latency']}): the gap between a "
            "dotted and a solid line is time a finished response waited to be handed over",
            110,
        )
    )
    return fig


@chart(
    kind="result_times",
    title="Time to the first result, half of them and the last, per consume mode",
    stem="result-times",
    order=33,
    when=ld.has_consume,
)
def fig_result_times(run: RunLike) -> Figure | None:
    """A row per (strategy, mode): the first, half and last result and response."""
    t = ld.consume_trials(run, faulty=False)
    if t.empty:
        return None
    names = list(dict.fromkeys(t["strategy"]))
    sizes = [int((t["strategy"] == n).sum()) for n in names]
    fig = new_figure(11, 0.42 * len(t) + 0.5 * len(names) + 1.6)
    axes = np.atleast_1d(fig.subplots(len(names), 1, gridspec_kw={"height_ratios": sizes}))
    marks = (("first", "^"), ("half", "o"), ("last", "s"))
    for ax, name in zip(axes, names, strict=True):
        rows = t[t["strategy"] == name].reset_index(drop=True)
        for i, row in rows.iterrows():
            colour = ld.MODE_COLOURS.get(str(row["consume"]), "#7f7f7f")
            y = len(rows) - 1 - int(i)
            ends = [row["first_result_s"], row["last_result_s"]]
            ax.plot(ends, [y, y], color=colour, lw=1, alpha=0.6)
            for moment, marker in marks:
                ax.plot(
                    row[f"{moment}_response_s"], y, marker=marker, ms=9, mfc="none", mec="#555555"
                )
                ax.plot(row[f"{moment}_result_s"], y, marker=marker, ms=7, color=colour, ls="")
        labels = [ld.mode_label(str(m)) for m in rows["consume"]]
        ax.set_yticks(range(len(rows)), labels[::-1])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(left=0)
        ax.set_title(name, loc="left", fontsize=10)
    axes[-1].set_xlabel("seconds since the downloads began (each strategy its own axis)")
    handles = [
        Line2D([], [], marker=m, ls="", color="#333333", label=f"{n} result") for n, m in marks
    ]
    handles.append(
        Line2D([], [], marker="o", ls="", mfc="none", mec="#555555", ms=9, label="same, response")
    )
    legend_below(fig, handles)
    fig.suptitle(
        "Filled: when the caller got its first result, half of them, the last; "
        "hollow: when those responses had finished"
    )
    return fig


@chart(
    kind="first_error",
    title="What each consume mode does on the first error",
    stem="first-error",
    order=34,
    when=ld.has_first_error,
)
def fig_first_error(run: RunLike) -> Figure | None:
    """Final outcomes per mode with injected faults, and the requests sent against counted."""
    t = ld.consume_trials(run, faulty=True)
    if t.empty:
        return None
    fig = new_figure(11, 0.55 * len(t) + 2.4)
    ax = fig.subplots()
    labels = []
    shown: set[str] = set()
    for i, (_, row) in enumerate(t.iterrows()):
        y = len(t) - 1 - i
        final = ld.final_requests(run, str(row["trial_id"]))
        kinds = final["error_kind"].astype(str)
        parts = {
            "ok": int((final["outcome"] == "ok").sum()),
            "not_found": int((final["outcome"] == "not_found").sum()),
            "error": int(((final["outcome"] == "error") & (kinds != "group_cancelled")).sum()),
            "group_cancelled": int((kinds == "group_cancelled").sum()),
        }
        left = 0
        for name, n in parts.items():
            if n:
                ax.barh(y, n, left=left, color=_OUTCOME_COLOURS[name], height=0.6)
                left += n
                shown.add(name)
        ax.annotate(
            f"sent {int(row['n_requests'])} requests, server counted {row['server_requests']}",
            (left, y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="#444444",
        )
        labels.append(f"{row['strategy']} · {ld.mode_label(str(row['consume']))}")
    ax.set_yticks(range(len(t)), labels[::-1])
    ax.set_xlabel("jobs, by final outcome")
    ax.set_xlim(0, float(t["n_jobs"].max()) * 1.45)
    legend_below(
        fig,
        [
            Patch(
                color=c, label=n.replace("_", " ") + (" (by the TaskGroup)" if "group" in n else "")
            )
            for n, c in _OUTCOME_COLOURS.items()
            if n in shown
        ],
    )
    first = t.iloc[0]
    fig.suptitle(
        wrap(
            f"{int(first['n_jobs'])} jobs with injected faults: gather and as_completed count "
            "errors and go on, a TaskGroup cancels every job still running at the first error",
            110,
        )
    )
    return fig


@chart(
    kind="spinner",
    title="A spinner ticking beside the downloads: frozen stretches",
    stem="spinner",
    order=35,
    when=ld.has_spinner,
)
def fig_spinner(run: RunLike) -> Figure | None:
    """A strip per (trial, spinner): each tick a mark, each tick that took 1.5x its interval
    or more a red bar as long as the spinner stood still."""
    trials = ld.spinner_trials(run)
    rows = [(s, kind, what) for s in trials for kind, what in ld.SPINNER_KINDS if kind in s.ticks]
    if not rows:
        return None
    fig = new_figure(12, 0.42 * len(rows) + 2.4)
    ax = fig.subplots()
    labels = []
    for i, (s, kind, what) in enumerate(rows):
        y = len(rows) - 1 - i
        times, took = s.ticks[kind]
        frozen = took >= ld.FROZEN * s.interval_s
        for end, span in zip(times[frozen], took[frozen], strict=True):
            ax.barh(y, span, left=end - span, height=0.55, color="#d62728", alpha=0.75)
        ax.vlines(times, y - 0.3, y + 0.3, color="#333333", lw=0.9)
        ax.plot([0, s.wall_s], [y - 0.42, y - 0.42], color="#BBBBBB", lw=0.8)
        labels.append(f"{s.strategy}: {s.condition} · {what}")
    ax.set_yticks(range(len(rows)), [wrap(lb, 60) for lb in labels[::-1]], fontsize=8)
    ax.set_xlabel("seconds since the downloads began (grey rule: the trial's wall time)")
    ax.set_xlim(left=0)
    legend_below(
        fig,
        [
            Line2D([], [], color="#333333", lw=0.9, label="a tick"),
            Patch(
                color="#d62728",
                alpha=0.75,
                label=f"frozen: a tick took {ld.FROZEN:g}{chr(215)} its interval or more",
            ),
        ],
    )
    fig.suptitle(
        f"A spinner ticking every {trials[0].interval_s * 1e3:g} ms, as a thread and as a "
        "coroutine on the event loop, while the flags download"
    )
    return fig
