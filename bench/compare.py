"""``flagbench compare RUN_A RUN_B``: per configuration, is B slower or faster than A?

For each configuration present in both runs: the ratio of median wall times B / A with a 95%
interval (Welch's t on the log times, see ``bench.stats.ratio_ci``), and a Mann-Whitney
p-value. A difference counts as significant when the interval excludes 1: a 5% false-alarm
rate per configuration when the log times are roughly normal. The rank test needs no such
assumption but cannot go below p = 0.1 with 3 repeats a side; it is shown so that nobody
mistakes three repeats for proof.
"""

from __future__ import annotations

import argparse
import math

import pandas as pd

from . import stats, store


def compare_runs(a: store.Run, b: store.Run) -> pd.DataFrame:
    ta = a.trials[a.trials["status"] == "ok"]
    tb = b.trials[b.trials["status"] == "ok"]
    rows = []
    for config_id, ga in ta.groupby("config_id", observed=True, sort=False):
        gb = tb[tb["config_id"] == config_id]
        if gb.empty:
            continue
        wa, wb = ga["wall_s"].to_numpy(), gb["wall_s"].to_numpy()
        ratio, lo, hi = stats.ratio_ci(wb, wa)
        rows.append({
            "config_id": config_id,
            "strategy": ga["strategy"].iloc[0],
            "workload": ga["workload"].iloc[0],
            "a_median_s": float(pd.Series(wa).median()),
            "b_median_s": float(pd.Series(wb).median()),
            "ratio": ratio,
            "ratio_ci_low": lo,
            "ratio_ci_high": hi,
            "p_value": stats.mann_whitney_p(wb, wa),
            "significant": bool(lo > 1 or hi < 1),
        })  # fmt: skip
    return pd.DataFrame(rows)


def format_comparison(table: pd.DataFrame) -> str:
    if table.empty:
        return "no configuration appears in both runs"
    lines = [f"{'strategy':<18}{'A s':>9}{'B s':>9}{'B/A':>8}{'95% CI':>16}{'p':>7}  verdict"]
    for workload, group in table.groupby("workload", sort=False):
        lines.append(f"workload: {workload}")
        for _, r in group.iterrows():
            verdict = "same"
            if r["significant"]:
                verdict = "slower" if r["ratio"] > 1 else "faster"
            ci = f"{r['ratio_ci_low']:.3f}..{r['ratio_ci_high']:.3f}"
            lines.append(f"{r['strategy']:<18}{r['a_median_s']:>9.3f}{r['b_median_s']:>9.3f}"
                         f"{r['ratio']:>8.3f}{ci:>16}{r['p_value']:>7.2f}  {verdict}")  # fmt: skip
    return "\n".join(lines)


def regressions(table: pd.DataFrame, fail_above_pct: float) -> pd.DataFrame:
    """Configurations significantly slower than A by more than ``fail_above_pct`` percent."""
    if table.empty:
        return table
    limit = 1 + fail_above_pct / 100
    return table[table["significant"] & (table["ratio"] > limit)]


def cmd_compare(args: argparse.Namespace) -> int:
    from ._exceptions import SpecError

    if args.fail_above is not None and not (args.fail_above >= 0 and math.isfinite(args.fail_above)):
        raise SpecError(f"--fail-above {args.fail_above}: give a percentage >= 0")
    if args.chart is not None and args.chart.suffix not in (".png", ".svg"):
        raise SpecError(f"--chart {args.chart}: the file name must end in .png or .svg")
    a, b = store.load(args.run_a), store.load(args.run_b)
    table = compare_runs(a, b)
    print(f"A: {a.path}\nB: {b.path}")
    print(format_comparison(table))
    if args.chart is not None and not table.empty:
        from .charts import compare_chart

        compare_chart(table, args.chart, label_a=a.run_id, label_b=b.run_id)
        print(f"chart: {args.chart}")
    if args.fail_above is not None:
        bad = regressions(table, args.fail_above)
        if not bad.empty:
            print(f"{len(bad)} configuration(s) significantly slower by more than "
                  f"{args.fail_above:g}%")  # fmt: skip
            return 1
    return 0
