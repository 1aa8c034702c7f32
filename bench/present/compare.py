"""``flagbench compare REF RUN...``: per configuration, is a run slower or faster than the reference?

Configurations are matched on every workload axis (``bench.define.workload.FIELDS``) and the strategy,
except the axes named in ``--ignore``: runs that differ only in the interpreter compare with
``--ignore python``. An axis a strategy caps is matched as that strategy sees it (sequential
at C=10 and at C=100 is one configuration). For each match: the ratio of geometric means B / A
with a 95% interval from Welch's t on the log times plus a drift allowance, and the verdict of
the regression gate (``bench.results.gate``: Holm over every configuration compared). More than two runs
are each compared with the first, and each gets a geometric-mean line, as pyperf's compare_to
gives.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench._exceptions import CompareError, SpecError
from bench.define.fields import Field
from bench.define.workload import BY_NAME, FIELDS
from bench.present.charts import compare_chart
from bench.results import baselines, gate, stats, store
from bench.suggest import did_you_mean

#: Configurations up to which the Mann-Whitney p (``p_rank``, not used by the gate) is given:
#: with ties it is a permutation test of about 0.1 s each, which ten thousand imported
#: benchmarks would turn into a quarter of an hour.
MAX_RANK_TESTS = 200


def _normal(value: Any) -> str:
    """One spelling per value, whatever dtype the column came back with (60 and 60.0 alike)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return str(bool(value))
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _axis(trials: pd.DataFrame, f: Field) -> pd.Series:
    """An axis's values per trial as the strategy saw them; an older run without the column
    ran with the field's default."""
    col = f.column_name
    if f.capped_by and f"{col}_effective" in trials:
        col = f"{col}_effective"
    if col not in trials:
        return pd.Series([_normal(f.default)] * len(trials), index=trials.index)
    return trials[col].map(_normal)


def keyed(run: store.Run, ignore: Sequence[str] = ()) -> pd.DataFrame:
    """The run's successful trials with ``key`` (what a match needs) and ``full_key`` (the
    whole configuration); a key that stands for configurations differing in an ignored axis
    is refused, since their repeats are not repeats of one thing."""
    t = run.trials[run.trials["status"].astype(str) == "ok"].copy()
    strategy = t["strategy"].astype(str)
    full = {f.name: _axis(t, f) for f in FIELDS}
    t["full_key"] = strategy.str.cat([full[f.name] for f in FIELDS], sep="|")
    kept = [full[f.name] for f in FIELDS if f.name not in ignore]
    t["key"] = strategy.str.cat(kept, sep="|") if kept else strategy
    several = t.groupby("key", sort=False)["full_key"].nunique()
    for key in several[several > 1].index:
        g = t[t["key"] == key]
        differ = [n for n in ignore if full[n][g.index].nunique() > 1]
        values = ", ".join(f"{n} = {sorted(set(full[n][g.index]))}" for n in differ)
        raise CompareError(
            f"--ignore {','.join(ignore)}: {run.path} has "
            f"{g['strategy'].iloc[0]} on several workloads that differ only in "
            f"{values}; ignore only axes on which the runs differ"
        )
    return t


