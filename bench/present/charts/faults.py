"""Charts of things going wrong: probe lag (blocked loop, GIL) and errors vs injected faults."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from bench.present.charts.data import (
    RunLike,
    error_workload_ids,
    has_errors,
    has_probes,
    median_trial,
    ok_trials,
    pick,
    requests_of,
    strategies,
    workloads,
)
from bench.present.charts.drawn import enough_samples, probe_samples
from bench.present.charts.registry import chart
from bench.present.charts.style import (
    OUTCOME_COLOURS,
    legend_below,
    new_figure,
    plain_log,
    strategy_colours,
    wrap,
)
from flags_server.fault_kinds import CODE_PLACEHOLDER, FAULT_KINDS

MAX_ERROR_ROWS = 4
PROBE_TITLES = {
    "loop_lag": "Event-loop lag (how late the loop's heartbeat ran)",
    "heartbeat": "Thread heartbeat delay (GIL contention)",
}

# Client error kinds grouped by the server's fault kinds (from its fault table), so the bars
# of what the client saw and what the server injected compare.
FAMILIES = (*(k.name.replace("_", " ") for k in FAULT_KINDS), "other")
_PALETTE = ("#7570B3", "#E7298A", "#2C3E50", "#A6761D", "#5DADE2", "#1B9E77", "#D95F02")
FAMILY_COLOURS = {f: _PALETTE[i % len(_PALETTE)] for i, f in enumerate(FAMILIES[:-1])}
FAMILY_COLOURS["other"] = "#95A5A6"
SERVER_FAMILY = {f"server_injected_{k.name}": k.name.replace("_", " ") for k in FAULT_KINDS}


def family(error_kind: str) -> str:
    """The fault kind whose declared client error kind this is; "other" for the rest."""
    k = str(error_kind)
    for kind in FAULT_KINDS:
        seen = kind.client_error_kind
        if seen is not None and (
            k == seen
            or (k.startswith(seen.split(CODE_PLACEHOLDER)[0]) and CODE_PLACEHOLDER in seen)
        ):
            return kind.name.replace("_", " ")
    return "other"


# ---------------------------------------------------------------- 6. probes


@chart(
    kind="probes",
    title="Event-loop lag and thread heartbeat delay",
    stem="probes",
    order=60,
    when=has_probes,
)
def fig_probes(run: RunLike) -> Figure | None:
    """Event-loop lag and thread heartbeat delay per strategy."""
    drawn = probe_samples(run)
    if drawn is None:
        return None
    main, p = drawn
    t = ok_trials(run)
    kinds = [k for k in PROBE_TITLES if (p["kind"] == k).any()]
    if not kinds:
        return None
    names = strategies(run)
    colours = strategy_colours(names)
    walls = t.set_index("trial_id")["wall_s"]
    fig = new_figure(12, 1.4 + 3.3 * len(kinds))
    axes = fig.subplots(len(kinds), 2, squeeze=False, width_ratios=[1.6, 1])
    for (ax_t, ax_s), kind in zip(axes, kinds, strict=False):
        pk = p[(p["kind"] == kind) & (p["workload_id"] == main.workload_id)]
        present = [n for n in names if (pk["strategy"] == n).any()]
        for st in present:
            tid = median_trial(run, main.workload_id, st)
            d = pk[pk["trial_id"] == tid].sort_values("t_s")
            wall = float(walls.get(tid, d["t_s"].max() if len(d) else 1.0))
            ax_t.plot(100 * d["t_s"] / wall, d["lag_s"] * 1e3, color=colours[st], lw=1, alpha=0.9)
        ax_t.set_ylim(bottom=0)
        ax_t.set_xlim(0, 100)
        ax_t.set_xlabel("progress through the trial (% of its wall time)")
        ax_t.set_ylabel("delay (ms)")
        ax_t.set_title(f"{PROBE_TITLES[kind]}: median-wall trial", loc="left")
        _probe_summary(ax_s, pk, present, colours)
    handles = [
        Line2D([], [], color=colours[n], lw=2, label=n) for n in names if (p["strategy"] == n).any()
    ]
    handles += [
        Line2D([], [], ls="", marker=m, color="#444444", label=lab)
        for m, lab in (("o", "p50"), ("D", "p99 (from 1,000 samples)"), ("x", "max"))
    ]
    legend_below(fig, handles)
    fig.suptitle(
        wrap(f"Probes: late heartbeats show blocking and GIL contention: {main.label}", 110)
    )
    return fig


def _probe_summary(ax: Axes, pk: pd.DataFrame, present: list[str], colours: dict[str, str]) -> None:
    drawn = []
    for i, st in enumerate(present):
        lag = pk.loc[pk["strategy"] == st, "lag_s"].to_numpy(float) * 1e3
        if not len(lag):
            continue
        # a percentile only where its samples can state it (bench.charts.data.enough_samples)
        marks = [(m, p) for m, p in (("o", 50.0), ("D", 99.0)) if enough_samples(len(lag), p)]
        for marker, value in (
            *((m, np.percentile(lag, p)) for m, p in marks),
            ("x", lag.max()),
        ):
            drawn.append(max(value, 1e-3))
            ax.plot(drawn[-1], i, marker=marker, color=colours[st], ms=8, ls="")
    ax.set_xscale("log")
    if drawn:  # a margin, so a narrow range still shows a few labelled ticks
        ax.set_xlim(min(drawn) / 1.6, max(drawn) * 1.6)
    plain_log(ax.xaxis)
    ax.set_yticks(range(len(present)), present)
    ax.set_ylim(len(present) - 0.5, -0.5)
    ax.set_xlabel("delay (ms, log scale), all repeats")
    ax.set_title("distribution per strategy", loc="left")


# ---------------------------------------------------------------- 7. errors


@chart(
    kind="errors",
    title="Outcomes and errors against injected faults",
    stem="errors",
    order=70,
    when=has_errors,
)
def fig_errors(run: RunLike) -> Figure:
    """Outcomes and error kinds per strategy against the server's injected faults."""
    ids = set(error_workload_ids(run))
    t = ok_trials(run)
    ws = [w for w in workloads(run) if w.workload_id in ids]
    shown = pick(ws, MAX_ERROR_ROWS)
    names = strategies(run)
    colours = strategy_colours(names)
    req = requests_of(run, t[t["workload_id"].isin(ids)]["trial_id"], sent_only=False)
    heights = [
        1.0 + 0.62 * t[t["workload_id"] == w.workload_id]["strategy"].nunique() for w in shown
    ]
    fig = new_figure(12.5, 1.3 + sum(heights))
    axes = fig.subplots(len(shown), 2, squeeze=False, height_ratios=heights)
    used: set[str] = set()
    outcomes: set[str] = set()
    for (ax_o, ax_k), w in zip(axes, shown, strict=False):
        tw = t[t["workload_id"] == w.workload_id]
        present = [n for n in names if (tw["strategy"] == n).any()]
        outcomes |= _outcome_panel(ax_o, tw, present, w.label)
        rw = req[req["trial_id"].astype(str).isin(set(tw["trial_id"]))] if not req.empty else req
        used |= _kinds_panel(ax_k, tw, rw, present, colours)
    axes[-1, 0].set_xlabel("jobs per trial, final outcome (mean of repeats)")
    axes[-1, 1].set_xlabel("failed attempts per trial (mean of repeats)")
    handles = [
        Patch(color=c, label=f"final: {o.replace('_', ' ')}")
        for o, c in OUTCOME_COLOURS.items()
        if o in outcomes
    ]
    handles += [Patch(color=FAMILY_COLOURS[f], label=f) for f in FAMILIES if f in used]
    legend_below(fig, handles)
    extra = f" ({len(shown)} of {len(ws)} workloads with errors)" if len(shown) < len(ws) else ""
    fig.suptitle(
        wrap(
            "Errors: final outcomes (left); failed attempts the client saw vs faults "
            "the server injected (right)" + extra,
            110,
        )
    )
    return fig


