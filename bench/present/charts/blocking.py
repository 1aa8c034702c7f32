"""The blocking experiment's chart: an event loop that writes files itself, against one that
hands the writes to an executor, as each write gets slower."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.present.charts.data import RunLike, strategies
from bench.present.charts.experiments import blocking_table, has_blocking_sweep
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    IDEAL_COLOUR,
    legend_below,
    new_figure,
    plain_log,
    strategy_colours,
    wrap,
)


@chart(
    kind="blocking",
    title="Loop lag with blocking writes: inline against an executor",
    stem="blocking",
    order=24,
    when=has_blocking_sweep,
)
def fig_blocking(run: RunLike) -> Figure | None:
    """Loop lag, wall time and requests stuck behind each stall, against the write delay."""
    table = blocking_table(run)
    if table.empty:
        return None
    names = [n for n in strategies(run) if (table["strategy"] == n).any()]
    colours = strategy_colours(strategies(run))
    delays = sorted(table["save_delay_ms"].unique())
    pos = {d: i for i, d in enumerate(delays)}
    fig = new_figure(14, 5.0)
    ax_lag, ax_wall, ax_stuck = fig.subplots(1, 3)
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        d = table[table["strategy"] == name].sort_values("save_delay_ms")
        x = [pos[v] for v in d["save_delay_ms"]]
        c = colours[name]
        ax_lag.plot(x, d["loop_lag_p99_s"] * 1e3, color=c, marker="o", lw=2)
        ax_lag.plot(x, d["loop_lag_max_s"] * 1e3, color=c, marker="x", ls=":", lw=1.2)
        ax_wall.plot(x, d["wall_s"], color=c, marker="o", lw=2)
        ax_wall.plot(x, d["ideal_s"], color=c, ls="--", lw=1, alpha=0.8)
        offset = (k - (len(names) - 1) / 2) * width
        blocked = d[d["save_delay_ms"] > 0]
        bars = ax_stuck.bar(
            [pos[v] + offset for v in blocked["save_delay_ms"]],
            100 * blocked["stuck_share"],
            width=width * 0.9,
            color=c,
            alpha=0.85,
        )
        for bar, stalls in zip(bars, blocked["stalls_per_trial"], strict=True):
            ax_stuck.annotate(
                f"{stalls:.2g}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color="#444444",
            )
    for ax in (ax_lag, ax_wall, ax_stuck):
        ax.set_xticks(range(len(delays)), [f"{d:g}" for d in delays])
        ax.set_xlabel("each write blocks for (ms)")
    ax_wall.set_ylim(bottom=0)
    ax_stuck.set_ylim(0, 112)
    if 0 in pos:
        ax_stuck.text(
            pos[0], 4, "no blocking\nwrites", ha="center", va="bottom", fontsize=8, color="#777777"
        )
    ax_lag.set_yscale("log")
    plain_log(ax_lag.yaxis)
    ax_lag.set_ylabel("event-loop lag (ms, log scale)")
    ax_lag.set_title("Event-loop lag: p99 (o) and max (x)", loc="left")
    ax_wall.set_ylabel("wall time (s)")
    ax_wall.set_title("Wall time (median) and its ideal", loc="left")
    ax_stuck.set_ylabel("% of requests stuck behind a stall")
    ax_stuck.set_title(
        wrap(
            "Requests stuck behind the writes: in flight when the loop stopped "
            "for at least one write (stalls per trial on top)",
            46,
        ),
        loc="left",
    )
    handles = [Line2D([], [], color=colours[n], lw=2, marker="o", label=n) for n in names]
    handles.append(
        Line2D(
            [],
            [],
            color=IDEAL_COLOUR,
            ls="--",
            lw=1,
            label="ideal, in each strategy's colour (writes on the loop run one at a time)",
        )
    )
    legend_below(fig, handles)
    concurrency = int(table["concurrency"].iloc[0])
    fig.suptitle(
        wrap(
            f"Saving each flag on a slow disk (C={concurrency}): writes inline on the event loop "
            "stall it, writes through run_in_executor do not",
            110,
        )
    )
    return fig