def _differing_axes(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    return [f.name for f in FIELDS if set(_axis(a, f)) != set(_axis(b, f))]


def _order(ref: store.Run, t: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Keys in the reference summary's row order (the suite's strategy order, baseline first)."""
    s = ref.summary
    listed: list[str] = []
    if len(s):
        for col in ("measured_on", "config_id"):
            if col in s:
                listed += [str(c) for c in s[col] if isinstance(c, str) and c]
    rank = {c: i for i, c in enumerate(dict.fromkeys(listed))}
    by_key = t.groupby("key", sort=False)["config_id"].agg(
        lambda ids: min((rank.get(str(i), len(rank)) for i in ids), default=len(rank))
    )
    return {k: (r, i) for i, (k, r) in enumerate(by_key.items())}


def samples(run: store.Run, t: pd.DataFrame) -> dict[str, np.ndarray]:
    """The times to compare, per key of ``keyed``: each trial's wall time, or, for a trial
    with rounds (an imported pytest-benchmark), its rounds' times: the samples of that one
    benchmark. Rounds are split by trial id as arrays, never one Python object per round."""
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    with_rounds = np.zeros(len(t), dtype=bool)
    r = run.rounds
    if len(r):
        key_of = dict(zip(t["trial_id"].tolist(), t["key"].tolist(), strict=True))
        r = r[r["trial_id"].isin(list(key_of))]
        ids = r["trial_id"].to_numpy()
        order = np.argsort(ids, kind="stable")
        trial_ids, starts = np.unique(ids[order], return_index=True)
        times = np.split(r["time_s"].to_numpy(float)[order], starts[1:])
        for trial_id, part in zip(trial_ids.tolist(), times, strict=True):
            parts[key_of[trial_id]].append(part)
        with_rounds = t["trial_id"].isin(trial_ids).to_numpy()
    for key, walls in t[~with_rounds].groupby("key", sort=False)["wall_s"]:
        parts[str(key)].append(walls.to_numpy(float))
    return {key: np.concatenate(p) for key, p in parts.items()}


def _pair(
    ref: store.Run, ta: pd.DataFrame, other: store.Run, tb: pd.DataFrame, label: str
) -> list[dict[str, Any]]:
    order = _order(ref, ta)
    sa, sb = samples(ref, ta), samples(other, tb)
    ranked = len(sa) <= MAX_RANK_TESTS
    rows = []
    for key, ga in sorted(ta.groupby("key", sort=False), key=lambda kg: order[kg[0]]):
        if key not in sb:
            continue
        wa, wb = sa[key], sb[key]
        log_ratio, se, df = stats.log_diff(wb, wa)
        rows.append(
            {
                "run": label,
                "run_path": str(other.path),
                "config_id": str(ga["config_id"].iloc[0]),
                "strategy": str(ga["strategy"].iloc[0]),
                "workload": str(ga["workload"].iloc[0]),
                "n_a": len(wa),
                "n_b": len(wb),
                "a_median_s": float(np.median(wa)),
                "b_median_s": float(np.median(wb)),
                "log_ratio": log_ratio,
                "se": se,
                "df": df,
                "p_rank": stats.mann_whitney_p(wb, wa) if ranked else math.nan,
            }
        )
    return rows


def compare_many(
    ref: store.Run,
    others: Sequence[store.Run],
    ignore: Sequence[str] = (),
    drift: float = gate.DEFAULT_DRIFT,
) -> pd.DataFrame:
    """Every run against ``ref``, one row per matched configuration, with the gate's verdicts
    over all of them (one family). A run with no match at all is a CompareError."""
    ta = keyed(ref, ignore)
    rows: list[dict[str, Any]] = []
    for i, other in enumerate(others):
        tb = keyed(other, ignore)
        label = chr(ord("B") + i) if i < 24 else f"R{i + 1}"
        found = _pair(ref, ta, other, tb, label)
        if not found:
            differ = [n for n in _differing_axes(ta, tb) if n not in ignore]
            hint = (
                f"; they differ in {', '.join(differ)}: try --ignore {','.join(differ)}"
                if differ
                else "; they share no strategy"
            )
            raise CompareError(f"no configuration of {other.path} matches one of {ref.path}{hint}")
        rows += found
    return gate.decide(pd.DataFrame(rows), drift=drift)


def compare_runs(
    a: store.Run, b: store.Run, ignore: Sequence[str] = (), drift: float = gate.DEFAULT_DRIFT
) -> pd.DataFrame:
    """``b`` against ``a``: see ``compare_many``."""
    return compare_many(a, [b], ignore, drift)


def _fmt_s(seconds: float) -> str:
    """Three decimals; a time below 10 ms (a pytest-benchmark round) in scientific notation,
    which would otherwise read 0.000."""
    return f"{seconds:.3f}" if seconds >= 0.01 or seconds == 0 else f"{seconds:.2e}"


def _fmt_pct(ratio: float) -> str:
    if math.isnan(ratio):
        return "-"
    change = 100 * (ratio - 1)
    if abs(change) < 0.05:
        return "no change"
    return f"{abs(change):.1f}% {'slower' if change > 0 else 'faster'}"


def format_comparison(table: pd.DataFrame, drift: float = gate.DEFAULT_DRIFT) -> str:
    """One block per compared run, rows grouped by workload, then the gate's rule in words."""
    lines: list[str] = []
    for label, block in table.groupby("run", sort=False):
        head = (
            f"{'strategy':<18}{'A s':>9}{label + ' s':>9}{label + '/A':>8}"
            f"{'95% CI':>16}{'p (Holm)':>10}  verdict"
        )
        lines += ["", f"{label} against A:", head]
        for workload, group in block.groupby("workload", sort=False):
            lines.append(f"workload: {workload}")
            for _, r in group.iterrows():
                ci = (
                    "-"
                    if math.isnan(r["ratio_ci_low"])
                    else f"{r['ratio_ci_low']:.3f}..{r['ratio_ci_high']:.3f}"
                )
                p = "-" if math.isnan(r["p_holm"]) else f"{r['p_holm']:.3f}"
                lines.append(
                    f"{r['strategy']:<18}{_fmt_s(r['a_median_s']):>9}{_fmt_s(r['b_median_s']):>9}"
                    f"{r['ratio']:>8.3f}{ci:>16}{p:>10}  {r['verdict']}"
                )
        g = gate.geometric_mean_ratio(block)
        lines.append(
            f"geometric mean {label}/A: {g:.3f} ({_fmt_pct(g)}) over "
            f"{len(block)} configuration{'s' if len(block) != 1 else ''}"
        )
    tested = table["p_value"].notna()
    few = int((~tested).sum())
    lines.append("")
    n = int(tested.sum())
    lines.append(
        f"gate: Holm over {n} configuration{'s' if n != 1 else ''} (family-wise false alarms "
        f"<= {gate.ALPHA:.0%}), drift allowance {100 * drift:g}% between runs"
    )
    if tested.any():
        lines.append(
            "smallest difference these repeats can call significant: "
            f"{table.loc[tested, 'detectable_pct'].min():.1f}% "
            f"(median over configurations {table.loc[tested, 'detectable_pct'].median():.1f}%)"
        )
    if few:
        lines.append(
            f"{few} configuration(s) with fewer than 2 repeats a side: not enough repeats "
            "to test (run 3 or more)"
        )
    return "\n".join(lines).lstrip("\n")


def _ignore_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if name not in BY_NAME:
            raise SpecError(
                f"--ignore {name}: not a workload axis{did_you_mean(name, BY_NAME)}; "
                f"allowed: {', '.join(BY_NAME)}"
            )
    return names


def _runs(args: argparse.Namespace) -> tuple[store.Run, list[store.Run]]:

    paths: list[Path] = list(args.runs)
    if args.baseline is not None:
        root = args.results if args.results is not None else paths[0].resolve().parent
        ref_path = baselines.resolve(root, args.baseline, paths[0])
        return store.load(ref_path), [store.load(p) for p in paths]
    if len(paths) < 2:
        raise SpecError(
            "compare: give two runs or more (the first is the reference), or one "
            "with --baseline NAME"
        )
    return store.load(paths[0]), [store.load(p) for p in paths[1:]]


def cmd_compare(args: argparse.Namespace) -> int:
    if args.fail_above is not None and not (
        args.fail_above >= 0 and math.isfinite(args.fail_above)
    ):
        raise SpecError(f"--fail-above {args.fail_above}: give a percentage >= 0")
    if not (0 <= args.drift < 100 and math.isfinite(args.drift)):
        raise SpecError(f"--drift {args.drift}: give a percentage from 0 to less than 100")
    if args.chart is not None and args.chart.suffix not in (".png", ".svg"):
        raise SpecError(f"--chart {args.chart}: the file name must end in .png or .svg")
    ignore = _ignore_list(args.ignore)
    ref, others = _runs(args)
    drift = args.drift / 100
    table = compare_many(ref, others, ignore, drift)
    print(f"A: {ref.path}")
    for label, other in zip(table["run"].unique(), others, strict=False):
        print(f"{label}: {other.path}")
    print(format_comparison(table, drift))
    if args.chart is not None:
        shown = (
            table
            if len(others) == 1
            else table.assign(workload=table["run"] + "/A: " + table["workload"])
        )
        compare_chart(
            shown, args.chart, label_a=ref.run_id, label_b=", ".join(o.run_id for o in others)
        )
        print(f"chart: {args.chart}")
    if args.fail_above is not None:
        bad = gate.regressions(table, args.fail_above)
        if not bad.empty:
            print(
                f"{len(bad)} configuration(s) significantly slower by more than "
                f"{args.fail_above:g}%"
            )
            return 1  # bench.cli.EXIT_FAILED: the one status that means a regression
    return 0