def _outcome_panel(ax: Axes, tw: pd.DataFrame, present: list[str], label: str) -> set[str]:
    seen: set[str] = set()
    for i, st in enumerate(present):
        g = tw[tw["strategy"] == st]
        left = 0.0
        for outcome, col in (("ok", "n_ok"), ("not_found", "n_not_found"), ("error", "n_error")):
            v = float(g[col].mean())
            if v <= 0:
                continue
            ax.barh(i, v, left=left, height=0.6, color=OUTCOME_COLOURS[outcome])
            seen.add(outcome)
            if v >= 0.06 * float(g[["n_ok", "n_not_found", "n_error"]].sum(axis=1).mean()):
                ax.text(
                    left + v / 2,
                    i,
                    f"{v:.3g}",
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color="white",
                    fontweight="bold",
                )
            left += v
    ax.set_yticks(range(len(present)), present)
    ax.set_ylim(len(present) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_title(wrap(label, 60), loc="left")
    return seen


def _kinds_panel(
    ax: Axes, tw: pd.DataFrame, rw: pd.DataFrame, present: list[str], colours: dict[str, str]
) -> set[str]:
    used: set[str] = set()
    ticks, labels = [], []
    n_rep = tw.groupby("strategy")["trial_id"].nunique()
    for i, st in enumerate(present):
        reps = max(1, int(n_rep.get(st, 1)))
        client: dict[str, float] = {}
        if not rw.empty:
            mine = rw[
                rw["trial_id"].astype(str).isin(set(tw.loc[tw["strategy"] == st, "trial_id"]))
            ]
            bad = mine[(mine["outcome"].astype(str) == "error") & mine["error_kind"].notna()]
            for kind, n in bad["error_kind"].astype(str).map(family).value_counts().items():
                client[kind] = n / reps
        g = tw[tw["strategy"] == st]
        server = {fam: float(g[col].fillna(0).mean()) for col, fam in SERVER_FAMILY.items()}
        for offset, counts in ((-0.2, client), (0.2, server)):
            left = 0.0
            for fam in FAMILIES:
                v = counts.get(fam, 0.0)
                if v > 0:
                    ax.barh(i + offset, v, left=left, height=0.36, color=FAMILY_COLOURS[fam])
                    left += v
                    used.add(fam)
            ax.text(left, i + offset, f" {left:.3g}", va="center", fontsize=8)
        ticks += [i - 0.2, i + 0.2]
        labels += [f"{st}: client saw", "server injected"]
    if not used:
        ax.cla()
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "no failed attempts and no injected faults",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="#555555",
        )
        return used
    ax.set_yticks(ticks, labels)
    for lab, st in zip(ax.get_yticklabels()[::2], present, strict=False):
        lab.set_color(colours[st])
    ax.set_ylim(len(present) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    xmax = max((p.get_x() + p.get_width() for p in bars), default=1.0)
    ax.set_xlim(0, max(xmax, 1.0) * 1.15)
    ax.set_title("failed attempts by kind", loc="left")
    return used
