"""The words of ``flagbench compare``: its table, footer and one verdict line, each computed
from the comparison table beside it (``bench.present.compare``), so that a ratio printed is the
ratio of the figures printed, an interval is the one its verdict used, a direction is named
only where a test found one, and the last line is the gate's verdict for people and CI.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.results import gate


def _fmt_s(seconds: float) -> str:
    """Three decimals; a time below 10 ms (a pytest-benchmark round) in scientific notation,
    which would otherwise read 0.000."""
    return f"{seconds:.3f}" if seconds >= 0.01 or seconds == 0 else f"{seconds:.2e}"


def _pct(ratio: float) -> str:
    return f"{100 * (ratio - 1):+.1f}%"


def _figure(value: float, measure: str) -> str:
    return _fmt_s(value) if measure == gate.WALL else f"{value * gate.SCALE[measure]:.1f}"


def printed_ratio(r: pd.Series) -> float:
    """The ratio as printed: that of the two figures as printed beside it, so a reader who
    divides them gets the ratio shown."""
    a = float(_figure(r["a_value"], r["measure"]))
    b = float(_figure(r["b_value"], r["measure"]))
    return b / a if a > 0 else math.nan


def _row_line(r: pd.Series) -> str:
    ci = (
        "-"
        if math.isnan(r["ratio_ci_low"])
        else f"{r['ratio_ci_low']:.3f}..{r['ratio_ci_high']:.3f}"
    )
    p = "-" if math.isnan(r["p_adj"]) else f"{r['p_adj']:.3f}"
    m = r["measure"]
    return (
        f"{r['strategy']:<18}{gate.LABELS[m]:<8}{_figure(r['a_value'], m):>9}"
        f"{_figure(r['b_value'], m):>9}{printed_ratio(r):>8.3f}{ci:>16}{p:>8}  {r['verdict']}"
    )


def _open_loop_line(r: pd.Series, label: str) -> str | None:
    if "a_achieved_rps" not in r or pd.isna(r.get("a_achieved_rps")):
        return None
    if pd.isna(r.get("b_achieved_rps")):
        return None
    return (
        f"  open loop, offered {r['a_target_rps']:,.0f}/s (A) and {r['b_target_rps']:,.0f}/s "
        f"({label}): achieved A {r['a_achieved_rps']:,.0f}/s, {label} {r['b_achieved_rps']:,.0f}/s;"
        f" corrected p99 A {r['a_p99_corrected_s']:.3f} s, {label} {r['b_p99_corrected_s']:.3f} s"
    )


def _summary_line(block: pd.DataFrame, label: str) -> str:
    """The geometric mean of the wall-time ratios, with a direction only where tests found one."""
    wall = block[block["measure"] == gate.WALL]
    g = gate.geometric_mean_ratio(wall)
    n = len(wall)
    slower = int((wall["verdict"] == "slower").sum())
    faster = int((wall["verdict"] == "faster").sum())
    found = (
        f"{slower} significantly slower, {faster} significantly faster"
        if slower or faster
        else "no configuration significantly slower or faster"
    )
    return (
        f"geometric mean of the wall-time ratios {label}/A over {n} "
        f"configuration{'s' if n != 1 else ''}: {g:.3f} ({found})"
    )


def _advice(tested: pd.DataFrame, threshold: float) -> str:
    """How many repeats a side would catch the threshold in every configuration (the best
    measure of each), or why no number would."""
    if threshold <= 0:
        return "no number of repeats detects a 0% change"
    need = (
        tested.assign(needed=[gate.repeats_needed(r, threshold) for _, r in tested.iterrows()])
        .groupby(["run", "config_id"])["needed"]
        .min()
    )
    if np.isfinite(need).all():
        return f"about {int(need.max())} repeats a side would make a {threshold:g}% change significant 8 times in 10"
    allowed = gate.spread_allowed(int(tested["tests"].iloc[0]), threshold)
    if float(tested["drift"].min()) >= allowed:
        return (
            f"no number of repeats would: the drift allowance "
            f"{100 * float(tested['drift'].min()):.1f}% is above the {100 * allowed:.1f}% "
            f"at which a {threshold:g}% change is significant 8 times in 10"
        )
    return (
        f"{int((~np.isfinite(need)).sum())} would need more than {gate.CAP_REPEATS} repeats a side"
    )


def _interleaved(table: pd.DataFrame) -> bool:
    """Arms of one interleaved run, paired (``compare --split``), not runs against runs."""
    return "design" in table and bool((table["design"] == "interleaved").all())


def verdict_line(table: pd.DataFrame, fail_above: float | None) -> str:
    """The gate's one line: PASS or FAIL, the threshold, the worst change with its interval,
    and a warning when the threshold is below what these runs can detect."""
    threshold = 0.0 if fail_above is None else fail_above
    tested = table[table["p_value"].notna()]
    if tested.empty:
        return f"verdict: PASS (nothing tested: not enough repeats), threshold {threshold:g}%"
    bad = gate.regressions(tested, threshold)
    pool = bad if not bad.empty else tested
    worst = pool.loc[pool["ratio"].idxmax()]
    word = "FAIL" if not bad.empty else "PASS"
    run = f"{worst['run']}/A " if table["run"].nunique() > 1 else ""
    line = (
        f"verdict: {word}, threshold {threshold:g}% slower; worst change {run}{worst['strategy']} "
        f"{gate.LABELS[worst['measure']].split()[0]} {_pct(worst['ratio'])} "
        f"(interval {_pct(worst['ratio_ci_low'])} to {_pct(worst['ratio_ci_high'])}, "
        f"{worst['verdict']})"
    )
    if not bad.empty:
        line += f"; {len(bad)} test{'s' if len(bad) != 1 else ''} significantly slower by more than {threshold:g}%"
    blind = tested.groupby(["run", "config_id"])["detectable_pct"].min()
    blind = blind[blind > threshold]
    if len(blind):
        line += (
            f"; WARNING: {len(blind)} of {tested.groupby(['run', 'config_id']).ngroups} "
            f"configurations cannot detect a {threshold:g}% change (smallest detectable "
            f"{blind.min():.1f} to {blind.max():.1f}%); {_advice(tested, threshold)}"
        )
        if not _interleaved(table):
            line += (
                "; interleaving A and B in one run (compare --split) cancels the drift and "
                "pairs the trials"
            )
    if fail_above is None:
        line += "; no --fail-above given: exit status 0 whatever the verdict"
    return line


def format_comparison(
    table: pd.DataFrame,
    drift_words: str = f"{100 * gate.DEFAULT_DRIFT:g}% (the default)",
    fail_above: float | None = None,
) -> str:
    """One block per compared run, rows grouped by workload, the gate's rule, its verdict."""
    lines: list[str] = []
    m = int(table["tests"].iloc[0]) if len(table) else 0
    level = 1 - gate.ALPHA / max(m, 1)
    for label, block in table.groupby("run", sort=False):
        head = (
            f"{'strategy':<18}{'measure':<8}{'A':>9}{label:>9}{label + '/A':>8}"
            f"{f'{100 * level:.2f}% CI':>16}{'p adj':>8}  verdict"
        )
        lines += ["", f"{label} against A:", head]
        for workload, group in block.groupby("workload", sort=False):
            other = str(group["workload_b"].iloc[0])
            lines.append(
                f"workload: {workload}" + ("" if other == workload else f"   ({label}: {other})")
            )
            for _, r in group.iterrows():
                lines.append(_row_line(r))
                if r["measure"] == gate.WALL:
                    ol = _open_loop_line(r, str(label))
                    if ol:
                        lines.append(ol)
        lines.append(_summary_line(block, str(label)))
    tested = table["p_value"].notna()
    few = int((~tested).sum())
    interleaved = _interleaved(table)
    lines += [
        "",
        "A and B columns: wall s, the geometric mean of the paired repeats' wall times, B/A "
        "their ratio; req ms, A the median over the requests of each request's best latency "
        "over the repeats, B/A the median over the requests of each request's own ratio (B's "
        "best over A's), and B = A x B/A"
        if interleaved
        else "A and B columns: wall s, the geometric mean of the repeats' wall times; req ms, "
        "the median over the requests of each request's best latency over the repeats; B/A is "
        "their ratio",
        f"gate: Bonferroni over {m} test{'s' if m != 1 else ''} (family-wise false alarms "
        f"<= {gate.ALPHA:.0%}; each interval is the {100 * level:.2f}% interval its verdict "
        f"uses), drift allowance {drift_words}",
    ]
    if few:
        lines.append(
            f"{few} test(s) with fewer than 2 repeats a side: not enough repeats "
            "to test (run 3 or more)"
        )
    lines.append(verdict_line(table, fail_above))
    return "\n".join(lines)
